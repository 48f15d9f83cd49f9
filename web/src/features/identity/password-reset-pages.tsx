import { Alert, Anchor, Button, PasswordInput, Stack, TextInput } from '@mantine/core';
import { IconCircleCheck, IconLock, IconMail } from '@tabler/icons-react';
import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useLocation } from 'react-router-dom';
import { ApiError, errorMessage, retryText } from '../../app/api.ts';
import { AuthFrame } from '../../app/auth-frame.tsx';
import { identityApi } from './api.ts';

function Frame({ title, subtitle, children }: { title: string; subtitle: string; children: ReactNode }) {
  const back = (
    <Anchor component={Link} to="/sign-in" size="sm">
      Back to sign in
    </Anchor>
  );
  return (
    <AuthFrame title={title} subtitle={subtitle} footer={back}>
      {children}
    </AuthFrame>
  );
}

function problemText(err: unknown): string {
  if (err instanceof ApiError && err.status === 429 && err.retryAfterSeconds) {
    return `Too many requests; try again ${retryText(err.retryAfterSeconds)}.`;
  }
  return errorMessage(err);
}

/** "Forgot password": asks for the address; the answer never says whether an account has it. */
export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!email.trim()) {
      setError(new Error('Enter the email address of your account.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await identityApi.requestPasswordReset(email.trim());
      setSent(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Frame title="Forgot your password?" subtitle="We will email you a link to choose a new one.">
      {sent ? (
        <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} role="status" data-testid="reset-sent">
          If an account uses that address, a link to reset its password is on its way. The link works once and expires
          soon; check your spam folder if it does not arrive.
        </Alert>
      ) : (
        <form onSubmit={(e) => void submit(e)} noValidate aria-label="Forgot password">
          <Stack gap="md">
            {error ? (
              <Alert color="red" variant="light" role="alert">
                {problemText(error)}
              </Alert>
            ) : null}
            <TextInput
              label="Email"
              name="email"
              type="email"
              autoComplete="email"
              autoFocus
              leftSection={<IconMail size={16} stroke={1.6} />}
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
              required
              size="md"
            />
            <Button type="submit" size="md" loading={busy} fullWidth>
              Send the link
            </Button>
          </Stack>
        </form>
      )}
    </Frame>
  );
}

/** The page the mailed link opens; the token is in the fragment, which browsers never send to a server. */
export function ResetPasswordPage() {
  const location = useLocation();
  const token = useMemo(() => new URLSearchParams(location.hash.replace(/^#/, '')).get('token') ?? '', [location.hash]);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password.length < 8) return setError(new Error('The new password needs at least 8 characters.'));
    if (password !== confirm) return setError(new Error('The passwords do not match.'));
    setBusy(true);
    setError(null);
    try {
      await identityApi.resetPassword(token, password);
      setDone(true);
      // The token is spent: keep it out of the history.
      window.history.replaceState(null, '', location.pathname);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (!token && !done) {
    return (
      <Frame title="Reset your password" subtitle="This page needs the link from the reset email.">
        <Alert color="orange" variant="light" role="alert">
          The link is incomplete. Open it again from the email, or{' '}
          <Anchor component={Link} to="/forgot-password">
            ask for a new one
          </Anchor>
          .
        </Alert>
      </Frame>
    );
  }

  return (
    <Frame title="Choose a new password" subtitle="Every device signed in to your account will be signed out.">
      {done ? (
        <Stack gap="md">
          <Alert
            color="teal"
            variant="light"
            icon={<IconCircleCheck size={18} />}
            role="status"
            data-testid="reset-done"
          >
            Your password is changed. Sign in with the new one.
          </Alert>
          <Button component={Link} to="/sign-in" size="md" fullWidth>
            Sign in
          </Button>
        </Stack>
      ) : (
        <form onSubmit={(e) => void submit(e)} noValidate aria-label="Reset password">
          <Stack gap="md">
            {error ? (
              <Alert color="red" variant="light" role="alert">
                {error instanceof ApiError && error.code === 'invalid_reset_link' ? (
                  <>
                    {error.detail}.{' '}
                    <Anchor component={Link} to="/forgot-password">
                      Ask for a new link
                    </Anchor>
                    .
                  </>
                ) : (
                  problemText(error)
                )}
              </Alert>
            ) : null}
            <PasswordInput
              label="New password"
              name="new-password"
              autoComplete="new-password"
              autoFocus
              leftSection={<IconLock size={16} stroke={1.6} />}
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
              required
              size="md"
            />
            <PasswordInput
              label="Repeat new password"
              name="confirm-password"
              autoComplete="new-password"
              leftSection={<IconLock size={16} stroke={1.6} />}
              value={confirm}
              onChange={(e) => setConfirm(e.currentTarget.value)}
              required
              size="md"
            />
            <Button type="submit" size="md" loading={busy} fullWidth>
              Set the new password
            </Button>
          </Stack>
        </form>
      )}
    </Frame>
  );
}
