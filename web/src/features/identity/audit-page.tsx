import { Badge, Code, Group, Text, Tooltip } from '@mantine/core';
import { IconHistory } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { columnHelper, DataTable, useServerQuery } from '../../components/data-table.tsx';
import { formatDateTime, formatRelative } from '../../components/format.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { identityApi, type AuditEntry } from './api.ts';
import { UserName } from './user-name.tsx';

const col = columnHelper<AuditEntry>();

function actionColor(action: string): string {
  if (/delete|revoke|remove/.test(action)) return 'red';
  if (/create|import|enroll/.test(action)) return 'teal';
  if (/login|logout|session/.test(action)) return 'gray';
  return 'blue';
}

const columns = col.columns([
  col.accessor('createdAt', {
    header: 'When',
    enableSorting: false,
    meta: { width: 190 },
    cell: (info) => (
      <Tooltip label={formatDateTime(info.getValue())}>
        <Text size="sm" className="aula-tabular">
          {formatRelative(info.getValue())}
        </Text>
      </Tooltip>
    ),
  }),
  col.accessor('actorId', {
    header: 'Who',
    enableSorting: false,
    cell: (info) => <UserName id={info.getValue()} />,
  }),
  col.accessor('action', {
    header: 'Action',
    enableSorting: false,
    cell: (info) => (
      <Badge variant="light" color={actionColor(info.getValue())} tt="none" radius="sm">
        {info.getValue()}
      </Badge>
    ),
  }),
  col.accessor('targetType', {
    header: 'Target',
    enableSorting: false,
    cell: (info) => {
      const e = info.row.original;
      if (!e.targetType)
        return (
          <Text size="sm" c="dimmed">
            —
          </Text>
        );
      return (
        <Group gap={6} wrap="nowrap">
          <Text size="sm">{e.targetType}</Text>
          {e.targetType === 'user' && e.targetId ? (
            <UserName id={e.targetId} withAvatar={false} />
          ) : (
            <Code fz="xs">{e.targetId}</Code>
          )}
        </Group>
      );
    },
  }),
  col.accessor((e) => (e.details && typeof e.details === 'object' ? JSON.stringify(e.details) : ''), {
    id: 'details',
    header: 'Details',
    meta: { wrap: true },
    enableSorting: false,
    cell: (info) =>
      info.getValue() && info.getValue() !== '{}' ? (
        <Code fz="xs" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
          {info.getValue()}
        </Code>
      ) : (
        <Text size="sm" c="dimmed">
          —
        </Text>
      ),
  }),
]);

export function AuditPage() {
  const [query, setQuery] = useServerQuery({ limit: 50 });
  const audit = useQuery({
    queryKey: ['audit', query.limit, query.offset],
    queryFn: ({ signal }) => identityApi.listAudit({ limit: query.limit, offset: query.offset }, signal),
    placeholderData: keepPreviousData,
  });
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change to accounts, tokens and school records: who did it and when. Newest first."
      />
      <DataTable
        mode="server"
        label="Audit log"
        columns={columns}
        data={audit.data?.items ?? NONE}
        total={audit.data?.total ?? 0}
        query={query}
        onQueryChange={setQuery}
        loading={audit.isPending}
        fetching={audit.isFetching}
        error={audit.error}
        getRowId={(e) => e.id}
        searchable={false}
        pageSizes={[25, 50, 100, 200]}
        emptyIcon={<IconHistory size={22} stroke={1.5} />}
        emptyTitle="No audit entries yet"
        minWidth={860}
      />
    </>
  );
}

const NONE: AuditEntry[] = [];
