import { LineChart } from '@mantine/charts';
import { Anchor, Badge, Button, Group, NumberInput, Paper, Progress, Stack, Table, Text } from '@mantine/core';
import { IconDownload } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { PageLoader } from '../../app/page-states.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { formatDate, formatDateTime } from '../../components/format.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { attendanceApi, type ReportStudent } from './api.ts';

const pct = (v: number | null) => (v === null ? '—' : `${v.toFixed(v % 1 ? 1 : 0)}%`);

/**
 * An offering's attendance: each student's percentage over the sessions held, those under the
 * threshold highlighted, the trend over the term, the sessions, and the CSV exports.
 */
export function AttendanceReportPage() {
  const { id = '' } = useParams();
  const report = useQuery({ queryKey: ['attendance', 'report', id], queryFn: () => attendanceApi.report(id) });
  const [threshold, setThreshold] = useState<number | null>(null);
  if (report.isPending) return <PageLoader />;
  if (report.error) return <ErrorAlert error={report.error} />;
  const r = report.data;
  const limit = threshold ?? r.threshold;
  const below = (s: ReportStudent) => s.percent !== null && s.percent < limit;
  const trend = r.trend.map((t) => ({ date: formatDate(t.startsAt), attendance: t.percent }));
  return (
    <Stack>
      <PageHeader
        title={`Attendance · ${r.courseCode} ${r.courseName}`}
        description={`Section ${r.section}, ${r.semesterCode}. ${r.sessions.length} session(s) held. Excused absences count neither for nor against.`}
        breadcrumbs={[{ label: 'Attendance', to: '/attendance' }, { label: `${r.courseCode} ${r.section}` }]}
        actions={
          <>
            <Button
              component="a"
              href={attendanceApi.exportUrl(id, 'csv')}
              variant="default"
              leftSection={<IconDownload size={18} />}
            >
              CSV (gradebook)
            </Button>
            <Button
              component="a"
              href={attendanceApi.exportUrl(id, 'xlsx')}
              variant="default"
              leftSection={<IconDownload size={18} />}
            >
              Excel (.xlsx)
            </Button>
            <Button
              component="a"
              href={attendanceApi.exportUrl(id, 'moodle')}
              variant="default"
              leftSection={<IconDownload size={18} />}
            >
              CSV (per session)
            </Button>
          </>
        }
      />
      {trend.length > 1 && (
        <Paper withBorder p="md">
          <Text fw={600} mb="sm">
            Attendance per session
          </Text>
          <LineChart
            h={220}
            data={trend}
            dataKey="date"
            series={[{ name: 'attendance', label: 'Attendance %', color: 'teal.6' }]}
            yAxisProps={{ domain: [0, 100] }}
            referenceLines={[{ y: limit, label: `Threshold ${limit}%`, color: 'red.6' }]}
            connectNulls
            valueFormatter={(v) => `${v}%`}
          />
        </Paper>
      )}
      <Paper withBorder p="md">
        <Group justify="space-between" mb="sm">
          <Text fw={600}>Students</Text>
          <NumberInput
            label="Highlight under"
            size="xs"
            w={140}
            min={0}
            max={100}
            suffix="%"
            value={limit}
            onChange={(v) => setThreshold(typeof v === 'number' ? v : null)}
          />
        </Group>
        <Table.ScrollContainer minWidth={700}>
          <Table verticalSpacing="xs" data-testid="report-students">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Student</Table.Th>
                <Table.Th>Present</Table.Th>
                <Table.Th>Late</Table.Th>
                <Table.Th>Absent</Table.Th>
                <Table.Th>Excused</Table.Th>
                <Table.Th w={220}>Attendance</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {r.students.map((s) => (
                <Table.Tr
                  key={s.studentId}
                  bg={below(s) ? 'var(--mantine-color-red-light)' : undefined}
                  data-below={below(s) || undefined}
                >
                  <Table.Td>
                    <Text size="sm" fw={550}>
                      {s.fullName}
                    </Text>
                    <Text size="xs" c="dimmed" ff="monospace">
                      {s.studentCode ?? s.email}
                    </Text>
                  </Table.Td>
                  <Table.Td>{s.present}</Table.Td>
                  <Table.Td>{s.late}</Table.Td>
                  <Table.Td>{s.absent}</Table.Td>
                  <Table.Td>{s.excused}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Progress
                        value={s.percent ?? 0}
                        color={below(s) ? 'red' : 'teal'}
                        w={110}
                        aria-label={`Attendance of ${s.fullName}`}
                      />
                      <Text size="sm" fw={600} c={below(s) ? 'red' : undefined}>
                        {pct(s.percent)}
                      </Text>
                      {below(s) && (
                        <Badge size="xs" color="red" variant="light">
                          under {limit}%
                        </Badge>
                      )}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Paper>
      <Paper withBorder p="md">
        <Text fw={600} mb="sm">
          Sessions
        </Text>
        <Table verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Present</Table.Th>
              <Table.Th>Late</Table.Th>
              <Table.Th>Absent</Table.Th>
              <Table.Th>Attendance</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {r.sessions.map((s) => (
              <Table.Tr key={s.id}>
                <Table.Td>
                  <Anchor component={Link} to={`/sessions/${s.id}/attendance`} size="sm">
                    {formatDateTime(s.startsAt)}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <Badge variant="light" color={s.status === 'closed' ? 'gray' : 'teal'}>
                    {s.status}
                  </Badge>
                </Table.Td>
                <Table.Td>{s.present}</Table.Td>
                <Table.Td>{s.late}</Table.Td>
                <Table.Td>{s.absent}</Table.Td>
                <Table.Td>{pct(s.percent)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Paper>
    </Stack>
  );
}
