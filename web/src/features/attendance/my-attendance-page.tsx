import { Badge, Group, Paper, Progress, SimpleGrid, Stack, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { PageLoader } from '../../app/page-states.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { formatDateTime, formatTime } from '../../components/format.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { attendanceApi, STATUS_COLOR, STATUS_LABEL } from './api.ts';

/** A student's own attendance: the percentage per course and every session's status. */
export function MyAttendancePage() {
  const q = useQuery({ queryKey: ['attendance', 'mine'], queryFn: () => attendanceApi.mine() });
  if (q.isPending) return <PageLoader />;
  if (q.error) return <ErrorAlert error={q.error} />;
  const { items, offerings } = q.data;
  return (
    <Stack>
      <PageHeader
        title="My attendance"
        description="Your attendance in each course, and the status of every class session."
      />
      {offerings.length === 0 ? (
        <Text c="dimmed">No attendance has been recorded for you yet.</Text>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }}>
          {offerings.map((o) => (
            <Paper key={o.offeringId} withBorder p="md">
              <Text fw={600}>
                {o.courseCode} {o.courseName}
              </Text>
              <Group gap="xs" mt="xs">
                <Progress value={o.percent ?? 0} color={o.belowThreshold ? 'red' : 'teal'} w={140} />
                <Text fw={700} c={o.belowThreshold ? 'red' : undefined}>
                  {o.percent === null ? '—' : `${o.percent}%`}
                </Text>
              </Group>
              <Text size="xs" c="dimmed" mt={4}>
                over {o.counted} session(s){o.belowThreshold ? ' · below the required attendance' : ''}
              </Text>
            </Paper>
          ))}
        </SimpleGrid>
      )}
      {items.length > 0 && (
        <Table verticalSpacing="xs" data-testid="my-attendance">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Session</Table.Th>
              <Table.Th>Course</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>First seen</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((i) => (
              <Table.Tr key={i.sessionId}>
                <Table.Td>{formatDateTime(i.startsAt)}</Table.Td>
                <Table.Td>
                  {i.courseCode} {i.courseName}
                </Table.Td>
                <Table.Td>
                  <Badge variant="light" color={STATUS_COLOR[i.status]}>
                    {STATUS_LABEL[i.status]}
                  </Badge>
                </Table.Td>
                <Table.Td>{i.firstSeenAt ? formatTime(i.firstSeenAt) : '—'}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
