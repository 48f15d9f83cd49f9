import { BarChart, PieChart } from '@mantine/charts';
import {
  Badge,
  Box,
  Center,
  EmptyState,
  Group,
  Paper,
  Progress,
  Select,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { IconChartBar, IconChartPie, IconSchool } from '@tabler/icons-react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { formatTime } from '../../components/format.ts';
import { PageHeader } from '../../components/page-header.tsx';
import {
  analyticsApi,
  groupKey,
  parseSemesterKey,
  semesterKey,
  type AnalyticsFilter,
  type GroupCounters,
} from './api.ts';
import { LiveIndicator } from './live-indicator.tsx';
import { useLiveCounters, useLiveSocket, useRoom } from './use-live.ts';

/** The charts re-read the database at most this often, and only while grades keep arriving. */
const CHART_REFRESH_MS = 5000;
const ANALYTICS_KEY = 'grade-analytics';

const fmt = (n: number | null | undefined) => (n === null || n === undefined ? '—' : n.toLocaleString());

export function GradesDashboardPage() {
  const live = useLiveSocket();
  const counters = useLiveCounters(live.socket);

  const semesters = useMemo(() => {
    const keys = new Set<string>();
    for (const g of counters.groups.values()) keys.add(semesterKey(g));
    return [...keys].sort((a, b) => (a < b ? 1 : -1));
  }, [counters.groups]);

  const [pickedSemester, setPickedSemester] = useState<string | null>(null);
  const semester = pickedSemester && semesters.includes(pickedSemester) ? pickedSemester : (semesters[0] ?? null);

  const coursesInSemester = useMemo(
    () =>
      [...counters.groups.values()]
        .filter((g) => semesterKey(g) === semester)
        .sort((a, b) => b.students - a.students || a.course.localeCompare(b.course)),
    [counters.groups, semester],
  );
  const [pickedCourse, setPickedCourse] = useState<string | null>(null);
  const course =
    pickedCourse && coursesInSemester.some((g) => g.course === pickedCourse)
      ? pickedCourse
      : (coursesInSemester[0]?.course ?? null);

  const allCourses = useMemo(
    () => [...new Set([...counters.groups.values()].map((g) => g.course))].sort(),
    [counters.groups],
  );

  return (
    <>
      <PageHeader
        title="Grades dashboard"
        description="Grade records as they are committed, from every source: REST, gRPC, CSV imports and the gradebook."
        badges={<LiveIndicator status={live.status} error={live.error ?? counters.room.error} />}
      />
      {counters.room.error && (
        <ErrorAlert error={new Error(counters.room.error)} title="Live figures unavailable" mb="md" />
      )}

      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="md">
        <StatCard
          label="Grade records"
          testId="live-total"
          value={fmt(counters.total)}
          loading={counters.total === null}
        >
          <Text size="sm" c="dimmed">
            {counters.updatedAt && Date.now() - counters.updatedAt < 10_000 && counters.rate > 0
              ? `≈ ${Math.round(counters.rate).toLocaleString()} per second`
              : counters.updatedAt
                ? `Last change at ${formatTime(new Date(counters.updatedAt).toISOString())}`
                : 'Waiting for the first figures'}
          </Text>
        </StatCard>
        <SelectedGroupCard
          socket={live.socket}
          course={course}
          semester={semester}
          courses={coursesInSemester.map((g) => g.course)}
          semesters={semesters}
          onCourse={setPickedCourse}
          onSemester={setPickedSemester}
        />
        <StatCard
          label="Courses with grades"
          value={fmt(coursesInSemester.length)}
          loading={counters.total === null}
          testId="live-course-count"
        >
          <Text size="sm" c="dimmed">
            {semester ? `in semester ${semester}` : 'No semester yet'} · {fmt(counters.groups.size)} course-semesters in
            all
          </Text>
        </StatCard>
      </SimpleGrid>

      <StudentsPerCourse groups={coursesInSemester} semester={semester} selected={course} onSelect={setPickedCourse} />

      <StaticCharts lastLiveUpdate={counters.updatedAt} semesters={semesters} courses={allCourses} />
    </>
  );
}

function StatCard(props: {
  label: string;
  value: ReactNode;
  loading?: boolean;
  testId?: string;
  children?: ReactNode;
}) {
  return (
    <Paper withBorder radius="md" p="lg">
      <Text size="xs" tt="uppercase" fw={700} c="dimmed" style={{ letterSpacing: 0.5 }}>
        {props.label}
      </Text>
      {props.loading ? (
        <Skeleton height={38} width="60%" my={6} />
      ) : (
        <Title
          order={2}
          fz={38}
          fw={750}
          my={2}
          data-testid={props.testId}
          style={{ fontVariantNumeric: 'tabular-nums' }}
        >
          {props.value}
        </Title>
      )}
      {props.children}
    </Paper>
  );
}

function SelectedGroupCard(props: {
  socket: ReturnType<typeof useLiveSocket>['socket'];
  course: string | null;
  semester: string | null;
  courses: string[];
  semesters: string[];
  onCourse: (c: string | null) => void;
  onSemester: (s: string | null) => void;
}) {
  const key = props.course && props.semester ? `${props.course}:${props.semester}` : null;
  const [group, setGroup] = useState<GroupCounters | null>(null);
  useEffect(() => setGroup(null), [key]);
  const room = useRoom<GroupCounters>(props.socket, key ? `grades:${key}` : null, 'grades:group', (g) => {
    // Events of a room left a moment ago may still be in flight.
    if (groupKey(g) !== key) return;
    setGroup((old) =>
      old ? { ...g, records: Math.max(old.records, g.records), students: Math.max(old.students, g.students) } : g,
    );
  });

  return (
    <Paper withBorder radius="md" p="lg">
      <Group justify="space-between" align="flex-start" wrap="nowrap">
        <Text size="xs" tt="uppercase" fw={700} c="dimmed" style={{ letterSpacing: 0.5 }}>
          Students in course
        </Text>
        {room.joined && (
          <Badge size="xs" variant="light" color="teal">
            live
          </Badge>
        )}
      </Group>
      <Title
        order={2}
        fz={38}
        fw={750}
        my={2}
        data-testid="live-group-students"
        style={{ fontVariantNumeric: 'tabular-nums' }}
      >
        {key ? fmt(group?.students) : '—'}
      </Title>
      <Text size="sm" c="dimmed" mb="xs">
        {group ? `${fmt(group.records)} records` : key ? 'Loading…' : 'No grades yet'}
      </Text>
      <Group gap="xs" grow>
        <Select
          size="xs"
          aria-label="Course"
          placeholder="Course"
          data={props.courses}
          value={props.course}
          onChange={props.onCourse}
          searchable
          allowDeselect={false}
          nothingFoundMessage="No course"
        />
        <Select
          size="xs"
          aria-label="Semester"
          placeholder="Semester"
          data={props.semesters}
          value={props.semester}
          onChange={props.onSemester}
          allowDeselect={false}
        />
      </Group>
      {room.error && (
        <Text size="xs" c="red" mt={6}>
          {room.error}
        </Text>
      )}
    </Paper>
  );
}

function StudentsPerCourse(props: {
  groups: GroupCounters[];
  semester: string | null;
  selected: string | null;
  onSelect: (course: string) => void;
}) {
  const shown = props.groups.slice(0, 12);
  const max = Math.max(1, ...shown.map((g) => g.students));
  return (
    <Paper withBorder radius="md" p="lg" mt="md">
      <Group justify="space-between" mb="sm">
        <Title order={4}>Students per course{props.semester ? ` · ${props.semester}` : ''}</Title>
        {props.groups.length > shown.length && (
          <Text size="sm" c="dimmed">
            Top {shown.length} of {props.groups.length}
          </Text>
        )}
      </Group>
      {shown.length === 0 ? (
        <EmptyState
          size="sm"
          py="md"
          icon={<IconSchool size={22} stroke={1.5} />}
          title="No grades yet"
          description="Figures appear here as soon as the first grade is committed."
        />
      ) : (
        <Table verticalSpacing={6} highlightOnHover data-testid="students-per-course">
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={110}>Course</Table.Th>
              <Table.Th>Students</Table.Th>
              <Table.Th ta="right" w={120}>
                Records
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.map((g) => (
              <Table.Tr
                key={groupKey(g)}
                onClick={() => props.onSelect(g.course)}
                style={{ cursor: 'pointer' }}
                bg={g.course === props.selected ? 'var(--mantine-primary-color-light)' : undefined}
              >
                <Table.Td fw={600}>{g.course}</Table.Td>
                <Table.Td>
                  <Group gap="sm" wrap="nowrap">
                    <Progress value={(g.students / max) * 100} w="100%" size="md" radius="sm" aria-hidden />
                    <Text size="sm" w={70} ta="right" style={{ fontVariantNumeric: 'tabular-nums' }}>
                      {fmt(g.students)}
                    </Text>
                  </Group>
                </Table.Td>
                <Table.Td ta="right" style={{ fontVariantNumeric: 'tabular-nums' }}>
                  {fmt(g.records)}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}

/**
 * Pass/fail and the top lists come from the analytics endpoints, which read SQL. They refresh on
 * a slow cadence while live updates arrive, so a burst of ingest costs a few queries, not one per grade.
 */
function StaticCharts(props: { lastLiveUpdate: number | null; semesters: string[]; courses: string[] }) {
  const { lastLiveUpdate, semesters, courses } = props;
  const qc = useQueryClient();
  const [semester, setSemester] = useState<string | null>(null);
  const [course, setCourse] = useState<string | null>(null);
  const [refreshedAt, setRefreshedAt] = useState<number>(() => Date.now());

  const filter: AnalyticsFilter = useMemo(() => {
    const s = semester ? parseSemesterKey(semester) : undefined;
    return { ...(s ?? {}), ...(course ? { course } : {}) };
  }, [semester, course]);
  const { course: _course, ...semesterFilter } = filter;

  const passFail = useQuery({
    queryKey: [ANALYTICS_KEY, 'pass-fail', filter],
    queryFn: ({ signal }) => analyticsApi.passFail(filter, signal),
    placeholderData: (prev) => prev,
  });
  const topCourses = useQuery({
    queryKey: [ANALYTICS_KEY, 'top-courses', semesterFilter],
    queryFn: ({ signal }) => analyticsApi.topCourses(semesterFilter, 3, signal),
    placeholderData: (prev) => prev,
  });
  const topStudents = useQuery({
    queryKey: [ANALYTICS_KEY, 'top-students', semesterFilter],
    queryFn: ({ signal }) => analyticsApi.topStudents(semesterFilter, 5, signal),
    placeholderData: (prev) => prev,
  });

  const lastUpdate = useRef(lastLiveUpdate);
  lastUpdate.current = lastLiveUpdate;
  const lastRefresh = useRef(refreshedAt);
  useEffect(() => {
    const timer = setInterval(() => {
      const changed = lastUpdate.current !== null && lastUpdate.current > lastRefresh.current;
      if (!changed) return;
      const t = Date.now();
      lastRefresh.current = t;
      setRefreshedAt(t);
      void qc.invalidateQueries({ queryKey: [ANALYTICS_KEY] });
    }, CHART_REFRESH_MS);
    return () => clearInterval(timer);
  }, [qc]);

  const pieData = passFail.data
    ? [
        { name: 'Passed', value: passFail.data.passed, color: 'teal.6' },
        { name: 'Failed', value: passFail.data.failed, color: 'red.6' },
      ]
    : [];
  const graded = passFail.data ? passFail.data.passed + passFail.data.failed : 0;

  return (
    <Box mt="xl">
      <Group justify="space-between" align="flex-end" mb="sm" wrap="wrap">
        <Box>
          <Title order={3}>Results</Title>
          <Text size="sm" c="dimmed">
            Effective grades (each student&apos;s latest record per course and semester). Refreshed every{' '}
            {CHART_REFRESH_MS / 1000} s while grades arrive · last at {formatTime(new Date(refreshedAt).toISOString())}
          </Text>
        </Box>
        <Group gap="sm">
          <Select
            size="sm"
            w={170}
            aria-label="Chart semester"
            placeholder="All semesters"
            data={semesters}
            value={semester}
            onChange={setSemester}
            clearable
          />
          <Select
            size="sm"
            w={170}
            aria-label="Chart course"
            placeholder="All courses"
            data={courses}
            value={course}
            onChange={setCourse}
            searchable
            clearable
            nothingFoundMessage="No course"
          />
        </Group>
      </Group>

      <SimpleGrid cols={{ base: 1, md: 3 }} spacing="md">
        <ChartCard title={`Pass / fail${filter.course ? ` · ${filter.course}` : ''}`} error={passFail.error}>
          {passFail.isPending ? (
            <Skeleton height={220} circle mx="auto" />
          ) : graded === 0 ? (
            <NoData icon={<IconChartPie size={22} stroke={1.5} />} />
          ) : (
            <Stack align="center" gap="xs" data-testid="chart-pass-fail">
              <PieChart
                data={pieData}
                size={200}
                withLabels
                labelsType="percent"
                withTooltip
                tooltipDataSource="segment"
              />
              <Group gap="lg">
                <Text size="sm">
                  <Text span c="teal.7" fw={700}>
                    {fmt(passFail.data?.passed)}
                  </Text>{' '}
                  passed
                </Text>
                <Text size="sm">
                  <Text span c="red.7" fw={700}>
                    {fmt(passFail.data?.failed)}
                  </Text>{' '}
                  failed
                </Text>
              </Group>
            </Stack>
          )}
        </ChartCard>

        <ChartCard title="Top courses by students" error={topCourses.error}>
          {topCourses.isPending ? (
            <Skeleton height={220} />
          ) : !topCourses.data?.length ? (
            <NoData icon={<IconChartBar size={22} stroke={1.5} />} />
          ) : (
            <BarChart
              data-testid="chart-top-courses"
              h={240}
              data={topCourses.data}
              dataKey="course"
              series={[{ name: 'students', label: 'Students', color: 'indigo.6' }]}
              tickLine="y"
              withBarValueLabel
              valueFormatter={(v) => v.toLocaleString()}
            />
          )}
        </ChartCard>

        <ChartCard title="Top students by average" error={topStudents.error}>
          {topStudents.isPending ? (
            <Skeleton height={220} />
          ) : !topStudents.data?.length ? (
            <NoData icon={<IconChartBar size={22} stroke={1.5} />} />
          ) : (
            <BarChart
              data-testid="chart-top-students"
              h={240}
              data={topStudents.data.map((s) => ({ name: s.studentName || s.studentCode, average: round1(s.average) }))}
              dataKey="name"
              orientation="vertical"
              yAxisProps={{ width: 110 }}
              xAxisProps={{ domain: [0, 100] }}
              series={[{ name: 'average', label: 'Average', color: 'grape.6' }]}
              withBarValueLabel
            />
          )}
        </ChartCard>
      </SimpleGrid>
    </Box>
  );
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function ChartCard({ title, error, children }: { title: string; error: unknown; children: ReactNode }) {
  return (
    <Paper withBorder radius="md" p="lg">
      <Text fw={650} mb="sm">
        {title}
      </Text>
      {error ? <ErrorAlert error={error} /> : children}
    </Paper>
  );
}

function NoData({ icon }: { icon: ReactNode }) {
  return (
    <Center mih={220}>
      <EmptyState size="sm" icon={icon} title="No grades for this selection" />
    </Center>
  );
}
