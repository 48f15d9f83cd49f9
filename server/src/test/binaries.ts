import { spawnSync } from 'node:child_process';

/**
 * Fails, with a message that says what to install, when a program the tests drive (ffmpeg,
 * ffprobe…) is missing. Unlike a database server, a missing program is never a reason to skip:
 * `npm test` installs them (scripts/setup-system.sh), so their absence is a broken setup.
 */
export function requireBinaries(...names: string[]): void {
  const missing = names.filter((n) => spawnSync(n, ['-version'], { stdio: 'ignore' }).error);
  if (missing.length) {
    throw new Error(`${missing.join(', ')} not found on PATH: run scripts/setup-system.sh (npm test does it)`);
  }
}
