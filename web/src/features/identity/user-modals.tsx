import {
  ActionIcon,
  Button,
  CopyButton,
  Group,
  Modal,
  PasswordInput,
  SegmentedControl,
  Stack,
  Switch,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { IconCheck, IconCopy, IconDice5 } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, type FormEvent } from 'react';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { useFormState } from '../../components/form-state.ts';
import { notifySuccess } from '../../components/notify.ts';
import { identityApi, ROLE_LABELS, ROLES, type Role, type User, type UserPatch } from './api.ts';

/** A readable random password: 16 characters without look-alikes. */
export function generatePassword(length = 16): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = new Uint32Array(length);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

function PasswordWithGenerator(props: {
  label: string;
  description?: string;
  value: string;
  error?: string;
  onChange: (v: string) => void;
  required?: boolean;
}) {
  return (
    <PasswordInput
      label={props.label}
      description={props.description}
      value={props.value}
      error={props.error}
      required={props.required}
      autoComplete="new-password"
      onChange={(e) => props.onChange(e.currentTarget.value)}
      rightSectionWidth={68}
      rightSection={
        <Group gap={2} wrap="nowrap">
          <Tooltip label="Generate a password">
            <ActionIcon
              variant="subtle"
              size="sm"
              aria-label="Generate a password"
              onClick={() => props.onChange(generatePassword())}
            >
              <IconDice5 size={16} />
            </ActionIcon>
          </Tooltip>
          <CopyButton value={props.value}>
            {({ copied, copy }) => (
              <Tooltip label={copied ? 'Copied' : 'Copy'}>
                <ActionIcon
                  variant="subtle"
                  size="sm"
                  aria-label="Copy password"
                  onClick={copy}
                  disabled={!props.value}
                >
                  {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                </ActionIcon>
              </Tooltip>
            )}
          </CopyButton>
        </Group>
      }
    />
  );
}

interface UserFormValues {
  username: string;
  email: string;
  fullName: string;
  role: Role;
  studentCode: string;
  password: string;
  disabled: boolean;
}

const emptyUser: UserFormValues = {
  username: '',
  email: '',
  fullName: '',
  role: 'student',
  studentCode: '',
  password: '',
  disabled: false,
};

/** Create (no `user`) or edit (with `user`) an account. */
export function UserFormModal({ opened, onClose, user }: { opened: boolean; onClose: () => void; user?: User | null }) {
  const qc = useQueryClient();
  const editing = !!user;
  const form = useFormState<UserFormValues>(emptyUser);
  const { reset } = form;

  useEffect(() => {
    if (!opened) return;
    reset(
      user
        ? {
            username: user.username,
            email: user.email,
            fullName: user.fullName,
            role: user.role,
            studentCode: user.studentCode ?? '',
            password: '',
            disabled: user.disabled,
          }
        : emptyUser,
    );
  }, [opened, user, reset]);

  const save = useMutation({
    mutationFn: async (v: UserFormValues) => {
      if (user) {
        const patch: UserPatch = {};
        if (v.email.trim() !== user.email) patch.email = v.email.trim();
        if (v.fullName.trim() !== user.fullName) patch.fullName = v.fullName.trim();
        if (v.role !== user.role) patch.role = v.role;
        const code = v.studentCode.trim() || null;
        if (code !== user.studentCode) patch.studentCode = code;
        if (v.disabled !== user.disabled) patch.disabled = v.disabled;
        return identityApi.updateUser(user.id, patch);
      }
      return identityApi.createUser({
        username: v.username.trim(),
        email: v.email.trim(),
        fullName: v.fullName.trim(),
        role: v.role,
        ...(v.password ? { password: v.password } : {}),
        ...(v.studentCode.trim() ? { studentCode: v.studentCode.trim() } : {}),
      });
    },
    onSuccess: async (u) => {
      notifySuccess(
        editing ? `${u.fullName} was updated` : `${u.fullName} can now sign in as ${u.username}`,
        editing ? 'Saved' : 'User created',
      );
      await qc.invalidateQueries({ queryKey: ['users'] });
      onClose();
    },
    onError: (err) => form.applyError(err),
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    form.clearErrors();
    save.mutate(form.values);
  };

  const v = form.values;
  return (
    <Modal
      opened={opened}
      onClose={onClose}
      title={<Text fw={650}>{editing ? `Edit ${user.fullName}` : 'New user'}</Text>}
      size="lg"
    >
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          {form.formError ? <ErrorAlert error={form.formError} /> : null}
          <SegmentedControl
            fullWidth
            aria-label="Role"
            data={ROLES.map((r) => ({ value: r, label: ROLE_LABELS[r] }))}
            value={v.role}
            onChange={(r) => form.set('role', r)}
          />
          <Group grow align="flex-start">
            <TextInput
              label="Full name"
              required
              value={v.fullName}
              error={form.errors.fullName}
              onChange={(e) => form.set('fullName', e.currentTarget.value)}
              data-autofocus
            />
            <TextInput
              label="Username"
              description={editing ? 'Usernames cannot change' : 'Letters, digits, dot, dash, underscore'}
              required
              disabled={editing}
              value={v.username}
              error={form.errors.username}
              onChange={(e) => form.set('username', e.currentTarget.value)}
            />
          </Group>
          <Group grow align="flex-start">
            <TextInput
              label="Email"
              type="email"
              required
              value={v.email}
              error={form.errors.email}
              onChange={(e) => form.set('email', e.currentTarget.value)}
            />
            <TextInput
              label="Student code"
              description={v.role === 'student' ? 'The carnet, e.g. 201900001' : 'Only for students'}
              value={v.studentCode}
              error={form.errors.studentCode}
              onChange={(e) => form.set('studentCode', e.currentTarget.value)}
            />
          </Group>
          {!editing && (
            <PasswordWithGenerator
              label="Password"
              description="Optional: without one, the user cannot sign in until a password is set."
              value={v.password}
              error={form.errors.password}
              onChange={(p) => form.set('password', p)}
            />
          )}
          {editing && (
            <Switch
              mt="xs"
              label="Account disabled"
              description="A disabled account cannot sign in; its data stays."
              checked={v.disabled}
              onChange={(e) => form.set('disabled', e.currentTarget.checked)}
              color="red"
            />
          )}
          <Group justify="flex-end" mt="md">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {editing ? 'Save changes' : 'Create user'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** An admin sets a new password for someone else. */
export function ResetPasswordModal({ user, onClose }: { user: User | null; onClose: () => void }) {
  const form = useFormState({ password: '' });
  const { reset } = form;
  useEffect(() => {
    if (user) reset({ password: generatePassword() });
  }, [user, reset]);

  const save = useMutation({
    mutationFn: (password: string) => identityApi.updateUser(user!.id, { password }),
    onSuccess: (u) => {
      notifySuccess(`${u.fullName} has a new password`, 'Password reset');
      onClose();
    },
    onError: (err) => form.applyError(err),
  });

  return (
    <Modal opened={!!user} onClose={onClose} title={<Text fw={650}>Reset password</Text>}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(form.values.password);
        }}
        noValidate
      >
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            Set a new password for <b>{user?.fullName}</b> and share it with them; they can change it on their profile
            page.
          </Text>
          {form.formError ? <ErrorAlert error={form.formError} /> : null}
          <PasswordWithGenerator
            label="New password"
            required
            value={form.values.password}
            error={form.errors.password}
            onChange={(p) => form.set('password', p)}
          />
          <Group justify="flex-end" mt="md">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Set password
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
