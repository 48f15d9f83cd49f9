import { ActionIcon, Badge, Button, Group, Menu, Text } from '@mantine/core';
import { IconDots, IconKey, IconPencil, IconTrash, IconUserPlus, IconUsers } from '@tabler/icons-react';
import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useUser } from '../../app/auth.tsx';
import { useConfirm } from '../../components/confirm-dialog.tsx';
import { columnHelper, DataTable, listParams, useServerQuery } from '../../components/data-table.tsx';
import { notifySuccess } from '../../components/notify.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { formatDate } from '../../components/format.ts';
import { identityApi, ROLE_COLORS, ROLE_LABELS, ROLES, type Role, type User, type UserSort } from './api.ts';
import { UserAvatar } from './user-avatar.tsx';
import { ResetPasswordModal, UserFormModal } from './user-modals.tsx';

const col = columnHelper<User>();

export function UsersPage() {
  const me = useUser();
  const qc = useQueryClient();
  const [query, setQuery] = useServerQuery({ sort: 'full_name', order: 'asc' });
  const [editing, setEditing] = useState<User | null>(null);
  const [creating, setCreating] = useState(false);
  const [resetting, setResetting] = useState<User | null>(null);
  const [dialog, confirm] = useConfirm();

  const role = query.filters.role as Role | undefined;
  const users = useQuery({
    queryKey: ['users', 'list', query],
    queryFn: ({ signal }) =>
      identityApi.listUsers({ ...listParams(query), sort: query.sort as UserSort | undefined, role }, signal),
    placeholderData: keepPreviousData,
  });

  const columns = useMemo(
    () =>
      col.columns([
        col.accessor('fullName', {
          header: 'Name',
          meta: { sortKey: 'full_name', wrap: true, minWidth: 230 },
          cell: (info) => {
            const u = info.row.original;
            return (
              <Group gap="sm" wrap="nowrap">
                <UserAvatar user={u} size={34} radius="xl" />
                <div style={{ minWidth: 0 }}>
                  <Text size="sm" fw={600}>
                    {u.fullName}
                  </Text>
                  <Text size="xs" c="dimmed">
                    @{u.username}
                  </Text>
                </div>
              </Group>
            );
          },
        }),
        col.accessor('email', { header: 'Email', meta: { sortKey: 'email' } }),
        col.accessor('role', {
          header: 'Role',
          meta: {
            sortKey: 'role',
            filter: {
              kind: 'select',
              placeholder: 'Any role',
              options: ROLES.map((r) => ({ value: r, label: ROLE_LABELS[r] })),
            },
          },
          cell: (info) => (
            <Badge variant="light" color={ROLE_COLORS[info.getValue()]}>
              {info.getValue()}
            </Badge>
          ),
        }),
        col.accessor('studentCode', {
          header: 'Student code',
          meta: { sortKey: 'student_code' },
          cell: (info) =>
            info.getValue() ? (
              <Text size="sm" ff="monospace">
                {info.getValue()}
              </Text>
            ) : (
              <Text size="sm" c="dimmed">
                —
              </Text>
            ),
        }),
        col.accessor('disabled', {
          header: 'Status',
          enableSorting: false,
          cell: (info) =>
            info.getValue() ? (
              <Badge color="red" variant="dot">
                Disabled
              </Badge>
            ) : (
              <Badge color="teal" variant="dot">
                Active
              </Badge>
            ),
        }),
        col.accessor('createdAt', {
          header: 'Created',
          meta: { sortKey: 'created_at' },
          cell: (info) => <Text size="sm">{formatDate(info.getValue())}</Text>,
        }),
        col.display({
          id: 'actions',
          header: '',
          meta: { align: 'right', width: 56 },
          cell: (info) => {
            const u = info.row.original;
            return (
              <Menu position="bottom-end" withinPortal>
                <Menu.Target>
                  <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${u.username}`}>
                    <IconDots size={18} />
                  </ActionIcon>
                </Menu.Target>
                <Menu.Dropdown>
                  <Menu.Item leftSection={<IconPencil size={16} />} onClick={() => setEditing(u)}>
                    Edit
                  </Menu.Item>
                  <Menu.Item leftSection={<IconKey size={16} />} onClick={() => setResetting(u)}>
                    Reset password
                  </Menu.Item>
                  <Menu.Divider />
                  <Menu.Item
                    color="red"
                    leftSection={<IconTrash size={16} />}
                    disabled={u.id === me.id}
                    onClick={() =>
                      confirm({
                        title: `Delete ${u.fullName}?`,
                        message: `The account @${u.username} and its sessions and tokens are removed. This cannot be undone.`,
                        confirmLabel: 'Delete user',
                        danger: true,
                        onConfirm: async () => {
                          await identityApi.deleteUser(u.id);
                          notifySuccess(`${u.fullName} was deleted`);
                          await qc.invalidateQueries({ queryKey: ['users'] });
                        },
                      })
                    }
                  >
                    Delete
                  </Menu.Item>
                </Menu.Dropdown>
              </Menu>
            );
          },
        }),
      ]),
    [confirm, me.id, qc],
  );

  return (
    <>
      <PageHeader
        title="Users"
        description="Everyone who can sign in to Aula: administrators, teachers and students."
        actions={
          <Button leftSection={<IconUserPlus size={18} />} onClick={() => setCreating(true)}>
            New user
          </Button>
        }
      />
      <DataTable
        mode="server"
        label="Users"
        columns={columns}
        data={users.data?.items ?? NO_USERS}
        total={users.data?.total ?? 0}
        query={query}
        onQueryChange={setQuery}
        loading={users.isPending}
        fetching={users.isFetching}
        error={users.error}
        getRowId={(u) => u.id}
        searchPlaceholder="Search by name, username, email or code"
        emptyIcon={<IconUsers size={22} stroke={1.5} />}
        emptyTitle="No users yet"
        minWidth={860}
      />
      <UserFormModal
        opened={creating || !!editing}
        user={editing}
        onClose={() => (setCreating(false), setEditing(null))}
      />
      <ResetPasswordModal user={resetting} onClose={() => setResetting(null)} />
      {dialog}
    </>
  );
}

const NO_USERS: User[] = [];
