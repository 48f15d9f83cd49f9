import {
  Avatar,
  Badge,
  Button,
  Card,
  Grid,
  Group,
  PasswordInput,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconFaceId, IconLogout2, IconPhotoUp } from '@tabler/icons-react';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { useAuth, useUser } from '../../app/auth.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { FileDropzone } from '../../components/file-dropzone.tsx';
import { useConfirm } from '../../components/confirm-dialog.tsx';
import { useFormState } from '../../components/form-state.ts';
import { formatDate } from '../../components/format.ts';
import { notifyError, notifySuccess } from '../../components/notify.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { FaceEnrollmentCard } from '../faces/face-enrollment-card.tsx';
import { identityApi, ROLE_COLORS, ROLE_LABELS } from './api.ts';
import { bumpPhotoVersion, usePhotoSrc } from './user-avatar.tsx';

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/heic', 'image/heif', 'image/avif'];

export function ProfilePage() {
  const user = useUser();
  return (
    <>
      <PageHeader title="Profile" description="Your name, photo, password and sign-in preferences." />
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack gap="lg">
            <PhotoCard />
            <FaceLoginCard />
            <FaceEnrollmentCard />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack gap="lg">
            <DetailsCard key={user.id} />
            <PasswordCard />
            <SessionsCard />
          </Stack>
        </Grid.Col>
      </Grid>
    </>
  );
}

function PhotoCard() {
  const user = useUser();
  const { setUser } = useAuth();
  const current = usePhotoSrc(user.id, user.hasPhoto, 'full');
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);

  useEffect(() => {
    if (!file) return setPreview(null);
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);

  const upload = useMutation({
    mutationFn: (f: File) => identityApi.uploadPhoto(f),
    onSuccess: (u) => {
      setUser({ hasPhoto: u.hasPhoto });
      bumpPhotoVersion(u.id);
      setFile(null);
      notifySuccess('Your new photo is saved', 'Photo updated');
    },
  });

  return (
    <Card padding="lg" radius="md">
      <Group gap="lg" wrap="nowrap" align="center">
        <Avatar
          src={preview ?? current}
          name={user.fullName}
          color="initials"
          size={112}
          radius={112}
          alt="Profile photo"
        />
        <div style={{ minWidth: 0 }}>
          <Title order={3} fz="lg" lineClamp={2}>
            {user.fullName}
          </Title>
          <Text size="sm" c="dimmed">
            @{user.username}
          </Text>
          <Group gap={6} mt={8}>
            <Badge variant="light" color={ROLE_COLORS[user.role]}>
              {ROLE_LABELS[user.role]}
            </Badge>
            {user.studentCode && (
              <Badge variant="outline" color="gray" ff="monospace">
                {user.studentCode}
              </Badge>
            )}
          </Group>
          <Text size="xs" c="dimmed" mt={8}>
            Member since {formatDate(user.createdAt)}
          </Text>
        </div>
      </Group>

      <FileDropzone
        mt="lg"
        onFiles={(files) => {
          upload.reset();
          setFile(files[0] ?? null);
        }}
        accept={IMAGE_TYPES}
        maxSize={25 * 1024 * 1024}
        multiple={false}
        title={file ? file.name : 'Drop a photo here or click to choose'}
        hint={
          file
            ? 'Preview shown above. Save to use it.'
            : 'JPEG, PNG, WebP or HEIC, up to 25 MB. A clear, front-facing photo works best.'
        }
        expects="an image up to 25 MB"
        icon={<IconPhotoUp size={36} stroke={1.3} opacity={0.6} />}
        inputTestId="photo-input"
      />
      {upload.error ? <ErrorAlert error={upload.error} mt="sm" /> : null}
      {file && (
        <Group justify="flex-end" mt="sm">
          <Button variant="default" onClick={() => setFile(null)} disabled={upload.isPending}>
            Cancel
          </Button>
          <Button onClick={() => upload.mutate(file)} loading={upload.isPending}>
            Save photo
          </Button>
        </Group>
      )}
    </Card>
  );
}

function FaceLoginCard() {
  const user = useUser();
  const { setUser } = useAuth();
  const toggle = useMutation({
    mutationFn: (consent: boolean) => identityApi.updateMe({ faceLoginConsent: consent }),
    onSuccess: (u) => {
      setUser({ faceLoginConsent: u.faceLoginConsent });
      notifySuccess(u.faceLoginConsent ? 'You can now sign in with your face' : 'Face sign-in is off');
    },
    onError: (err) => notifyError(err, 'Could not change face sign-in'),
  });
  return (
    <Card padding="lg" radius="md">
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <Group gap="sm" wrap="nowrap" align="flex-start">
          <IconFaceId size={28} stroke={1.4} style={{ flexShrink: 0 }} />
          <div>
            <Text fw={600}>Sign in with my face</Text>
            <Text size="sm" c="dimmed" mt={2}>
              Allow Aula to compare a live camera image with your enrolled face to sign you in. You can withdraw consent
              at any time.
            </Text>
          </div>
        </Group>
        <Switch
          size="md"
          aria-label="Face sign-in consent"
          checked={user.faceLoginConsent}
          disabled={toggle.isPending}
          onChange={(e) => toggle.mutate(e.currentTarget.checked)}
        />
      </Group>
    </Card>
  );
}

function DetailsCard() {
  const user = useUser();
  const { setUser } = useAuth();
  const form = useFormState({ fullName: user.fullName, email: user.email });
  const save = useMutation({
    mutationFn: (v: { fullName: string; email: string }) => {
      const patch: { fullName?: string; email?: string } = {};
      if (v.fullName.trim() !== user.fullName) patch.fullName = v.fullName.trim();
      if (v.email.trim() !== user.email) patch.email = v.email.trim();
      return identityApi.updateMe(patch);
    },
    onSuccess: (u) => {
      setUser({ fullName: u.fullName, email: u.email });
      form.reset({ fullName: u.fullName, email: u.email });
      notifySuccess('Your details are saved');
    },
    onError: (err) => form.applyError(err),
  });
  const dirty = form.values.fullName.trim() !== user.fullName || form.values.email.trim() !== user.email;

  return (
    <Card padding="lg" radius="md">
      <Title order={3} fz="md" mb="md">
        Your details
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          form.clearErrors();
          save.mutate(form.values);
        }}
        noValidate
      >
        <Stack gap="sm">
          {form.formError ? <ErrorAlert error={form.formError} /> : null}
          <TextInput
            label="Full name"
            value={form.values.fullName}
            error={form.errors.fullName}
            onChange={(e) => form.set('fullName', e.currentTarget.value)}
          />
          <TextInput
            label="Email"
            type="email"
            value={form.values.email}
            error={form.errors.email}
            onChange={(e) => form.set('email', e.currentTarget.value)}
          />
          <TextInput label="Username" value={user.username} disabled description="Ask an administrator to change it" />
          <Group justify="flex-end">
            <Button type="submit" loading={save.isPending} disabled={!dirty}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

function PasswordCard() {
  const form = useFormState({ currentPassword: '', newPassword: '', confirm: '' });
  const save = useMutation({
    mutationFn: (v: { currentPassword: string; newPassword: string }) =>
      identityApi.changePassword(v.currentPassword, v.newPassword),
    onSuccess: () => {
      form.reset({ currentPassword: '', newPassword: '', confirm: '' });
      notifySuccess('Other devices were signed out', 'Password changed');
    },
    onError: (err) => form.applyError(err),
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = form.values;
    const errors: Record<string, string> = {};
    if (!v.currentPassword) errors.currentPassword = 'Enter your current password';
    if (v.newPassword.length < 8) errors.newPassword = 'At least 8 characters';
    if (v.confirm !== v.newPassword) errors.confirm = 'The passwords do not match';
    if (Object.keys(errors).length) return form.setErrors(errors);
    form.clearErrors();
    save.mutate({ currentPassword: v.currentPassword, newPassword: v.newPassword });
  };

  return (
    <Card padding="lg" radius="md">
      <Title order={3} fz="md" mb={4}>
        Change password
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        Changing it signs you out on every other device.
      </Text>
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          {form.formError ? <ErrorAlert error={form.formError} /> : null}
          <PasswordInput
            label="Current password"
            autoComplete="current-password"
            value={form.values.currentPassword}
            error={form.errors.currentPassword}
            onChange={(e) => form.set('currentPassword', e.currentTarget.value)}
          />
          <Group grow align="flex-start">
            <PasswordInput
              label="New password"
              autoComplete="new-password"
              value={form.values.newPassword}
              error={form.errors.newPassword}
              onChange={(e) => form.set('newPassword', e.currentTarget.value)}
            />
            <PasswordInput
              label="Repeat new password"
              autoComplete="new-password"
              value={form.values.confirm}
              error={form.errors.confirm}
              onChange={(e) => form.set('confirm', e.currentTarget.value)}
            />
          </Group>
          <Group justify="flex-end">
            <Button type="submit" loading={save.isPending}>
              Change password
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

function SessionsCard() {
  const { signOutEverywhere } = useAuth();
  const navigate = useNavigate();
  const [dialog, confirm] = useConfirm();
  return (
    <Card padding="lg" radius="md">
      {dialog}
      <Title order={3} fz="md" mb={4}>
        Sessions
      </Title>
      <Text size="sm" c="dimmed" mb="md">
        Lost a device, or signed in on a shared computer? End every session of your account, this one included. API
        tokens are not affected.
      </Text>
      <Group justify="flex-end">
        <Button
          color="red"
          variant="light"
          leftSection={<IconLogout2 size={16} />}
          onClick={() =>
            confirm({
              title: 'Sign out everywhere?',
              message: 'This ends every session of your account, on this and all other devices.',
              confirmLabel: 'Sign out everywhere',
              danger: true,
              onConfirm: async () => {
                const n = await signOutEverywhere();
                notifySuccess(`Ended ${n} session${n === 1 ? '' : 's'}`, 'Signed out everywhere');
                await navigate('/sign-in', { replace: true });
              },
            })
          }
        >
          Sign out everywhere
        </Button>
      </Group>
    </Card>
  );
}
