import { Alert, Badge, Box, Button, Group, Loader, Stack, Text } from '@mantine/core';
import { IconCameraOff, IconPlayerPlay, IconPlayerStop } from '@tabler/icons-react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from '../../app/api.ts';
import { attendanceApi, type Frame } from './api.ts';
import { FaceOverlay } from './face-overlay.tsx';

type CameraState = { kind: 'off' } | { kind: 'starting' } | { kind: 'live' } | { kind: 'failed'; message: string };

function cameraMessage(err: unknown): string {
  const name = (err as { name?: string })?.name;
  if (name === 'NotAllowedError')
    return 'Camera access was refused. Allow the camera in your browser to take attendance.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No camera was found on this device.';
  if (name === 'NotReadableError') return 'The camera is in use by another application.';
  return 'The camera could not be started.';
}

const DEFAULT_INTERVAL_MS = 5000;

/**
 * "Take attendance": while running, sends the camera's current frame every few seconds (the
 * server says how often) and draws the faces it found, with names, over the video. The roster
 * beside it fills in over Socket.IO.
 */
export function LiveCamera({ sessionId, disabled }: { sessionId: string; disabled?: boolean }) {
  const video = useRef<HTMLVideoElement>(null);
  const stream = useRef<MediaStream | null>(null);
  const [state, setState] = useState<CameraState>({ kind: 'off' });
  const [frame, setFrame] = useState<Frame | null>(null);
  const [sent, setSent] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const stop = useCallback(() => {
    stream.current?.getTracks().forEach((t) => t.stop());
    stream.current = null;
    setState({ kind: 'off' });
  }, []);

  const start = async () => {
    setError(null);
    if (!navigator.mediaDevices?.getUserMedia) {
      setState({
        kind: 'failed',
        message: 'This browser cannot use a camera here (a secure https address is needed).',
      });
      return;
    }
    setState({ kind: 'starting' });
    try {
      const s = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      });
      stream.current = s;
      if (video.current) {
        video.current.srcObject = s;
        await video.current.play().catch(() => {});
      }
      setState({ kind: 'live' });
    } catch (err) {
      setState({ kind: 'failed', message: cameraMessage(err) });
    }
  };

  // The camera light goes off when the page is left.
  useEffect(() => stop, [stop]);

  useEffect(() => {
    if (state.kind !== 'live') return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const abort = new AbortController();
    const tick = async () => {
      const v = video.current;
      let next = DEFAULT_INTERVAL_MS;
      if (v && v.videoWidth) {
        const canvas = document.createElement('canvas');
        canvas.width = v.videoWidth;
        canvas.height = v.videoHeight;
        canvas.getContext('2d')?.drawImage(v, 0, 0);
        const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/jpeg', 0.9));
        if (blob && !cancelled) {
          setBusy(true);
          try {
            const r = await attendanceApi.sendFrame(sessionId, blob, abort.signal);
            if (cancelled) return;
            setFrame(r.frame);
            setSent((n) => n + 1);
            setError(null);
            next = r.intervalMs;
          } catch (err) {
            if (cancelled || (err as Error).name === 'AbortError') return;
            setError(errorMessage(err));
          } finally {
            if (!cancelled) setBusy(false);
          }
        }
      }
      if (!cancelled) timer = setTimeout(() => void tick(), next);
    };
    void tick();
    return () => {
      cancelled = true;
      abort.abort();
      clearTimeout(timer);
    };
  }, [state.kind, sessionId]);

  const live = state.kind === 'live';
  return (
    <Stack gap="sm">
      <Box
        bg="dark.7"
        style={{ position: 'relative', borderRadius: 8, overflow: 'hidden', aspectRatio: '16 / 9', maxWidth: 960 }}
      >
        <video
          ref={video}
          muted
          playsInline
          aria-label="Camera preview"
          style={{ width: '100%', height: '100%', objectFit: 'contain', display: live ? 'block' : 'none' }}
        />
        {live && frame && <FaceOverlay faces={frame.faces} width={frame.width} height={frame.height} />}
        {state.kind === 'starting' && (
          <Group justify="center" style={{ position: 'absolute', inset: 0 }}>
            <Loader color="gray" />
          </Group>
        )}
        {state.kind !== 'live' && state.kind !== 'starting' && (
          <Group justify="center" style={{ position: 'absolute', inset: 0 }}>
            <Text c="gray.4" size="sm">
              Camera off
            </Text>
          </Group>
        )}
      </Box>
      {state.kind === 'failed' && (
        <Alert color="orange" variant="light" icon={<IconCameraOff size={18} />} role="alert">
          {state.message}
        </Alert>
      )}
      {error && (
        <Alert color="red" variant="light" role="alert">
          {error}
        </Alert>
      )}
      <Group gap="sm">
        {live ? (
          <Button color="red" variant="light" leftSection={<IconPlayerStop size={18} />} onClick={stop}>
            Stop
          </Button>
        ) : (
          <Button
            leftSection={<IconPlayerPlay size={18} />}
            onClick={() => void start()}
            loading={state.kind === 'starting'}
            disabled={disabled}
          >
            Start camera
          </Button>
        )}
        {live && (
          <Badge variant="light" color={busy ? 'blue' : 'teal'} data-testid="frames-sent">
            {sent} frame{sent === 1 ? '' : 's'} sent
          </Badge>
        )}
        {live && frame && (
          <Text size="sm" c="dimmed">
            Last frame: {frame.faces.length} face(s)
            {frame.faces.some((f) => f.known)
              ? ` — ${frame.faces
                  .filter((f) => f.known)
                  .map((f) => f.name)
                  .join(', ')}`
              : ''}
          </Text>
        )}
      </Group>
    </Stack>
  );
}
