import {
  ActionIcon,
  Button,
  Drawer,
  Group,
  Loader,
  Modal,
  NumberInput,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  Tooltip,
  UnstyledButton,
} from '@mantine/core';
import { IconCheck, IconDownload, IconHistory, IconPencil, IconUpload, IconX } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useParams } from 'react-router-dom';
import { columnHelper, DataTable } from '../../components/data-table.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { FileDropzone } from '../../components/file-dropzone.tsx';
import { formatRelative } from '../../components/format.ts';
import { notifyError, notifySuccess } from '../../components/notify.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { gradebookApi, type Gradebook, type GradebookRow } from './api.ts';
import { formatScore, GradeTimeline, PassBadge, SourceBadge } from './grade-badges.tsx';
import { useLiveSocket, useRoom } from './use-live.ts';

const col = columnHelper<GradebookRow>();
const gradebookKey = (id: string) => ['gradebook', id] as const;

export function GradebookPage() {
  const { id = '' } = useParams();
  const qc = useQueryClient();
  const book = useQuery({ queryKey: gradebookKey(id), queryFn: () => gradebookApi.get(id) });
  const [historyOf, setHistoryOf] = useState<GradebookRow | null>(null);
  const [importing, setImporting] = useState(false);

  // Grades for this course may arrive from other sources while the page is open.
  const live = useLiveSocket();
  const o = book.data?.offering;
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useRoom(live.socket, o ? `grades:${o.courseCode}:${o.year}-${o.term}` : null, 'grades:group', () => {
    if (refetchTimer.current) return;
    refetchTimer.current = setTimeout(() => {
      refetchTimer.current = undefined;
      void qc.invalidateQueries({ queryKey: gradebookKey(id) });
    }, 2000);
  });
  useEffect(() => () => clearTimeout(refetchTimer.current), []);

  const columns = useMemo(
    () =>
      col.columns([
        col.accessor((r) => r.studentCode ?? '', {
          id: 'studentCode',
          header: 'Student code',
          cell: (info) => (
            <Text size="sm" ff="monospace">
              {info.getValue() || '—'}
            </Text>
          ),
        }),
        col.accessor('fullName', {
          header: 'Student',
          cell: (info) => (
            <Text size="sm" fw={550}>
              {info.getValue()}
            </Text>
          ),
        }),
        col.accessor((r) => r.score ?? -1, {
          id: 'score',
          header: 'Grade',
          enableGlobalFilter: false,
          sortFn: 'basic',
          meta: { width: 170 },
          cell: (info) => <ScoreCell offeringId={id} row={info.row.original} />,
        }),
        col.accessor((r) => (r.passed === null ? 'none' : r.passed ? 'passed' : 'failed'), {
          id: 'status',
          header: 'Status',
          enableGlobalFilter: false,
          meta: {
            filter: {
              kind: 'select',
              placeholder: 'Any',
              options: [
                { value: 'passed', label: 'Passed' },
                { value: 'failed', label: 'Failed' },
                { value: 'none', label: 'Not graded' },
              ],
            },
          },
          cell: (info) => <PassBadge passed={info.row.original.passed} />,
        }),
        col.accessor((r) => r.source ?? '', {
          id: 'source',
          header: 'Source',
          enableGlobalFilter: false,
          cell: (info) => <SourceBadge source={info.row.original.source} />,
        }),
        col.accessor((r) => r.updatedAt ?? '', {
          id: 'updatedAt',
          header: 'Last updated',
          enableGlobalFilter: false,
          sortFn: 'datetime',
          cell: (info) => (
            <Text size="sm" c={info.getValue() ? undefined : 'dimmed'}>
              {info.getValue() ? formatRelative(info.getValue()) : 'Never'}
            </Text>
          ),
        }),
        col.display({
          id: 'actions',
          header: '',
          meta: { align: 'right', width: 60 },
          cell: (info) => {
            const r = info.row.original;
            return (
              <Tooltip label="History">
                <ActionIcon
                  variant="subtle"
                  aria-label={`History of ${r.fullName}`}
                  disabled={!r.studentCode || r.score === null}
                  onClick={() => setHistoryOf(r)}
                >
                  <IconHistory size={17} />
                </ActionIcon>
              </Tooltip>
            );
          },
        }),
      ]),
    [id],
  );

  const title = o ? `${o.courseCode} · ${o.courseName}` : 'Gradebook';
  return (
    <>
      <PageHeader
        title={title}
        description={
          o
            ? `Gradebook of section ${o.section}, semester ${o.semesterCode}${o.teacherName ? `, taught by ${o.teacherName}` : ''}. Passing grade ${o.passingGrade}. Every change is kept: the latest record is the grade.`
            : undefined
        }
        breadcrumbs={[
          { label: 'Offerings', to: '/offerings' },
          { label: o ? `${o.courseCode} ${o.semesterCode} ${o.section}` : 'Offering', to: `/offerings/${id}` },
          { label: 'Gradebook' },
        ]}
        actions={
          <>
            <Button
              variant="default"
              leftSection={<IconDownload size={16} />}
              component="a"
              href={gradebookApi.exportUrl(id)}
              download
              disabled={!o}
            >
              Export CSV
            </Button>
            <Button leftSection={<IconUpload size={16} />} onClick={() => setImporting(true)} disabled={!o}>
              Import CSV
            </Button>
          </>
        }
      />

      {book.data && <Summary book={book.data} />}

      <DataTable
        label="gradebook"
        columns={columns}
        data={book.data?.students ?? []}
        getRowId={(r) => r.studentId}
        loading={book.isPending}
        fetching={book.isFetching}
        error={book.error}
        initialSort={{ id: 'fullName' }}
        initialPageSize={50}
        searchPlaceholder="Search by name or student code"
        emptyTitle="No students enrolled"
        emptyDescription="Enrol students in this offering to grade them."
      />

      <Drawer
        opened={historyOf !== null}
        onClose={() => setHistoryOf(null)}
        position="right"
        title={<Text fw={650}>{historyOf ? `History · ${historyOf.fullName}` : ''}</Text>}
      >
        {historyOf?.studentCode && <HistoryPanel offeringId={id} studentCode={historyOf.studentCode} />}
      </Drawer>

      <ImportModal
        offeringId={id}
        opened={importing}
        onClose={() => setImporting(false)}
        onDone={() => void qc.invalidateQueries({ queryKey: gradebookKey(id) })}
      />
    </>
  );
}

function Summary({ book }: { book: Gradebook }) {
  const s = book.summary;
  const items = [
    { label: 'Enrolled', value: s.enrolled.toLocaleString() },
    { label: 'Graded', value: s.graded.toLocaleString() },
    { label: 'Passed', value: s.passed.toLocaleString(), color: 'teal.7' },
    { label: 'Failed', value: s.failed.toLocaleString(), color: 'red.7' },
    { label: 'Average', value: s.average === null ? '—' : s.average.toFixed(1) },
  ];
  return (
    <SimpleGrid cols={{ base: 2, sm: 5 }} spacing="sm" mb="md" data-testid="gradebook-summary">
      {items.map((i) => (
        <Paper key={i.label} withBorder radius="md" px="md" py="sm">
          <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
            {i.label}
          </Text>
          <Text fz={22} fw={700} c={i.color}>
            {i.value}
          </Text>
        </Paper>
      ))}
    </SimpleGrid>
  );
}

/** The grade, editable in place: click, type, Enter saves, Escape cancels. */
function ScoreCell({ offeringId, row }: { offeringId: string; row: GradebookRow }) {
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState<number | string>(row.score ?? '');
  const save = useMutation({
    mutationFn: (score: number) => gradebookApi.setGrade(offeringId, row.studentCode!, score),
    onSuccess: async (updated) => {
      setEditing(false);
      notifySuccess(`${row.fullName}: ${formatScore(updated.score)}`, 'Grade saved');
      await qc.invalidateQueries({ queryKey: gradebookKey(offeringId) });
      await qc.invalidateQueries({ queryKey: ['grade-history', offeringId, row.studentCode] });
    },
    onError: (err) => notifyError(err, 'Grade not saved'),
  });

  if (!row.studentCode) {
    return (
      <Tooltip label="This student has no student code, which grades are keyed by">
        <Text size="sm" c="dimmed">
          —
        </Text>
      </Tooltip>
    );
  }

  if (!editing) {
    return (
      <UnstyledButton
        onClick={() => {
          setValue(row.score ?? '');
          setEditing(true);
        }}
        aria-label={`Edit grade of ${row.fullName}`}
        data-testid={`grade-${row.studentCode}`}
      >
        <Group gap={6} wrap="nowrap">
          <Text size="sm" fw={700} c={row.passed === false ? 'red.7' : undefined} miw={36}>
            {formatScore(row.score)}
          </Text>
          <IconPencil size={14} opacity={0.45} />
        </Group>
      </UnstyledButton>
    );
  }

  const submit = () => {
    const n = typeof value === 'number' ? value : Number(value);
    if (value === '' || !Number.isFinite(n) || n < 0 || n > 100) {
      notifyError(new Error('A grade is a number from 0 to 100'), 'Grade not saved');
      return;
    }
    save.mutate(n);
  };

  return (
    <Group gap={4} wrap="nowrap">
      <NumberInput
        size="xs"
        w={80}
        min={0}
        max={100}
        decimalScale={2}
        clampBehavior="strict"
        hideControls
        autoFocus
        value={value}
        onChange={setValue}
        aria-label={`Grade of ${row.fullName}`}
        onKeyDown={(e) => {
          if (e.key === 'Enter') submit();
          if (e.key === 'Escape') setEditing(false);
        }}
        disabled={save.isPending}
      />
      <ActionIcon
        size="sm"
        variant="light"
        color="teal"
        aria-label="Save grade"
        onClick={submit}
        loading={save.isPending}
      >
        <IconCheck size={14} />
      </ActionIcon>
      <ActionIcon size="sm" variant="subtle" color="gray" aria-label="Cancel" onClick={() => setEditing(false)}>
        <IconX size={14} />
      </ActionIcon>
    </Group>
  );
}

function HistoryPanel({ offeringId, studentCode }: { offeringId: string; studentCode: string }) {
  const history = useQuery({
    queryKey: ['grade-history', offeringId, studentCode],
    queryFn: () => gradebookApi.history(offeringId, studentCode),
  });
  if (history.isPending) return <Loader type="dots" />;
  if (history.error) return <ErrorAlert error={history.error} />;
  const h = history.data;
  return (
    <Stack gap="md">
      <Text size="sm" c="dimmed">
        {h.studentCode} · {h.records.length} record{h.records.length === 1 ? '' : 's'} · passing grade {h.passingGrade}
      </Text>
      <GradeTimeline items={h.records} passingGrade={h.passingGrade} />
    </Stack>
  );
}

function ImportModal(props: { offeringId: string; opened: boolean; onClose: () => void; onDone: () => void }) {
  const upload = useMutation({
    mutationFn: (file: File) => gradebookApi.importCsv(props.offeringId, file),
    onSuccess: (r) => {
      notifySuccess(
        `${r.accepted.toLocaleString()} grade${r.accepted === 1 ? '' : 's'} recorded${r.duplicates ? `, ${r.duplicates} already imported before` : ''}`,
        'CSV imported',
      );
      props.onDone();
      close();
    },
  });
  const close = () => {
    upload.reset();
    props.onClose();
  };
  return (
    <Modal opened={props.opened} onClose={close} title={<Text fw={650}>Import grades from CSV</Text>} size="lg">
      <Stack gap="md">
        <Text size="sm">
          One row per student with a header of <code>student_code,score</code> (or <code>carnet,nota</code>). Every row
          is checked first: if any row is wrong nothing is imported, and each problem is listed with its line.
        </Text>
        <FileDropzone
          onFiles={(files) => files[0] && upload.mutate(files[0])}
          title="Drop a CSV file here or click to choose"
          hint="Only students enrolled in this offering; grades from 0 to 100"
          accept={['text/csv', 'text/plain', 'application/vnd.ms-excel', '.csv']}
          maxFiles={1}
          maxSize={2 * 1024 * 1024}
          expects="a CSV file up to 2 MB"
          loading={upload.isPending}
          inputTestId="grades-csv-input"
        />
        {upload.error && <ErrorAlert error={upload.error} title="Nothing was imported" />}
      </Stack>
    </Modal>
  );
}
