import { Alert, Anchor, Button, FileButton, Group } from '@mantine/core';
import { IconAlertTriangle, IconPhotoUp } from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router-dom';
import { ApiError, errorMessage } from '../../app/api.ts';
import { AuthFrame } from '../../app/auth-frame.tsx';
import { ME_KEY, useAuth } from '../../app/auth.tsx';
import { FullScreenLoader } from '../../app/page-states.tsx';
import type { Me } from '../identity/api.ts';
import { facesApi } from './api.ts';
import { WebcamCapture } from './webcam-capture.tsx';

const REASONS: Record<string, string> = {
  no_face: 'No face was found. Look at the camera, in good light, and try again.',
  liveness_failed: 'That did not look like a live face. Use the camera itself rather than a photo or a screen.',
  face_not_recognized:
    'Your face was not recognized. Sign in with your password, enroll your face on your profile and turn face sign-in on.',
};

function safeNext(search: string): string {
  const next = new URLSearchParams(search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

/** Sign-in with the camera (or a photo) for users who enrolled their face and agreed to it. */
export function FaceSignInPage() {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (photo: Blob, filename?: string) => {
    setBusy(true);
    setError(null);
    try {
      const { face: _face, ...user } = await facesApi.signIn(photo, filename);
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== ME_KEY[0] });
      qc.setQueryData<Me>(ME_KEY, user);
      void navigate(safeNext(location.search), { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const reason = error instanceof ApiError ? REASONS[error.code] : undefined;
  return (
    <AuthFrame
      title="Sign in with your face"
      subtitle="Look at the camera and press the button. Only people who turned face sign-in on can use it."
      width={520}
    >
      {error ? (
        <Alert
          color="red"
          variant="light"
          icon={<IconAlertTriangle size={18} />}
          role="alert"
          data-testid="face-sign-in-error"
        >
          {reason ?? errorMessage(error)}
        </Alert>
      ) : null}
      <WebcamCapture captureLabel="Sign in with my face" busy={busy} onCapture={(photo) => submit(photo)} />
      <Group justify="space-between">
        <FileButton accept="image/jpeg,image/png,image/webp" onChange={(f) => f && void submit(f, f.name)}>
          {(props) => (
            <Button {...props} variant="subtle" leftSection={<IconPhotoUp size={16} />} disabled={busy}>
              Use a photo instead
            </Button>
          )}
        </FileButton>
        <Anchor component={Link} to={`/sign-in${location.search}`} size="sm">
          Sign in with a password
        </Anchor>
      </Group>
    </AuthFrame>
  );
}

/** The public route: a signed-in user goes on to where they were headed. */
export function FaceSignInRoute() {
  const { user } = useAuth();
  const location = useLocation();
  if (user) return <Navigate to={safeNext(location.search)} replace />;
  if (user === undefined) return <FullScreenLoader />;
  return <FaceSignInPage />;
}
