import { ActionIcon, Alert, Drawer, Paper, SimpleGrid, Stack, Text, Tooltip } from '@mantine/core';
import { IconHistory, IconInfoCircle } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { columnHelper, DataTable } from '../../components/data-table.tsx';
import { formatRelative } from '../../components/format.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { gradebookApi, type MyGrade } from './api.ts';
import { formatScore, GradeTimeline, PassBadge, SourceBadge } from './grade-badges.tsx';

type Row = MyGrade & { key: string; term: string };
const col = columnHelper<Row>();

export function MyGradesPage() {
  const mine = useQuery({ queryKey: ['my-grades'], queryFn: () => gradebookApi.mine() });
  const [open, setOpen] = useState<Row | null>(null);
  const rows = useMemo<Row[]>(
    () =>
      (mine.data?.grades ?? []).map((g) => ({
        ...g,
        key: `${g.course}:${g.year}-${g.semester}`,
        term: `${g.year}-${g.semester}`,
      })),
    [mine.data],
  );

  const columns = useMemo(
    () =>
      col.columns([
        col.accessor('term', {
          header: 'Semester',
          meta: {
            filter: {
              kind: 'select',
              placeholder: 'Any',
              options: [...new Set(rows.map((r) => r.term))]
                .sort()
                .reverse()
                .map((t) => ({ value: t, label: t })),
            },
          },
        }),
        col.accessor('course', {
          header: 'Course',
          cell: (info) => (
            <Stack gap={0}>
              <Text size="sm" fw={600}>
                {info.getValue()}
              </Text>
              {info.row.original.courseName && (
                <Text size="xs" c="dimmed">
                  {info.row.original.courseName}
                </Text>
              )}
            </Stack>
          ),
        }),
        col.accessor('score', {
          header: 'Grade',
          sortFn: 'basic',
          enableGlobalFilter: false,
          cell: (info) => (
            <Text size="sm" fw={700} c={info.row.original.passed ? undefined : 'red.7'}>
              {formatScore(info.getValue())}
            </Text>
          ),
        }),
        col.accessor((r) => (r.passed ? 'passed' : 'failed'), {
          id: 'status',
          header: 'Status',
          enableGlobalFilter: false,
          cell: (info) => <PassBadge passed={info.row.original.passed} />,
        }),
        col.accessor((r) => r.history[0]?.source ?? '', {
          id: 'source',
          header: 'Source',
          enableGlobalFilter: false,
          cell: (info) => <SourceBadge source={info.row.original.history[0]?.source ?? null} />,
        }),
        col.accessor('updatedAt', {
          header: 'Last updated',
          sortFn: 'datetime',
          enableGlobalFilter: false,
          cell: (info) => <Text size="sm">{formatRelative(info.getValue())}</Text>,
        }),
        col.display({
          id: 'history',
          header: '',
          meta: { align: 'right', width: 60 },
          cell: (info) => (
            <Tooltip label="History">
              <ActionIcon
                variant="subtle"
                aria-label={`History of ${info.row.original.course}`}
                onClick={() => setOpen(info.row.original)}
              >
                <IconHistory size={17} />
              </ActionIcon>
            </Tooltip>
          ),
        }),
      ]),
    [rows],
  );

  const passed = rows.filter((r) => r.passed).length;
  return (
    <>
      <PageHeader
        title="My grades"
        description="Your grade in each course and semester is the latest one recorded. Open the history to see every change."
      />
      {mine.data && mine.data.studentCode === null && (
        <Alert color="yellow" icon={<IconInfoCircle size={18} />} mb="md" title="No student code">
          Grades are recorded by student code, and your account has none yet. Ask an administrator to add it.
        </Alert>
      )}
      {rows.length > 0 && (
        <SimpleGrid cols={{ base: 3 }} spacing="sm" mb="md" maw={560}>
          <Figure label="Courses" value={rows.length} />
          <Figure label="Passed" value={passed} color="teal.7" />
          <Figure label="Failed" value={rows.length - passed} color="red.7" />
        </SimpleGrid>
      )}
      <DataTable
        label="my-grades"
        columns={columns}
        data={rows}
        getRowId={(r) => r.key}
        loading={mine.isPending}
        error={mine.error}
        initialSort={{ id: 'term', desc: true }}
        searchPlaceholder="Search courses"
        emptyTitle="No grades yet"
        emptyDescription="Grades appear here as soon as your teachers record them."
      />
      <Drawer
        opened={open !== null}
        onClose={() => setOpen(null)}
        position="right"
        title={<Text fw={650}>{open ? `${open.course} · ${open.term}` : ''}</Text>}
      >
        {open && (
          <Stack gap="md">
            <Text size="sm" c="dimmed">
              Passing grade {open.passingGrade}
            </Text>
            <GradeTimeline items={open.history} passingGrade={open.passingGrade} />
          </Stack>
        )}
      </Drawer>
    </>
  );
}

function Figure({ label, value, color }: { label: string; value: number; color?: string }) {
  return (
    <Paper withBorder radius="md" px="md" py="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text fz={22} fw={700} c={color}>
        {value}
      </Text>
    </Paper>
  );
}
