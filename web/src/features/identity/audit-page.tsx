import { Badge, Code, Group, Select, Text, TextInput, Tooltip } from '@mantine/core';
import { IconHistory } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { columnHelper, DataTable, useServerQuery } from '../../components/data-table.tsx';
import { formatDateTime, formatRelative } from '../../components/format.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { identityApi, type AuditEntry } from './api.ts';
import { UserName } from './user-name.tsx';
import { UserPicker } from './user-picker.tsx';

/** Action families: a filter on "face" lists face.enroll, face.delete, face.delete_all… */
const FAMILIES = [
  { value: 'user', label: 'Accounts and roles' },
  { value: 'auth', label: 'Sign-in, sessions and password resets' },
  { value: 'face', label: 'Face data' },
  { value: 'grade', label: 'Grade edits' },
  { value: 'attendance', label: 'Attendance overrides' },
  { value: 'token', label: 'API tokens' },
  { value: 'enrollment', label: 'Enrolments' },
  { value: 'roster', label: 'Roster imports' },
];

/** The start of a day typed as YYYY-MM-DD, as an ISO instant in the browser's zone. */
const dayStart = (d: string, plusDays = 0) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) return undefined;
  const t = new Date(`${d}T00:00:00`);
  t.setDate(t.getDate() + plusDays);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
};

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
  const [action, setAction] = useState<string | null>(null);
  const [actor, setActor] = useState<string | null>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const filter = {
    action: action ?? undefined,
    actor: actor ?? undefined,
    from: dayStart(from),
    to: dayStart(to, 1),
  };
  const audit = useQuery({
    queryKey: ['audit', query.limit, query.offset, filter],
    queryFn: ({ signal }) => identityApi.listAudit({ limit: query.limit, offset: query.offset, ...filter }, signal),
    placeholderData: keepPreviousData,
  });
  // A new filter starts from the first page.
  const refine =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      setQuery({ ...query, offset: 0 });
    };
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change to accounts, tokens and school records: who did it and when. Newest first."
      />
      <Group mb="md" gap="sm" align="flex-end" wrap="wrap">
        <Select
          label="Action"
          placeholder="All actions"
          data={FAMILIES}
          value={action}
          onChange={refine(setAction)}
          clearable
          w={280}
        />
        <UserPicker
          label="Who"
          placeholder="Anyone"
          value={actor}
          onChange={refine((id: string | null) => setActor(id))}
          clearable
          w={260}
        />
        <TextInput
          label="From"
          type="date"
          value={from}
          onChange={(e) => refine(setFrom)(e.currentTarget.value)}
          w={160}
        />
        <TextInput label="To" type="date" value={to} onChange={(e) => refine(setTo)(e.currentTarget.value)} w={160} />
      </Group>
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
