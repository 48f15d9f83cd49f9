import {
  ActionIcon,
  Badge,
  Button,
  Group,
  Modal,
  NumberInput,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { IconCalendarEvent, IconPencil, IconPlus, IconTrash } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useConfirm } from '../../components/confirm-dialog.tsx';
import { columnHelper, DataTable } from '../../components/data-table.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { useFormState } from '../../components/form-state.ts';
import { formatDate, isoDay } from '../../components/format.ts';
import { notifySuccess } from '../../components/notify.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { academicsApi, type Semester, type SemesterInput } from './api.ts';

const col = columnHelper<Semester>();

function isCurrent(s: Semester): boolean {
  const today = isoDay(new Date());
  return s.startsOn <= today && today <= s.endsOn;
}

export function SemestersPage() {
  const qc = useQueryClient();
  const [editing, setEditing] = useState<Semester | null>(null);
  const [creating, setCreating] = useState(false);
  const [dialog, confirm] = useConfirm();
  const semesters = useQuery({
    queryKey: ['semesters', 'all'],
    queryFn: ({ signal }) => academicsApi.listSemesters({ limit: 500 }, signal),
  });

  const columns = useMemo(
    () =>
      col.columns([
        col.accessor('code', {
          header: 'Code',
          cell: (info) => (
            <Group gap={8}>
              <Text size="sm" fw={600} ff="monospace">
                {info.getValue()}
              </Text>
              {isCurrent(info.row.original) && (
                <Badge size="xs" color="teal" variant="light">
                  current
                </Badge>
              )}
            </Group>
          ),
        }),
        col.accessor('name', { header: 'Name' }),
        col.accessor('year', { header: 'Year' }),
        col.accessor('term', { header: 'Term', cell: (info) => `Term ${info.getValue()}` }),
        col.accessor('startsOn', { header: 'Starts', cell: (info) => formatDate(info.getValue()) }),
        col.accessor('endsOn', { header: 'Ends', cell: (info) => formatDate(info.getValue()) }),
        col.display({
          id: 'actions',
          header: '',
          meta: { align: 'right', width: 96 },
          cell: (info) => {
            const s = info.row.original;
            return (
              <Group gap={4} justify="flex-end" wrap="nowrap">
                <Tooltip label="Edit">
                  <ActionIcon variant="subtle" color="gray" aria-label={`Edit ${s.code}`} onClick={() => setEditing(s)}>
                    <IconPencil size={17} />
                  </ActionIcon>
                </Tooltip>
                <Tooltip label="Delete">
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    aria-label={`Delete ${s.code}`}
                    onClick={() =>
                      confirm({
                        title: `Delete semester ${s.code}?`,
                        message: 'A semester that still has offerings cannot be deleted.',
                        confirmLabel: 'Delete semester',
                        danger: true,
                        onConfirm: async () => {
                          await academicsApi.deleteSemester(s.id);
                          notifySuccess(`Semester ${s.code} was deleted`);
                          await qc.invalidateQueries({ queryKey: ['semesters'] });
                        },
                      })
                    }
                  >
                    <IconTrash size={17} />
                  </ActionIcon>
                </Tooltip>
              </Group>
            );
          },
        }),
      ]),
    [confirm, qc],
  );

  return (
    <>
      <PageHeader
        title="Semesters"
        description="Terms of the school year. Offerings belong to a semester; class sessions are generated within its dates."
        actions={
          <Button leftSection={<IconPlus size={18} />} onClick={() => setCreating(true)}>
            New semester
          </Button>
        }
      />
      <DataTable
        label="Semesters"
        columns={columns}
        data={semesters.data?.items ?? NONE}
        loading={semesters.isPending}
        fetching={semesters.isFetching}
        error={semesters.error}
        getRowId={(s) => s.id}
        initialSort={{ id: 'startsOn', desc: true }}
        searchPlaceholder="Search semesters"
        emptyIcon={<IconCalendarEvent size={22} stroke={1.5} />}
        emptyTitle="No semesters yet"
        emptyDescription="Create the current semester first, then its courses' offerings."
      />
      <SemesterModal
        opened={creating || !!editing}
        semester={editing}
        onClose={() => (setCreating(false), setEditing(null))}
      />
      {dialog}
    </>
  );
}

const NONE: Semester[] = [];

function defaults(): SemesterInput {
  const now = new Date();
  const year = now.getFullYear();
  const term = now.getMonth() < 6 ? 1 : 2;
  return {
    code: `${year}-${term}`,
    name: `${term === 1 ? 'First' : 'Second'} semester ${year}`,
    year,
    term,
    startsOn: term === 1 ? `${year}-01-15` : `${year}-07-01`,
    endsOn: term === 1 ? `${year}-06-15` : `${year}-11-30`,
  };
}

export function SemesterModal(props: { opened: boolean; onClose: () => void; semester?: Semester | null }) {
  const qc = useQueryClient();
  const s = props.semester;
  const form = useFormState<SemesterInput>(defaults);
  const { reset } = form;
  useEffect(() => {
    if (!props.opened) return;
    if (s) {
      const { code, name, year, term, startsOn, endsOn } = s;
      reset({ code, name, year, term, startsOn, endsOn });
    } else reset(defaults());
  }, [props.opened, s, reset]);

  const save = useMutation({
    mutationFn: (v: SemesterInput) => {
      const body = { ...v, code: v.code.trim(), name: v.name.trim() };
      return s ? academicsApi.updateSemester(s.id, body) : academicsApi.createSemester(body);
    },
    onSuccess: async (saved) => {
      notifySuccess(`Semester ${saved.code} ${s ? 'updated' : 'created'}`);
      await qc.invalidateQueries({ queryKey: ['semesters'] });
      props.onClose();
    },
    onError: (err) => form.applyError(err),
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = form.values;
    if (v.startsOn && v.endsOn && v.endsOn < v.startsOn) return form.setErrors({ endsOn: 'Ends before it starts' });
    form.clearErrors();
    save.mutate(v);
  };

  const v = form.values;
  return (
    <Modal
      opened={props.opened}
      onClose={props.onClose}
      title={<Text fw={650}>{s ? `Edit ${s.code}` : 'New semester'}</Text>}
    >
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          {form.formError ? <ErrorAlert error={form.formError} /> : null}
          <Group grow align="flex-start">
            <TextInput
              label="Code"
              description="e.g. 2025-1"
              required
              value={v.code}
              error={form.errors.code}
              onChange={(e) => form.set('code', e.currentTarget.value)}
              data-autofocus
            />
            <NumberInput
              label="Year"
              required
              min={2000}
              max={2100}
              allowDecimal={false}
              value={v.year}
              error={form.errors.year}
              onChange={(n) => form.set('year', Number(n))}
            />
          </Group>
          <TextInput
            label="Name"
            required
            value={v.name}
            error={form.errors.name}
            onChange={(e) => form.set('name', e.currentTarget.value)}
          />
          <div>
            <Text size="sm" fw={500} mb={4}>
              Term
            </Text>
            <SegmentedControl
              aria-label="Term"
              data={[
                { value: '1', label: 'First (Jan–Jun)' },
                { value: '2', label: 'Second (Jul–Dec)' },
              ]}
              value={String(v.term)}
              onChange={(t) => form.set('term', Number(t))}
              fullWidth
            />
            {form.errors.term && (
              <Text size="xs" c="red" mt={4}>
                {form.errors.term}
              </Text>
            )}
          </div>
          <Group grow align="flex-start">
            <TextInput
              type="date"
              label="Starts on"
              required
              value={v.startsOn}
              error={form.errors.startsOn}
              onChange={(e) => form.set('startsOn', e.currentTarget.value)}
            />
            <TextInput
              type="date"
              label="Ends on"
              required
              value={v.endsOn}
              error={form.errors.endsOn}
              onChange={(e) => form.set('endsOn', e.currentTarget.value)}
            />
          </Group>
          <Group justify="flex-end" mt="md">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {s ? 'Save changes' : 'Create semester'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
