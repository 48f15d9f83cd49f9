import { Code, Group, List, Paper, Stack, Text, Tooltip } from '@mantine/core';
import { IconGauge } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useNavigate } from 'react-router-dom';
import { columnHelper, DataTable, useServerQuery } from '../../components/data-table.tsx';
import { formatDateTime, formatRelative } from '../../components/format.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { fmtInt, fmtMs, fmtSeconds, loadtestsApi, type LoadtestRun } from './api.ts';
import { RunStatusBadge } from './status-badge.tsx';

const col = columnHelper<LoadtestRun>();
const NONE: LoadtestRun[] = [];

const columns = col.columns([
  col.accessor('name', {
    header: 'Run',
    enableSorting: false,
    cell: (info) => (
      <Stack gap={0}>
        <Text size="sm" fw={600}>
          {info.getValue()}
        </Text>
        <Text size="xs" c="dimmed" ff="monospace">
          {info.row.original.runId}
        </Text>
      </Stack>
    ),
  }),
  col.accessor('status', {
    header: 'Status',
    enableSorting: false,
    cell: (info) => <RunStatusBadge status={info.getValue()} />,
  }),
  col.accessor('mode', { header: 'Mode', enableSorting: false, cell: (info) => <Code>{info.getValue()}</Code> }),
  col.accessor('startedAt', {
    header: 'Started',
    enableSorting: false,
    cell: (info) => (
      <Tooltip label={formatDateTime(info.getValue())}>
        <Text size="sm">{formatRelative(info.getValue())}</Text>
      </Tooltip>
    ),
  }),
  col.accessor((r) => r.summary?.durationSec ?? null, {
    id: 'duration',
    header: 'Duration',
    enableSorting: false,
    meta: { align: 'right' },
    cell: (info) => (
      <Text size="sm" className="aula-tabular">
        {fmtSeconds(info.getValue())}
      </Text>
    ),
  }),
  col.accessor('workers', {
    header: 'Workers',
    enableSorting: false,
    meta: { align: 'right' },
    cell: (info) => (
      <Text size="sm" className="aula-tabular">
        {info.getValue()}
      </Text>
    ),
  }),
  col.accessor((r) => r.summary?.rps ?? null, {
    id: 'rps',
    header: 'Req/s',
    enableSorting: false,
    meta: { align: 'right' },
    cell: (info) => (
      <Text size="sm" className="aula-tabular">
        {fmtInt(info.getValue())}
      </Text>
    ),
  }),
  col.accessor((r) => r.summary?.latencyMs.p99 ?? null, {
    id: 'p99',
    header: 'p99',
    enableSorting: false,
    meta: { align: 'right' },
    cell: (info) => (
      <Text size="sm" className="aula-tabular">
        {fmtMs(info.getValue())}
      </Text>
    ),
  }),
  col.accessor((r) => r.summary ?? null, {
    id: 'errors',
    header: 'Errors',
    enableSorting: false,
    meta: { align: 'right' },
    cell: (info) => {
      const s = info.getValue();
      if (!s)
        return (
          <Text size="sm" c="dimmed">
            —
          </Text>
        );
      return (
        <Text size="sm" className="aula-tabular" c={s.errors ? 'red' : undefined}>
          {fmtInt(s.errors)} ({s.errorRatePercent}%)
        </Text>
      );
    },
  }),
]);

function HowToStart() {
  return (
    <Paper withBorder p="md" radius="md" mt="lg">
      <Text fw={600} mb={6}>
        Start a run
      </Text>
      <Text size="sm" c="dimmed" mb="sm">
        Runs appear here live when the traffic generator publishes them. It needs an API token with the{' '}
        <Code>grades:write</Code> and <Code>loadtest:publish</Code> scopes (Administration → API tokens).
      </Text>
      <Code block>
        {'npx aula load --target http://localhost:8000 --token-file token.txt \\\n' +
          '  --mode split --split 50 --users 50 --ramp 10s --duration 2m \\\n' +
          '  --publish --name "Ingest check"'}
      </Code>
      <List size="sm" mt="sm" c="dimmed" spacing={2}>
        <List.Item>
          Several generator processes with the same <Code>--run-id</Code> add up into one run.
        </List.Item>
        <List.Item>
          <Code>--rate 2000/s</Code> runs an open model instead of virtual users.
        </List.Item>
      </List>
    </Paper>
  );
}

export function LoadtestsPage() {
  const navigate = useNavigate();
  const [query, setQuery] = useServerQuery({ limit: 25 });
  const runs = useQuery({
    queryKey: ['loadtests', query.limit, query.offset],
    queryFn: ({ signal }) => loadtestsApi.list({ limit: query.limit, offset: query.offset }, signal),
    placeholderData: keepPreviousData,
    // Poll while any listed run is going, so new runs and their figures appear without a reload.
    refetchInterval: (q) => (q.state.data?.items.some((r) => r.status === 'running') ? 2000 : 10_000),
  });
  return (
    <>
      <PageHeader
        title="Load tests"
        description="Runs of the built-in traffic generator (aula load): throughput, latency percentiles and errors of grade ingest over REST and gRPC. Newest first."
        badges={
          runs.data?.items.some((r) => r.status === 'running') ? (
            <Group gap={4}>
              <RunStatusBadge status="running" />
            </Group>
          ) : undefined
        }
      />
      <DataTable
        mode="server"
        label="Load-test runs"
        columns={columns}
        data={runs.data?.items ?? NONE}
        total={runs.data?.total ?? 0}
        query={query}
        onQueryChange={setQuery}
        loading={runs.isPending}
        fetching={runs.isFetching}
        error={runs.error}
        getRowId={(r) => r.runId}
        searchable={false}
        onRowClick={(r) => void navigate(`/loadtests/${encodeURIComponent(r.runId)}`)}
        emptyIcon={<IconGauge size={22} stroke={1.5} />}
        emptyTitle="No load tests yet"
        emptyDescription="Publish a run from the traffic generator to see it here."
        minWidth={900}
      />
      <HowToStart />
    </>
  );
}
