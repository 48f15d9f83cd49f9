import {
  ActionIcon,
  Badge,
  Button,
  Group,
  Modal,
  NumberInput,
  Stack,
  Text,
  Textarea,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { IconBook2, IconPencil, IconPlus, IconTrash } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useConfirm } from '../../components/confirm-dialog.tsx';
import { columnHelper, DataTable } from '../../components/data-table.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { useFormState } from '../../components/form-state.ts';
import { notifySuccess } from '../../components/notify.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { academicsApi, type Course } from './api.ts';

const col = columnHelper<Course>();

export function CoursesPage() {
  const qc = useQueryClient();
  const [editing, setEditing] = useState<Course | null>(null);
  const [creating, setCreating] = useState(false);
  const [dialog, confirm] = useConfirm();
  const courses = useQuery({
    queryKey: ['courses', 'all'],
    queryFn: ({ signal }) => academicsApi.listCourses({ limit: 500 }, signal),
  });

  const columns = useMemo(
    () =>
      col.columns([
        col.accessor('code', {
          header: 'Code',
          meta: { width: 120 },
          cell: (info) => (
            <Text size="sm" fw={600} ff="monospace">
              {info.getValue()}
            </Text>
          ),
        }),
        col.accessor('name', {
          header: 'Name',
          meta: { wrap: true, minWidth: 240 },
          cell: (info) => (
            <div>
              <Text size="sm" fw={500}>
                {info.getValue()}
              </Text>
              {info.row.original.description && (
                <Text size="xs" c="dimmed" lineClamp={1}>
                  {info.row.original.description}
                </Text>
              )}
            </div>
          ),
        }),
        col.accessor('passingGrade', {
          header: 'Passing grade',
          meta: { align: 'right', width: 140 },
          cell: (info) => (
            <Badge variant="light" color="gray" className="aula-tabular">
              {info.getValue()} / 100
            </Badge>
          ),
        }),
        col.display({
          id: 'actions',
          header: '',
          meta: { align: 'right', width: 96 },
          cell: (info) => {
            const c = info.row.original;
            return (
              <Group gap={4} justify="flex-end" wrap="nowrap">
                <Tooltip label="Edit">
                  <ActionIcon variant="subtle" color="gray" aria-label={`Edit ${c.code}`} onClick={() => setEditing(c)}>
                    <IconPencil size={17} />
                  </ActionIcon>
                </Tooltip>
                <Tooltip label="Delete">
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    aria-label={`Delete ${c.code}`}
                    onClick={() =>
                      confirm({
                        title: `Delete ${c.code} ${c.name}?`,
                        message: 'A course that still has offerings cannot be deleted.',
                        confirmLabel: 'Delete course',
                        danger: true,
                        onConfirm: async () => {
                          await academicsApi.deleteCourse(c.id);
                          notifySuccess(`${c.code} was deleted`);
                          await qc.invalidateQueries({ queryKey: ['courses'] });
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
        title="Courses"
        description="The catalogue of subjects. Each course is offered in a semester by a teacher, with its own roster."
        actions={
          <Button leftSection={<IconPlus size={18} />} onClick={() => setCreating(true)}>
            New course
          </Button>
        }
      />
      <DataTable
        label="Courses"
        columns={columns}
        data={courses.data?.items ?? NONE}
        loading={courses.isPending}
        fetching={courses.isFetching}
        error={courses.error}
        getRowId={(c) => c.id}
        initialSort={{ id: 'code' }}
        searchPlaceholder="Search by code or name"
        emptyIcon={<IconBook2 size={22} stroke={1.5} />}
        emptyTitle="No courses yet"
        emptyDescription="Add the subjects your school teaches."
      />
      <CourseModal
        opened={creating || !!editing}
        course={editing}
        onClose={() => (setCreating(false), setEditing(null))}
      />
      {dialog}
    </>
  );
}

const NONE: Course[] = [];

interface CourseForm {
  code: string;
  name: string;
  description: string;
  passingGrade: number | '';
}

const emptyCourse: CourseForm = { code: '', name: '', description: '', passingGrade: 61 };

export function CourseModal(props: { opened: boolean; onClose: () => void; course?: Course | null }) {
  const qc = useQueryClient();
  const c = props.course;
  const form = useFormState<CourseForm>(emptyCourse);
  const { reset } = form;
  useEffect(() => {
    if (!props.opened) return;
    reset(
      c ? { code: c.code, name: c.name, description: c.description ?? '', passingGrade: c.passingGrade } : emptyCourse,
    );
  }, [props.opened, c, reset]);

  const save = useMutation({
    mutationFn: (v: CourseForm) => {
      const body = {
        code: v.code.trim(),
        name: v.name.trim(),
        description: v.description.trim() || null,
        passingGrade: v.passingGrade === '' ? 61 : v.passingGrade,
      };
      return c ? academicsApi.updateCourse(c.id, body) : academicsApi.createCourse(body);
    },
    onSuccess: async (saved) => {
      notifySuccess(`${saved.code} ${saved.name} ${c ? 'updated' : 'created'}`);
      await qc.invalidateQueries({ queryKey: ['courses'] });
      props.onClose();
    },
    onError: (err) => form.applyError(err),
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    form.clearErrors();
    save.mutate(form.values);
  };

  const v = form.values;
  return (
    <Modal
      opened={props.opened}
      onClose={props.onClose}
      title={<Text fw={650}>{c ? `Edit ${c.code}` : 'New course'}</Text>}
      size="lg"
    >
      <form onSubmit={submit} noValidate aria-label="Course">
        <Stack gap="sm">
          {form.formError ? <ErrorAlert error={form.formError} /> : null}
          <Group grow align="flex-start">
            <TextInput
              label="Code"
              description="Short and unique, e.g. SO1"
              required
              name="code"
              value={v.code}
              error={form.errors.code}
              onChange={(e) => form.set('code', e.currentTarget.value)}
              data-autofocus
            />
            <NumberInput
              label="Passing grade"
              description="On a 0–100 scale"
              name="passingGrade"
              min={0}
              max={100}
              allowDecimal={false}
              value={v.passingGrade}
              error={form.errors.passingGrade}
              onChange={(n) => form.set('passingGrade', n === '' ? '' : Number(n))}
            />
          </Group>
          <TextInput
            label="Name"
            required
            name="name"
            value={v.name}
            error={form.errors.name}
            onChange={(e) => form.set('name', e.currentTarget.value)}
          />
          <Textarea
            label="Description"
            name="description"
            autosize
            minRows={2}
            maxRows={6}
            value={v.description}
            error={form.errors.description}
            onChange={(e) => form.set('description', e.currentTarget.value)}
          />
          <Group justify="flex-end" mt="md">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {c ? 'Save changes' : 'Create course'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
