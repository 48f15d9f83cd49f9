import { Group, Skeleton, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { identityApi } from './api.ts';
import { UserAvatar } from './user-avatar.tsx';

/** A user's name from their id, fetched once and cached for every row that shows it. */
export function UserName({ id, withAvatar = true }: { id: string | null; withAvatar?: boolean }) {
  const q = useQuery({
    queryKey: ['users', 'one', id],
    queryFn: () => identityApi.getUser(id!),
    enabled: !!id && id !== 'system',
    staleTime: 5 * 60_000,
  });
  if (!id || id === 'system') {
    return (
      <Text size="sm" c="dimmed">
        System
      </Text>
    );
  }
  if (q.isPending) return <Skeleton height={12} width={110} radius="sm" />;
  if (!q.data) {
    return (
      <Text size="sm" c="dimmed" title={id}>
        Deleted user
      </Text>
    );
  }
  const u = q.data;
  return (
    <Group gap={8} wrap="nowrap">
      {withAvatar && <UserAvatar user={u} size={24} radius="xl" />}
      <Text size="sm">{u.fullName}</Text>
    </Group>
  );
}
