#!/usr/bin/env bash
# Installs the Debian packages Aula's tests and media features use, only where missing:
#   chromium          browser tests (playwright-core drives Debian's build; no browser download)
#   ffmpeg            video frames for attendance and synthetic test videos
#   apertium-eng-spa  offline es<->en translation
#   python3-grpcio    a second, independent gRPC client for the ingest tests
#   python3-protobuf  its message classes (built from descriptors at test time)
# Usage: scripts/setup-system.sh [--quiet]
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v apertium >/dev/null 2>&1 || missing+=(apertium)
[ -d /usr/share/apertium/apertium-eng-spa ] || missing+=(apertium-eng-spa)
/usr/bin/python3 -c 'import grpc' >/dev/null 2>&1 || missing+=(python3-grpcio)
/usr/bin/python3 -c 'import google.protobuf' >/dev/null 2>&1 || missing+=(python3-protobuf)

if [ ${#missing[@]} -eq 0 ]; then
  [ "${1:-}" = "--quiet" ] || echo "system packages: all present"
  exit 0
fi

echo "system packages: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "Please install as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: done"
