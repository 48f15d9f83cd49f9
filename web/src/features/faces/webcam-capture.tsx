import { Alert, AspectRatio, Box, Button, Group, Loader, Stack, Text } from '@mantine/core';
import { IconCamera, IconCameraOff } from '@tabler/icons-react';
import { useEffect, useRef, useState } from 'react';

interface WebcamCaptureProps {
  /** Called with a JPEG of the current frame. */
  onCapture: (jpeg: Blob) => void | Promise<void>;
  captureLabel: string;
  busy?: boolean;
}

type CameraState = { kind: 'starting' } | { kind: 'live' } | { kind: 'failed'; message: string };

function cameraMessage(err: unknown): string {
  const name = (err as { name?: string })?.name;
  if (name === 'NotAllowedError') return 'Camera access was refused. Allow the camera in your browser to continue.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No camera was found on this device.';
  if (name === 'NotReadableError') return 'The camera is in use by another application.';
  return 'The camera could not be started.';
}

/** A live camera preview; the button grabs the current frame as a JPEG (getUserMedia → canvas). */
export function WebcamCapture({ onCapture, captureLabel, busy }: WebcamCaptureProps) {
  const video = useRef<HTMLVideoElement>(null);
  const [state, setState] = useState<CameraState>({ kind: 'starting' });

  useEffect(() => {
    let stream: MediaStream | undefined;
    let cancelled = false;
    if (!navigator.mediaDevices?.getUserMedia) {
      setState({
        kind: 'failed',
        message: 'This browser cannot use a camera here (a secure https address is needed).',
      });
      return;
    }
    navigator.mediaDevices
      .getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' }, audio: false })
      .then(async (s) => {
        if (cancelled) {
          s.getTracks().forEach((t) => t.stop());
          return;
        }
        stream = s;
        const v = video.current;
        if (!v) return;
        v.srcObject = s;
        await v.play().catch(() => {});
        setState({ kind: 'live' });
      })
      .catch((err: unknown) => !cancelled && setState({ kind: 'failed', message: cameraMessage(err) }));
    // The camera light goes off as soon as the component leaves the page.
    return () => {
      cancelled = true;
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, []);

  const capture = async () => {
    const v = video.current;
    if (!v || !v.videoWidth) return;
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext('2d')?.drawImage(v, 0, 0);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92));
    if (blob) await onCapture(blob);
  };

  return (
    <Stack gap="sm">
      <AspectRatio ratio={4 / 3} maw={480} w="100%">
        <Box bg="dark.7" style={{ borderRadius: 8, overflow: 'hidden', position: 'relative' }}>
          <video
            ref={video}
            muted
            playsInline
            aria-label="Camera preview"
            style={{ width: '100%', height: '100%', objectFit: 'cover', transform: 'scaleX(-1)' }}
          />
          {state.kind === 'starting' && (
            <Group justify="center" style={{ position: 'absolute', inset: 0 }}>
              <Loader color="gray" />
            </Group>
          )}
        </Box>
      </AspectRatio>
      {state.kind === 'failed' ? (
        <Alert color="orange" variant="light" icon={<IconCameraOff size={18} />} role="alert">
          <Text size="sm">{state.message}</Text>
        </Alert>
      ) : (
        <Button
          leftSection={<IconCamera size={18} />}
          onClick={() => void capture()}
          disabled={state.kind !== 'live'}
          loading={busy}
          maw={480}
        >
          {captureLabel}
        </Button>
      )}
    </Stack>
  );
}
