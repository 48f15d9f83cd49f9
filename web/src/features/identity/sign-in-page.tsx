import {
  Alert,
  Anchor,
  Box,
  Button,
  Center,
  Group,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconAlertTriangle, IconClockPause, IconFaceId, IconLock, IconUser } from '@tabler/icons-react';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation } from 'react-router-dom';
import { ApiError, errorMessage, retryText } from '../../app/api.ts';
import { useAuth } from '../../app/auth.tsx';
import { Logo } from '../../app/logo.tsx';

export function SignInPage() {
  const { signIn } = useAuth();
  const location = useLocation();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [lockedUntil, setLockedUntil] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());

  // Count the rate-limit wait down so the user knows when to try again.
  useEffect(() => {
    if (!lockedUntil) return;
    const t = setInterval(() => {
      const n = Date.now();
      setNow(n);
      if (n >= lockedUntil) setLockedUntil(null);
    }, 1000);
    return () => clearInterval(t);
  }, [lockedUntil]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!login.trim() || !password) {
      setError(new Error('Enter your username or email and your password.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(login.trim(), password);
    } catch (err) {
      setError(err);
      if (err instanceof ApiError && err.status === 429 && err.retryAfterSeconds) {
        setLockedUntil(Date.now() + err.retryAfterSeconds * 1000);
        setNow(Date.now());
      }
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  const rateLimited = error instanceof ApiError && error.status === 429;
  const waitSeconds = lockedUntil ? Math.max(0, Math.ceil((lockedUntil - now) / 1000)) : 0;

  return (
    <Box mih="100vh" style={{ background: 'var(--aula-sign-in-bg)' }}>
      <Center mih="100vh" p="md">
        <Stack w="100%" maw={420} gap="lg">
          <Center>
            <Logo size="lg" />
          </Center>
          <Paper p={32} radius="lg" shadow="md" bg="var(--aula-card-bg)">
            <form onSubmit={(e) => void submit(e)} noValidate aria-label="Sign in">
              <Stack gap="md">
                <div>
                  <Title order={2} fz={22}>
                    Sign in
                  </Title>
                  <Text c="dimmed" size="sm" mt={4}>
                    Use your username or email address.
                  </Text>
                </div>

                {error ? (
                  <Alert
                    color={rateLimited ? 'orange' : 'red'}
                    variant="light"
                    icon={rateLimited ? <IconClockPause size={18} /> : <IconAlertTriangle size={18} />}
                    role="alert"
                    data-testid="sign-in-error"
                  >
                    {rateLimited ? (
                      <>
                        <Text fw={600} size="sm">
                          Too many sign-in attempts
                        </Text>
                        <Text size="sm">
                          {waitSeconds > 0
                            ? `For your security, sign-in is paused: ${retryText(waitSeconds)}.`
                            : 'You can try again now.'}
                        </Text>
                      </>
                    ) : (
                      errorMessage(error)
                    )}
                  </Alert>
                ) : null}

                <TextInput
                  label="Username or email"
                  name="login"
                  autoComplete="username"
                  autoFocus
                  leftSection={<IconUser size={16} stroke={1.6} />}
                  value={login}
                  onChange={(e) => {
                    setLogin(e.currentTarget.value);
                    // The wait belongs to the account just tried; another one may sign in.
                    if (lockedUntil) {
                      setLockedUntil(null);
                      setError(null);
                    }
                  }}
                  required
                  size="md"
                />
                <PasswordInput
                  label="Password"
                  name="password"
                  autoComplete="current-password"
                  leftSection={<IconLock size={16} stroke={1.6} />}
                  value={password}
                  onChange={(e) => setPassword(e.currentTarget.value)}
                  required
                  size="md"
                />
                <Group justify="flex-end" mt={-8}>
                  <Anchor component={Link} to="/forgot-password" size="sm">
                    Forgot password?
                  </Anchor>
                </Group>
                <Button type="submit" size="md" loading={busy} fullWidth mt="xs">
                  Sign in
                </Button>
                <Button
                  component={Link}
                  to={`/sign-in/face${location.search}`}
                  variant="default"
                  size="md"
                  fullWidth
                  leftSection={<IconFaceId size={18} stroke={1.6} />}
                >
                  Sign in with your face
                </Button>
              </Stack>
            </form>
          </Paper>
          <Group justify="center">
            <Text size="xs" c="dimmed">
              Aula · self-hosted classroom platform
            </Text>
          </Group>
        </Stack>
      </Center>
    </Box>
  );
}
