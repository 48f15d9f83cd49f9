import {
  Badge,
  Button,
  Card,
  Center,
  EmptyState,
  Grid,
  Group,
  SimpleGrid,
  Skeleton,
  Stack,
  Text,
  ThemeIcon,
  Title,
  UnstyledButton,
} from '@mantine/core';
import {
  IconBook2,
  IconCalendarEvent,
  IconChalkboard,
  IconCoffee,
  IconFileImport,
  IconKey,
  IconPlus,
  IconSchool,
  IconUserPlus,
  IconUsers,
  IconUserStar,
  type Icon,
} from '@tabler/icons-react';
import { useQueries, useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { useUser } from '../../app/auth.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { formatRelative, formatTime, isoDay } from '../../components/format.ts';
import { academicsApi, SESSION_STATUS_COLORS, type ClassSession, type Offering } from '../academics/api.ts';
import { attendanceApi } from '../attendance/api.ts';
import { AttendanceCard } from '../attendance/attendance-page.tsx';
import { useMyEnrollments } from '../academics/my-courses-page.tsx';
import { OfferingCards } from '../academics/offering-cards.tsx';
import { identityApi } from '../identity/api.ts';
import { UserName } from '../identity/user-name.tsx';

function greeting(): string {
  const h = new Date().getHours();
  if (h < 12) return 'Good morning';
  if (h < 19) return 'Good afternoon';
  return 'Good evening';
}

function Welcome({ subtitle }: { subtitle: string }) {
  const me = useUser();
  const first = me.fullName.split(/\s+/)[0] ?? me.fullName;
  return (
    <Stack gap={4} mb="xl">
      <Title order={2} fz={28}>
        {greeting()}, {first}
      </Title>
      <Text c="dimmed">
        {new Date().toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long' })} · {subtitle}
      </Text>
    </Stack>
  );
}

export function HomePage() {
  const me = useUser();
  if (me.role === 'admin') return <AdminHome />;
  if (me.role === 'teacher') return <TeacherHome />;
  return <StudentHome />;
}

// ---- admin -----------------------------------------------------------------------------------

function StatCard(props: {
  label: string;
  value: number | undefined;
  icon: Icon;
  to: string;
  color: string;
  loading: boolean;
}) {
  return (
    <UnstyledButton component={Link} to={props.to} aria-label={props.label}>
      <Card padding="lg" radius="md" className="aula-stat-card">
        <Group justify="space-between" wrap="nowrap">
          <div>
            <Text size="xs" c="dimmed" tt="uppercase" fw={700} style={{ letterSpacing: 0.5 }}>
              {props.label}
            </Text>
            {props.loading ? (
              <Skeleton height={30} width={60} mt={6} />
            ) : (
              <Text fz={30} fw={750} className="aula-tabular" lh={1.3}>
                {props.value?.toLocaleString() ?? '—'}
              </Text>
            )}
          </div>
          <ThemeIcon size={46} radius="md" variant="light" color={props.color}>
            <props.icon size={24} stroke={1.6} />
          </ThemeIcon>
        </Group>
      </Card>
    </UnstyledButton>
  );
}

function Shortcut({ icon: I, label, description, to }: { icon: Icon; label: string; description: string; to: string }) {
  return (
    <UnstyledButton component={Link} to={to}>
      <Group gap="sm" wrap="nowrap" p="xs" style={{ borderRadius: 8 }}>
        <ThemeIcon variant="default" size={36} radius="md">
          <I size={18} stroke={1.6} />
        </ThemeIcon>
        <div>
          <Text size="sm" fw={600}>
            {label}
          </Text>
          <Text size="xs" c="dimmed">
            {description}
          </Text>
        </div>
      </Group>
    </UnstyledButton>
  );
}

function AdminHome() {
  const count = (key: string, fn: () => Promise<{ total: number }>) => ({
    queryKey: ['home', 'count', key],
    queryFn: async () => (await fn()).total,
  });
  const [students, teachers, courses, offerings, semesters] = useQueries({
    queries: [
      count('students', () => identityApi.listUsers({ role: 'student', limit: 1 })),
      count('teachers', () => identityApi.listUsers({ role: 'teacher', limit: 1 })),
      count('courses', () => academicsApi.listCourses({ limit: 1 })),
      count('offerings', () => academicsApi.listOfferings({ limit: 1 })),
      count('semesters', () => academicsApi.listSemesters({ limit: 1 })),
    ],
  });
  const audit = useQuery({
    queryKey: ['audit', 'recent'],
    queryFn: () => identityApi.listAudit({ limit: 6, offset: 0 }),
  });

  return (
    <>
      <Welcome subtitle="Here is your school at a glance." />
      <SimpleGrid cols={{ base: 1, xs: 2, md: 3, lg: 5 }} spacing="md" mb="xl">
        <StatCard
          label="Students"
          value={students.data}
          loading={students.isPending}
          icon={IconSchool}
          to="/admin/users"
          color="blue"
        />
        <StatCard
          label="Teachers"
          value={teachers.data}
          loading={teachers.isPending}
          icon={IconUserStar}
          to="/admin/users"
          color="teal"
        />
        <StatCard
          label="Courses"
          value={courses.data}
          loading={courses.isPending}
          icon={IconBook2}
          to="/courses"
          color="grape"
        />
        <StatCard
          label="Offerings"
          value={offerings.data}
          loading={offerings.isPending}
          icon={IconChalkboard}
          to="/offerings"
          color="orange"
        />
        <StatCard
          label="Semesters"
          value={semesters.data}
          loading={semesters.isPending}
          icon={IconCalendarEvent}
          to="/semesters"
          color="cyan"
        />
      </SimpleGrid>

      <AttendanceCards todayOnly />

      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Card padding="lg" radius="md" h="100%">
            <Title order={3} fz="md" mb="sm">
              Shortcuts
            </Title>
            <Stack gap={4}>
              <Shortcut
                icon={IconUserPlus}
                label="Add a user"
                description="Teachers, students and administrators"
                to="/admin/users"
              />
              <Shortcut
                icon={IconPlus}
                label="Create a course"
                description="Code, name and passing grade"
                to="/courses"
              />
              <Shortcut
                icon={IconChalkboard}
                label="Open an offering"
                description="Teacher, room and weekly schedule"
                to="/offerings"
              />
              <Shortcut
                icon={IconFileImport}
                label="Import a roster"
                description="From an offering's Students tab"
                to="/offerings"
              />
              <Shortcut
                icon={IconKey}
                label="Issue an API token"
                description="For cameras and ingest clients"
                to="/admin/tokens"
              />
            </Stack>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Card padding="lg" radius="md" h="100%">
            <Group justify="space-between" mb="sm">
              <Title order={3} fz="md">
                Recent activity
              </Title>
              <Button component={Link} to="/admin/audit" variant="subtle" size="xs">
                Audit log
              </Button>
            </Group>
            {audit.error ? <ErrorAlert error={audit.error} /> : null}
            <Stack gap="xs">
              {audit.isPending && [0, 1, 2, 3].map((i) => <Skeleton key={i} height={22} />)}
              {audit.data?.items.length === 0 && (
                <Text size="sm" c="dimmed">
                  Nothing has happened yet.
                </Text>
              )}
              {audit.data?.items.map((a) => (
                <Group key={a.id} justify="space-between" wrap="nowrap" gap="sm">
                  <Group gap="sm" wrap="nowrap" style={{ minWidth: 0 }}>
                    <UserName id={a.actorId} />
                    <Badge variant="light" tt="none" radius="sm" color="gray">
                      {a.action}
                    </Badge>
                  </Group>
                  <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                    {formatRelative(a.createdAt)}
                  </Text>
                </Group>
              ))}
            </Stack>
          </Card>
        </Grid.Col>
      </Grid>
    </>
  );
}

// ---- attendance ------------------------------------------------------------------------------

/**
 * One attendance card per offering: today's session with its counts and the lowest attenders.
 * Admins see only the offerings meeting today; a school has too many to show them all.
 */
function AttendanceCards({ todayOnly = false }: { todayOnly?: boolean }) {
  const q = useQuery({ queryKey: ['attendance', 'dashboard'], queryFn: () => attendanceApi.dashboard() });
  if (q.error) return <ErrorAlert error={q.error} mb="xl" />;
  if (q.isPending) return <Skeleton height={150} mb="xl" />;
  const cards = todayOnly ? q.data.items.filter((c) => c.today) : q.data.items;
  if (cards.length === 0) return null;
  return (
    <>
      <Group justify="space-between" mb="sm">
        <Title order={3} fz="lg">
          Attendance
        </Title>
        <Button component={Link} to="/attendance" variant="subtle" size="xs">
          All offerings
        </Button>
      </Group>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} mb="xl" data-testid="home-attendance">
        {cards.map((c) => (
          <AttendanceCard key={c.offeringId} card={c} threshold={q.data.threshold} />
        ))}
      </SimpleGrid>
    </>
  );
}

// ---- teacher ---------------------------------------------------------------------------------

function TeacherHome() {
  const offerings = useQuery({
    queryKey: ['offerings', 'list', 'home'],
    queryFn: () => academicsApi.listOfferings({ limit: 100 }),
  });
  const list = offerings.data?.items ?? [];
  const today = isoDay(new Date());
  const sessions = useQueries({
    queries: list.map((o) => ({
      queryKey: ['sessions', o.id, 'today', today],
      queryFn: () => academicsApi.listSessions(o.id, { from: today, to: today, limit: 20 }),
    })),
  });
  const todays = sessions
    .flatMap((q, i) => (q.data?.items ?? []).map((s) => ({ session: s, offering: list[i] })))
    .sort((a, b) => a.session.startsAt.localeCompare(b.session.startsAt));
  const loadingToday = offerings.isPending || sessions.some((s) => s.isPending);

  return (
    <>
      <Welcome subtitle={`You teach ${list.length} offering${list.length === 1 ? '' : 's'}.`} />
      {offerings.error ? <ErrorAlert error={offerings.error} mb="md" /> : null}
      <Title order={3} fz="lg" mb="sm">
        Today's sessions
      </Title>
      <Card padding="md" radius="md" mb="xl">
        {loadingToday ? (
          <Stack gap="xs">
            {[0, 1].map((i) => (
              <Skeleton key={i} height={40} />
            ))}
          </Stack>
        ) : todays.length === 0 ? (
          <Center py="lg">
            <EmptyState
              size="sm"
              withIndicatorBackground
              icon={<IconCoffee size={22} stroke={1.5} />}
              title="No classes today"
              description="Sessions appear here once generated from your offerings' schedules."
            />
          </Center>
        ) : (
          <Stack gap={0}>
            {todays.map(({ session, offering }) => (
              <TodayRow key={session.id} session={session} offering={offering} />
            ))}
          </Stack>
        )}
      </Card>
      <AttendanceCards />
      <Title order={3} fz="lg" mb="sm">
        Your offerings
      </Title>
      {offerings.isPending ? (
        <Skeleton height={150} />
      ) : list.length ? (
        <OfferingCards offerings={list} />
      ) : (
        <Text c="dimmed">No offerings are assigned to you yet.</Text>
      )}
    </>
  );
}

function TodayRow({ session, offering }: { session: ClassSession; offering: Offering }) {
  return (
    <UnstyledButton component={Link} to={`/sessions/${session.id}/attendance`}>
      <Group
        justify="space-between"
        py="sm"
        px="xs"
        wrap="nowrap"
        style={{ borderBottom: '1px solid var(--mantine-color-default-border)' }}
      >
        <Group gap="md" wrap="nowrap">
          <Text fw={700} className="aula-tabular" w={110}>
            {formatTime(session.startsAt)}–{formatTime(session.endsAt)}
          </Text>
          <div>
            <Text fw={600} size="sm">
              {offering.courseCode} · {offering.courseName}
            </Text>
            <Text size="xs" c="dimmed">
              Section {offering.section}
              {offering.room ? ` · ${offering.room}` : ''} · {offering.enrolledCount} students
            </Text>
          </div>
        </Group>
        <Badge variant="light" color={SESSION_STATUS_COLORS[session.status]}>
          {session.status}
        </Badge>
      </Group>
    </UnstyledButton>
  );
}

// ---- student ---------------------------------------------------------------------------------

function StudentHome() {
  const mine = useMyEnrollments();
  const list = mine.data ?? [];
  const weekday = ((new Date().getDay() + 6) % 7) + 1;
  const today = list
    .flatMap((o) => o.schedule.filter((s) => s.day === weekday).map((s) => ({ o, s })))
    .sort((a, b) => a.s.start.localeCompare(b.s.start));

  return (
    <>
      <Welcome subtitle={`You are enrolled in ${list.length} course${list.length === 1 ? '' : 's'}.`} />
      {mine.error ? <ErrorAlert error={mine.error} mb="md" /> : null}
      <Title order={3} fz="lg" mb="sm">
        Today
      </Title>
      <Card padding="md" radius="md" mb="xl">
        {mine.isPending ? (
          <Skeleton height={40} />
        ) : today.length === 0 ? (
          <Group gap="sm" py="xs">
            <IconCoffee size={20} opacity={0.6} />
            <Text c="dimmed" size="sm">
              No classes today.
            </Text>
          </Group>
        ) : (
          <Stack gap="xs">
            {today.map(({ o, s }, i) => (
              <Row
                key={i}
                time={`${s.start}–${s.end}`}
                title={`${o.courseCode} · ${o.courseName}`}
                detail={o.room ?? ''}
              />
            ))}
          </Stack>
        )}
      </Card>
      <Title order={3} fz="lg" mb="sm">
        Your courses
      </Title>
      {mine.isPending ? (
        <Skeleton height={150} />
      ) : list.length ? (
        <OfferingCards offerings={list} showCount={false} />
      ) : (
        <Group gap="sm">
          <IconUsers size={18} opacity={0.6} />
          <Text c="dimmed">You are not enrolled in any course yet.</Text>
        </Group>
      )}
    </>
  );
}

function Row({ time, title, detail }: { time: string; title: string; detail: ReactNode }) {
  return (
    <Group gap="md" wrap="nowrap">
      <Text fw={700} className="aula-tabular" w={110}>
        {time}
      </Text>
      <div>
        <Text fw={600} size="sm">
          {title}
        </Text>
        {detail && (
          <Text size="xs" c="dimmed">
            {detail}
          </Text>
        )}
      </div>
    </Group>
  );
}
