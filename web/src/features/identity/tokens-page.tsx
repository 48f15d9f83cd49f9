import {
  Alert,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Modal,
  MultiSelect,
  NumberInput,
  Stack,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { IconAlertTriangle, IconCheck, IconCopy, IconKey, IconPlus, IconTrash } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState, type FormEvent } from 'react';
import { useConfirm } from '../../components/confirm-dialog.tsx';
import { columnHelper, DataTable } from '../../components/data-table.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { useFormState } from '../../components/form-state.ts';
import { formatDate, formatRelative } from '../../components/format.ts';
import { notifySuccess } from '../../components/notify.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { identityApi, SCOPE_HELP, SCOPES, type ApiToken, type Scope, type User } from './api.ts';
import { UserName } from './user-name.tsx';
import { UserPicker } from './user-picker.tsx';

type TokenRow = ApiToken & { status: 'active' | 'revoked' | 'expired' };

const col = columnHelper<TokenRow>();

function statusOf(t: ApiToken): TokenRow['status'] {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && new Date(t.expiresAt).getTime() < Date.now()) return 'expired';
  return 'active';
}

export function TokensPage() {
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<(ApiToken & { token: string }) | null>(null);
  const [dialog, confirm] = useConfirm();

  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => identityApi.listTokens() });
  const rows = useMemo<TokenRow[]>(
    () => (tokens.data ?? []).map((t) => ({ ...t, status: statusOf(t) })),
    [tokens.data],
  );

  const columns = useMemo(
    () =>
      col.columns([
        col.accessor('name', {
          header: 'Name',
          cell: (info) => (
            <Text size="sm" fw={600}>
              {info.getValue()}
            </Text>
          ),
        }),
        col.accessor('userId', {
          header: 'Acts as',
          enableGlobalFilter: false,
          cell: (info) => <UserName id={info.getValue()} />,
        }),
        col.accessor((t) => t.scopes.join(' '), {
          id: 'scopes',
          header: 'Scopes',
          meta: { wrap: true },
          enableSorting: false,
          cell: (info) => (
            <Group gap={4}>
              {info.row.original.scopes.map((s) => (
                <Badge key={s} size="sm" variant="outline" radius="sm" tt="none">
                  {s}
                </Badge>
              ))}
            </Group>
          ),
        }),
        col.accessor('status', {
          header: 'Status',
          meta: {
            filter: {
              kind: 'select',
              placeholder: 'Any',
              options: [
                { value: 'active', label: 'Active' },
                { value: 'revoked', label: 'Revoked' },
                { value: 'expired', label: 'Expired' },
              ],
            },
          },
          cell: (info) => {
            const t = info.row.original;
            return (
              <div>
                <Badge
                  variant="dot"
                  color={info.getValue() === 'active' ? 'teal' : info.getValue() === 'revoked' ? 'red' : 'gray'}
                >
                  {info.getValue()}
                </Badge>
                <Text size="xs" c="dimmed" mt={2}>
                  {t.revokedAt
                    ? `since ${formatDate(t.revokedAt)}`
                    : t.expiresAt
                      ? `${t.status === 'expired' ? 'since' : 'until'} ${formatDate(t.expiresAt)}`
                      : 'never expires'}
                </Text>
              </div>
            );
          },
        }),
        col.accessor('createdAt', {
          header: 'Created',
          sortFn: 'datetime',
          cell: (info) => <Text size="sm">{formatDate(info.getValue())}</Text>,
        }),
        col.accessor((t) => t.lastUsedAt ?? '', {
          id: 'lastUsedAt',
          header: 'Last used',
          cell: (info) => (
            <Text size="sm" c={info.getValue() ? undefined : 'dimmed'}>
              {info.getValue() ? formatRelative(info.getValue()) : 'Never'}
            </Text>
          ),
        }),
        col.display({
          id: 'actions',
          header: '',
          meta: { align: 'right' },
          cell: (info) => {
            const t = info.row.original;
            if (t.status !== 'active') return null;
            return (
              <Button
                size="xs"
                variant="subtle"
                color="red"
                leftSection={<IconTrash size={14} />}
                onClick={() =>
                  confirm({
                    title: `Revoke “${t.name}”?`,
                    message: 'Clients using this token are refused from now on. This cannot be undone.',
                    confirmLabel: 'Revoke token',
                    danger: true,
                    onConfirm: async () => {
                      await identityApi.revokeToken(t.id);
                      notifySuccess(`“${t.name}” was revoked`);
                      await qc.invalidateQueries({ queryKey: ['tokens'] });
                    },
                  })
                }
              >
                Revoke
              </Button>
            );
          },
        }),
      ]),
    [confirm, qc],
  );

  return (
    <>
      <PageHeader
        title="API tokens"
        description="Tokens let cameras, ingest clients and the load generator call the API as a user, limited to the scopes you choose."
        actions={
          <Button leftSection={<IconPlus size={18} />} onClick={() => setCreating(true)}>
            New token
          </Button>
        }
      />
      <DataTable
        label="API tokens"
        columns={columns}
        data={rows}
        loading={tokens.isPending}
        fetching={tokens.isFetching}
        error={tokens.error}
        getRowId={(t) => t.id}
        initialSort={{ id: 'createdAt', desc: true }}
        searchPlaceholder="Search tokens"
        emptyIcon={<IconKey size={22} stroke={1.5} />}
        emptyTitle="No API tokens"
        emptyDescription="Create one for each camera or client, with only the scopes it needs."
        minWidth={900}
      />
      <CreateTokenModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(t) => {
          setCreating(false);
          setCreated(t);
        }}
      />
      <Modal
        opened={!!created}
        onClose={() => setCreated(null)}
        title={<Text fw={650}>Token created</Text>}
        size="lg"
        closeOnClickOutside={false}
      >
        <Stack gap="md">
          <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />}>
            Copy the token now. Aula stores only its hash, so it cannot be shown again.
          </Alert>
          <Group gap="xs" wrap="nowrap" align="center">
            <Code block style={{ flex: 1, wordBreak: 'break-all', whiteSpace: 'pre-wrap' }} data-testid="new-token">
              {created?.token}
            </Code>
            <CopyButton value={created?.token ?? ''}>
              {({ copied, copy }) => (
                <Tooltip label={copied ? 'Copied' : 'Copy token'}>
                  <Button
                    variant={copied ? 'filled' : 'light'}
                    color={copied ? 'teal' : undefined}
                    leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                    onClick={copy}
                  >
                    {copied ? 'Copied' : 'Copy'}
                  </Button>
                </Tooltip>
              )}
            </CopyButton>
          </Group>
          <Text size="sm" c="dimmed">
            Send it as <Code>Authorization: Bearer &lt;token&gt;</Code>.
          </Text>
          <Group justify="flex-end">
            <Button onClick={() => setCreated(null)}>Done</Button>
          </Group>
        </Stack>
      </Modal>
      {dialog}
    </>
  );
}

interface TokenForm {
  userId: string | null;
  name: string;
  scopes: Scope[];
  expiresInDays: number | '';
}

function CreateTokenModal(props: {
  opened: boolean;
  onClose: () => void;
  onCreated: (t: ApiToken & { token: string }) => void;
}) {
  const qc = useQueryClient();
  const form = useFormState<TokenForm>({ userId: null, name: '', scopes: [], expiresInDays: 365 });
  const [picked, setPicked] = useState<User | null>(null);

  const save = useMutation({
    mutationFn: (v: TokenForm) =>
      identityApi.createToken({
        userId: v.userId ?? '',
        name: v.name.trim(),
        scopes: v.scopes,
        ...(v.expiresInDays === '' ? {} : { expiresInDays: v.expiresInDays }),
      }),
    onSuccess: async (t) => {
      await qc.invalidateQueries({ queryKey: ['tokens'] });
      form.reset({ userId: null, name: '', scopes: [], expiresInDays: 365 });
      setPicked(null);
      props.onCreated(t);
    },
    onError: (err) => form.applyError(err),
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errors: Record<string, string> = {};
    if (!form.values.userId) errors.userId = 'Choose the user the token acts as';
    if (!form.values.name.trim()) errors.name = 'Give the token a name';
    if (form.values.scopes.length === 0) errors.scopes = 'Choose at least one scope';
    if (Object.keys(errors).length) return form.setErrors(errors);
    form.clearErrors();
    save.mutate(form.values);
  };

  return (
    <Modal opened={props.opened} onClose={props.onClose} title={<Text fw={650}>New API token</Text>} size="lg">
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          {form.formError ? <ErrorAlert error={form.formError} /> : null}
          <TextInput
            label="Name"
            description="Where it is used, e.g. “Room 204 camera”"
            required
            value={form.values.name}
            error={form.errors.name}
            onChange={(e) => form.set('name', e.currentTarget.value)}
            data-autofocus
          />
          <UserPicker
            label="Acts as"
            description="Requests with the token have this user's role, limited to the scopes below."
            required
            value={form.values.userId}
            error={form.errors.userId}
            onChange={(id, u) => {
              form.set('userId', id);
              setPicked(u);
            }}
            placeholder="Search users"
            comboboxProps={{ withinPortal: true }}
          />
          <MultiSelect
            label="Scopes"
            required
            data={SCOPES.map((s) => ({ value: s, label: s }))}
            value={form.values.scopes}
            error={form.errors.scopes}
            onChange={(v) => form.set('scopes', v)}
            renderOption={({ option }) => (
              <div>
                <Text size="sm" ff="monospace">
                  {option.value}
                </Text>
                <Text size="xs" c="dimmed">
                  {SCOPE_HELP[option.value]}
                </Text>
              </div>
            )}
            placeholder={form.values.scopes.length ? undefined : 'Choose scopes'}
            comboboxProps={{ withinPortal: true }}
            hidePickedOptions
          />
          <NumberInput
            label="Expires after (days)"
            description="Leave empty for a token that never expires."
            min={1}
            max={3650}
            value={form.values.expiresInDays}
            error={form.errors.expiresInDays}
            onChange={(v) => form.set('expiresInDays', v === '' ? '' : Number(v))}
            allowDecimal={false}
          />
          {picked && picked.role !== 'admin' && form.values.scopes.includes('admin') && (
            <Text size="xs" c="dimmed">
              The admin scope never grants more than the user's own role allows.
            </Text>
          )}
          <Group justify="flex-end" mt="md">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Create token
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
