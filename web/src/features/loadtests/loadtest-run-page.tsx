import { LineChart } from '@mantine/charts';
import {
  Badge,
  Button,
  Code,
  Group,
  Paper,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  Title,
  Tooltip,
} from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useRef, type ReactNode } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { useAuth } from '../../app/auth.tsx';
import { useConfirm } from '../../components/confirm-dialog.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { formatDateTime } from '../../components/format.ts';
import { PageHeader } from '../../components/page-header.tsx';
import {
  fmtInt,
  fmtMs,
  fmtSeconds,
  loadtestsApi,
  type LoadtestRunDetail,
  type RunSummary,
  type SeriesPoint,
} from './api.ts';
import { RunStatusBadge } from './status-badge.tsx';

/** Milliseconds without a unit (the chart title has it), to three significant digits at most. */
const msTick = (v: number): string => String(Number(v.toPrecision(3)));

/** A second is re-read for this long after it first appears: other workers may still add to it. */
const SETTLE_SECONDS = 10;

/**
 * Keeps the run's series between polls and asks only for the recent seconds, so an hour-long
 * run does not re-download 3,600 points every second.
 */
function useRun(runId: string) {
  const cache = useRef<{ runId: string; points: Map<number, SeriesPoint> } | undefined>(undefined);
  return useQuery({
    queryKey: ['loadtest', runId],
    queryFn: async ({ signal }): Promise<LoadtestRunDetail> => {
      if (cache.current?.runId !== runId) cache.current = { runId, points: new Map() };
      const c = cache.current;
      const last = c.points.size ? Math.max(...c.points.keys()) : undefined;
      let detail = await loadtestsApi.get(runId, last === undefined ? undefined : last - SETTLE_SECONDS, signal);
      // Once the run is over, one full read makes sure late posts are included.
      if (last !== undefined && detail.status !== 'running') {
        detail = await loadtestsApi.get(runId, undefined, signal);
        c.points.clear();
      }
      for (const p of detail.series) c.points.set(p.second, p);
      return { ...detail, series: [...c.points.values()].sort((a, b) => a.second - b.second) };
    },
    refetchInterval: (q) => (q.state.data?.status === 'running' ? 1000 : false),
  });
}

function Stat({
  id,
  label,
  value,
  hint,
  color,
}: {
  id: string;
  label: string;
  value: ReactNode;
  hint?: ReactNode;
  color?: string;
}) {
  return (
    <Paper withBorder radius="md" p="md" data-testid={`stat-${id}`}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} lts={0.4}>
        {label}
      </Text>
      <Text fz={26} fw={700} className="aula-tabular" c={color} mt={2} data-testid={`stat-${id}-value`}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Paper>
  );
}

function ChartCard({ title, children, testId }: { title: string; children: ReactNode; testId: string }) {
  return (
    <Paper withBorder radius="md" p="md" data-testid={testId}>
      <Text fw={600} mb="sm">
        {title}
      </Text>
      {children}
    </Paper>
  );
}

function SummaryTable({ s }: { s: RunSummary }) {
  const rows: [string, ReactNode][] = [
    ['Requests', fmtInt(s.requests)],
    ['Acknowledged (ok)', fmtInt(s.ok)],
    ['Errors', `${fmtInt(s.errors)} (${s.errorRatePercent}%)`],
    ['Grades acknowledged', fmtInt(s.grades)],
    ['Requests per second', fmtInt(s.rps)],
    ['Grades per second', fmtInt(s.gradesPerSec)],
    ['Duration', fmtSeconds(s.durationSec)],
    ['Latency p50 / p90 / p95', `${fmtMs(s.latencyMs.p50)} / ${fmtMs(s.latencyMs.p90)} / ${fmtMs(s.latencyMs.p95)}`],
    ['Latency p99 / max', `${fmtMs(s.latencyMs.p99)} / ${fmtMs(s.latencyMs.max)}`],
  ];
  if (!s.live) {
    rows.push(['Sent over REST / gRPC', `${fmtInt(s.split.rest)} / ${fmtInt(s.split.grpc)}`]);
    if (s.dropped || s.late) rows.push(['Late / dropped (open model)', `${fmtInt(s.late)} / ${fmtInt(s.dropped)}`]);
    if (s.thresholdsPassed !== null) {
      rows.push([
        'Thresholds',
        <Badge key="t" color={s.thresholdsPassed ? 'teal' : 'red'} variant="light" tt="none">
          {s.thresholdsPassed ? 'all passed' : 'failed'}
        </Badge>,
      ]);
    }
  }
  const merge = {
    exact: 'Percentiles merged exactly from every worker’s latency histogram.',
    max: 'Percentiles are the highest of the workers’ values (a worker sent no histogram).',
    'per-second-max': 'While running: totals so far; latency is the worst second seen.',
  }[s.latencyMerge];
  return (
    <Paper withBorder radius="md" p="md">
      <Group justify="space-between" mb="xs">
        <Text fw={600}>{s.live ? 'So far' : 'Summary'}</Text>
        <Text size="xs" c="dimmed">
          {merge}
        </Text>
      </Group>
      <Table data-testid="run-summary" verticalSpacing={6}>
        <Table.Tbody>
          {rows.map(([k, v]) => (
            <Table.Tr key={k}>
              <Table.Th w={260} fw={500} c="dimmed">
                {k}
              </Table.Th>
              <Table.Td className="aula-tabular">{v}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {Object.keys(s.errorsByKind).length > 0 && (
        <Group gap={6} mt="sm">
          <Text size="sm" c="dimmed">
            Errors by kind:
          </Text>
          {Object.entries(s.errorsByKind).map(([k, v]) => (
            <Badge key={k} color="red" variant="light" tt="none" radius="sm">
              {k}: {fmtInt(v)}
            </Badge>
          ))}
        </Group>
      )}
    </Paper>
  );
}

export function LoadtestRunPage() {
  const { runId = '' } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { user } = useAuth();
  const run = useRun(runId);
  const [confirmDialog, confirm] = useConfirm();
  const remove = useMutation({
    mutationFn: () => loadtestsApi.remove(runId),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['loadtests'] });
      void navigate('/loadtests');
    },
  });

  const data = useMemo(
    () =>
      (run.data?.series ?? []).map((p) => ({
        t: p.t,
        requests: p.requests,
        ok: p.ok,
        errors: p.errors,
        grades: p.grades,
        p50: p.p50,
        p95: p.p95,
        p99: p.p99,
      })),
    [run.data?.series],
  );

  const crumbs = [{ label: 'Load tests', to: '/loadtests' }, { label: runId }];
  if (run.isPending) {
    return (
      <>
        <PageHeader title={runId} breadcrumbs={crumbs} />
        <Skeleton h={320} radius="md" />
      </>
    );
  }
  if (run.error || !run.data) {
    return (
      <>
        <PageHeader title={runId} breadcrumbs={crumbs} />
        <ErrorAlert error={run.error} />
      </>
    );
  }
  const r = run.data;
  const s = r.summary;
  // The latest full second: the very last one may still be filling up.
  const settled = r.status === 'running' ? r.series.slice(0, -1) : r.series;
  const last = settled[settled.length - 1];
  const batched = data.some((p) => p.grades !== p.ok);
  const config = Object.entries(r.config).filter(([, v]) => v !== null && v !== '' && !(Array.isArray(v) && !v.length));

  return (
    <>
      <PageHeader
        title={r.name}
        breadcrumbs={crumbs}
        badges={
          <>
            <RunStatusBadge status={r.status} />
            <Badge variant="outline" radius="sm" tt="none">
              {r.mode}
            </Badge>
          </>
        }
        description={
          <>
            Run <Code>{r.runId}</Code> started {formatDateTime(r.startedAt)}
            {r.finishedAt ? `, finished ${formatDateTime(r.finishedAt)}` : ''} · {r.workersFinished}/{r.workers} worker
            {r.workers === 1 ? '' : 's'} finished
          </>
        }
        actions={
          user?.role === 'admin' && r.status !== 'running' ? (
            <Button
              variant="default"
              leftSection={<IconTrash size={16} />}
              onClick={() =>
                confirm({
                  title: 'Delete this run?',
                  message: 'Its per-second samples, workers and summary are removed for good.',
                  confirmLabel: 'Delete run',
                  danger: true,
                  onConfirm: () => remove.mutateAsync(),
                })
              }
            >
              Delete
            </Button>
          ) : undefined
        }
      />
      <Stack gap="md">
        <SimpleGrid cols={{ base: 2, md: 5 }}>
          <Stat
            id="rps"
            label="Requests / s"
            value={fmtInt(r.status === 'running' ? last?.requests : s?.rps)}
            hint={r.status === 'running' ? 'last second' : 'average'}
          />
          <Stat id="requests" label="Requests" value={fmtInt(s?.requests)} hint={`${fmtInt(s?.ok)} acknowledged`} />
          <Stat
            id="grades"
            label="Grades"
            value={fmtInt(s?.grades)}
            hint={`${fmtInt(r.status === 'running' ? last?.grades : s?.gradesPerSec)} / s`}
          />
          <Stat
            id="errors"
            label="Errors"
            value={fmtInt(s?.errors)}
            hint={`${s?.errorRatePercent ?? 0}% of requests`}
            color={s?.errors ? 'red' : undefined}
          />
          <Stat
            id="p99"
            label="p99 latency"
            value={fmtMs(r.status === 'running' ? last?.p99 : s?.latencyMs.p99)}
            hint={r.status === 'running' ? 'last second' : `p50 ${fmtMs(s?.latencyMs.p50)}`}
          />
        </SimpleGrid>

        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <ChartCard
            title={batched ? 'Throughput (requests and grades per second)' : 'Throughput (requests per second)'}
            testId="chart-rps"
          >
            <LineChart
              h={240}
              data={data}
              dataKey="t"
              withDots={false}
              curveType="linear"
              strokeWidth={2}
              tooltipAnimationDuration={0}
              lineChartProps={{ syncId: 'loadtest' }}
              xAxisProps={{ tickFormatter: (v: number) => `${v}s` }}
              valueFormatter={(v) => fmtInt(v)}
              withLegend
              series={[
                { name: 'requests', label: 'requests/s', color: 'blue.6' },
                { name: 'ok', label: 'ok/s', color: 'teal.6' },
                ...(batched ? [{ name: 'grades', label: 'grades/s', color: 'cyan.6' }] : []),
              ]}
            />
          </ChartCard>
          <ChartCard title="Latency percentiles (ms)" testId="chart-latency">
            <LineChart
              h={240}
              data={data}
              dataKey="t"
              withDots={false}
              curveType="linear"
              strokeWidth={2}
              connectNulls={false}
              tooltipAnimationDuration={0}
              lineChartProps={{ syncId: 'loadtest' }}
              xAxisProps={{ tickFormatter: (v: number) => `${v}s` }}
              valueFormatter={msTick}
              withLegend
              series={[
                { name: 'p50', color: 'teal.6' },
                { name: 'p95', color: 'yellow.6' },
                { name: 'p99', color: 'red.6' },
              ]}
            />
          </ChartCard>
          <ChartCard title="Errors per second" testId="chart-errors">
            <LineChart
              h={200}
              data={data}
              dataKey="t"
              withDots={false}
              curveType="step"
              strokeWidth={2}
              tooltipAnimationDuration={0}
              lineChartProps={{ syncId: 'loadtest' }}
              xAxisProps={{ tickFormatter: (v: number) => `${v}s` }}
              valueFormatter={(v) => fmtInt(v)}
              series={[{ name: 'errors', label: 'errors/s', color: 'red.6' }]}
            />
          </ChartCard>
          {s ? (
            <SummaryTable s={s} />
          ) : (
            <Paper withBorder radius="md" p="md">
              <Text c="dimmed">Waiting for the first second…</Text>
            </Paper>
          )}
        </SimpleGrid>

        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <Paper withBorder radius="md" p="md">
            <Title order={5} mb="xs">
              Workers
            </Title>
            <Table verticalSpacing={4} data-testid="run-workers">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Worker</Table.Th>
                  <Table.Th ta="right">Requests</Table.Th>
                  <Table.Th ta="right">Req/s</Table.Th>
                  <Table.Th ta="right">p99</Table.Th>
                  <Table.Th>State</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {r.workerList.map((w) => (
                  <Table.Tr key={w.workerId}>
                    <Table.Td ff="monospace" fz="xs">
                      {w.workerId}
                    </Table.Td>
                    <Table.Td ta="right" className="aula-tabular">
                      {fmtInt(w.summary?.requests)}
                    </Table.Td>
                    <Table.Td ta="right" className="aula-tabular">
                      {fmtInt(w.summary?.rps)}
                    </Table.Td>
                    <Table.Td ta="right" className="aula-tabular">
                      {fmtMs(w.summary?.latencyMs.p99)}
                    </Table.Td>
                    <Table.Td>
                      {w.finishedAt ? (
                        <Tooltip label={formatDateTime(w.finishedAt)}>
                          <Badge color="teal" variant="light" tt="none" radius="sm">
                            finished
                          </Badge>
                        </Tooltip>
                      ) : (
                        <Badge
                          color={r.status === 'interrupted' ? 'orange' : 'blue'}
                          variant="light"
                          tt="none"
                          radius="sm"
                        >
                          {r.status === 'interrupted' ? 'silent' : 'sending'}
                        </Badge>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Paper>
          <Paper withBorder radius="md" p="md">
            <Title order={5} mb="xs">
              Configuration
            </Title>
            <Table verticalSpacing={4}>
              <Table.Tbody>
                {config.map(([k, v]) => (
                  <Table.Tr key={k}>
                    <Table.Th w={160} fw={500} c="dimmed">
                      {k}
                    </Table.Th>
                    <Table.Td>
                      <Code>{Array.isArray(v) ? v.join(', ') : String(v)}</Code>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Paper>
        </SimpleGrid>
      </Stack>
      {confirmDialog}
    </>
  );
}
