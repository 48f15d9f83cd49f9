import { Anchor, Badge, Button, Group, Paper, SimpleGrid, Stack, Text } from '@mantine/core';
import { IconCamera, IconChartBar } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { PageLoader } from '../../app/page-states.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { formatTime } from '../../components/format.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { attendanceApi, type DashboardCard } from './api.ts';

/** The attendance card of one offering: today's session and the lowest attenders. */
export function AttendanceCard({ card, threshold }: { card: DashboardCard; threshold: number }) {
  const t = card.today;
  return (
    <Paper withBorder p="md" radius="md" data-testid="attendance-card">
      <Group justify="space-between" align="flex-start">
        <div>
          <Text fw={650}>
            {card.courseCode} {card.courseName}
          </Text>
          <Text size="xs" c="dimmed">
            Section {card.section} · overall {card.percent === null ? '—' : `${card.percent}%`}
          </Text>
        </div>
        <Button
          component={Link}
          to={`/offerings/${card.offeringId}/attendance`}
          size="xs"
          variant="subtle"
          leftSection={<IconChartBar size={16} />}
        >
          Report
        </Button>
      </Group>
      {t ? (
        <Stack gap={4} mt="sm">
          <Text size="sm">
            Today {formatTime(t.startsAt)} ·{' '}
            <Badge size="sm" variant="light" color={t.status === 'closed' ? 'gray' : 'teal'}>
              {t.status}
            </Badge>
          </Text>
          <Text size="sm">
            {t.present} present · {t.late} late · {t.absent} absent of {t.enrolled}
          </Text>
          <Button
            component={Link}
            to={`/sessions/${t.sessionId}/attendance`}
            size="xs"
            leftSection={<IconCamera size={16} />}
            w="fit-content"
          >
            {t.status === 'closed' ? 'Review' : 'Take attendance'}
          </Button>
        </Stack>
      ) : (
        <Text size="sm" c="dimmed" mt="sm">
          No session today.
        </Text>
      )}
      {card.lowest.length > 0 && (
        <Stack gap={2} mt="sm">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            Lowest attendance
          </Text>
          {card.lowest.map((s) => (
            <Group key={s.studentId} justify="space-between">
              <Text size="sm">{s.fullName}</Text>
              <Text size="sm" fw={600} c={s.percent !== null && s.percent < threshold ? 'red' : undefined}>
                {s.percent === null ? '—' : `${s.percent}%`}
              </Text>
            </Group>
          ))}
        </Stack>
      )}
    </Paper>
  );
}

/** Teachers' and admins' start page for attendance: one card per offering. */
export function AttendancePage() {
  const q = useQuery({ queryKey: ['attendance', 'dashboard'], queryFn: () => attendanceApi.dashboard() });
  if (q.isPending) return <PageLoader />;
  if (q.error) return <ErrorAlert error={q.error} />;
  return (
    <Stack>
      <PageHeader
        title="Attendance"
        description={`Today's sessions and who attends least. Students under ${q.data.threshold}% are highlighted.`}
      />
      {q.data.items.length === 0 ? (
        <Text c="dimmed">
          No offerings to show. Sessions are listed on each{' '}
          <Anchor component={Link} to="/offerings">
            offering
          </Anchor>
          .
        </Text>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
          {q.data.items.map((c) => (
            <AttendanceCard key={c.offeringId} card={c} threshold={q.data.threshold} />
          ))}
        </SimpleGrid>
      )}
    </Stack>
  );
}
