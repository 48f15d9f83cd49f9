import { Button, Group, Modal, NumberInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, type FormEvent } from 'react';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { useFormState } from '../../components/form-state.ts';
import { isoDay } from '../../components/format.ts';
import { notifySuccess } from '../../components/notify.ts';
import { UserPicker } from '../identity/user-picker.tsx';
import { academicsApi, type Offering, type OfferingInput, type ScheduleSlot } from './api.ts';
import { ScheduleEditor, scheduleProblems } from './schedule-editor.tsx';

interface OfferingForm {
  courseId: string | null;
  semesterId: string | null;
  section: string;
  teacherId: string | null;
  room: string;
  schedule: ScheduleSlot[];
  lateAfterMinutes: number | '';
}

const empty: OfferingForm = {
  courseId: null,
  semesterId: null,
  section: 'A',
  teacherId: null,
  room: '',
  schedule: [],
  lateAfterMinutes: 10,
};

export function useCourseOptions() {
  const q = useQuery({
    queryKey: ['courses', 'all'],
    queryFn: ({ signal }) => academicsApi.listCourses({ limit: 500 }, signal),
  });
  const options = useMemo(
    () =>
      [...(q.data?.items ?? [])]
        .sort((a, b) => a.code.localeCompare(b.code))
        .map((c) => ({ value: c.id, label: `${c.code} · ${c.name}` })),
    [q.data],
  );
  return { ...q, options };
}

export function useSemesterOptions() {
  const q = useQuery({
    queryKey: ['semesters', 'all'],
    queryFn: ({ signal }) => academicsApi.listSemesters({ limit: 500 }, signal),
  });
  const options = useMemo(
    () =>
      [...(q.data?.items ?? [])]
        .sort((a, b) => b.startsOn.localeCompare(a.startsOn))
        .map((s) => ({ value: s.id, label: `${s.code} · ${s.name}` })),
    [q.data],
  );
  const today = isoDay(new Date());
  const current = q.data?.items.find((s) => s.startsOn <= today && today <= s.endsOn) ?? null;
  return { ...q, options, current };
}

/** Create (no `offering`) or edit an offering: course, semester, teacher, room and weekly schedule. */
export function OfferingModal(props: {
  opened: boolean;
  onClose: () => void;
  offering?: Offering | null;
  onSaved?: (o: Offering) => void;
  /** The offering's teacher may change only the room, schedule and late threshold. */
  limited?: boolean;
}) {
  const limited = !!props.limited && !!props.offering;
  const qc = useQueryClient();
  const o = props.offering;
  const courses = useCourseOptions();
  const semesters = useSemesterOptions();
  const form = useFormState<OfferingForm>(empty);
  const { reset } = form;
  const currentSemesterId = semesters.current?.id ?? null;

  useEffect(() => {
    if (!props.opened) return;
    reset(
      o
        ? {
            courseId: o.courseId,
            semesterId: o.semesterId,
            section: o.section,
            teacherId: o.teacherId,
            room: o.room ?? '',
            schedule: o.schedule,
            lateAfterMinutes: o.lateAfterMinutes,
          }
        : { ...empty, semesterId: currentSemesterId },
    );
  }, [props.opened, o, reset, currentSemesterId]);

  const save = useMutation({
    mutationFn: (v: OfferingForm) => {
      const lateAfterMinutes = v.lateAfterMinutes === '' ? 10 : v.lateAfterMinutes;
      if (o && limited) {
        return academicsApi.updateOffering(o.id, {
          room: v.room.trim() || null,
          schedule: v.schedule,
          lateAfterMinutes,
        });
      }
      const body: OfferingInput = {
        courseId: v.courseId ?? '',
        semesterId: v.semesterId ?? '',
        section: v.section.trim() || 'A',
        teacherId: v.teacherId,
        room: v.room.trim() || null,
        schedule: v.schedule,
        lateAfterMinutes,
      };
      return o ? academicsApi.updateOffering(o.id, body) : academicsApi.createOffering(body);
    },
    onSuccess: async (saved) => {
      notifySuccess(`${saved.courseCode} section ${saved.section} ${o ? 'updated' : 'created'}`);
      await qc.invalidateQueries({ queryKey: ['offerings'] });
      props.onClose();
      props.onSaved?.(saved);
    },
    onError: (err) => form.applyError(err),
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = form.values;
    const errors: Record<string, string> = {};
    if (!v.courseId) errors.courseId = 'Choose a course';
    if (!v.semesterId) errors.semesterId = 'Choose a semester';
    if (scheduleProblems(v.schedule).some(Boolean)) errors.schedule = 'Fix the schedule first';
    if (Object.keys(errors).length) return form.setErrors(errors);
    form.clearErrors();
    save.mutate(v);
  };

  const v = form.values;
  return (
    <Modal
      opened={props.opened}
      onClose={props.onClose}
      title={<Text fw={650}>{o ? `Edit ${o.courseCode} section ${o.section}` : 'New offering'}</Text>}
      size="xl"
    >
      <form onSubmit={submit} noValidate aria-label="Offering">
        <Stack gap="sm">
          {form.formError ? <ErrorAlert error={form.formError} /> : null}
          <Group grow align="flex-start">
            <Select
              label="Course"
              required
              searchable
              data={courses.options}
              value={v.courseId}
              error={form.errors.courseId}
              onChange={(id) => form.set('courseId', id)}
              nothingFoundMessage={courses.isPending ? 'Loading…' : 'No courses: create one first'}
              placeholder="Choose a course"
              disabled={limited}
              comboboxProps={{ withinPortal: true }}
              data-autofocus
            />
            <Select
              label="Semester"
              required
              data={semesters.options}
              value={v.semesterId}
              error={form.errors.semesterId}
              onChange={(id) => form.set('semesterId', id)}
              nothingFoundMessage={semesters.isPending ? 'Loading…' : 'No semesters: create one first'}
              placeholder="Choose a semester"
              disabled={limited}
              comboboxProps={{ withinPortal: true }}
            />
          </Group>
          <Group grow align="flex-start">
            <TextInput
              label="Section"
              description="Parallel group, e.g. A or B"
              disabled={limited}
              value={v.section}
              error={form.errors.section}
              onChange={(e) => form.set('section', e.currentTarget.value)}
            />
            <TextInput
              label="Room"
              description="e.g. T3-214"
              value={v.room}
              error={form.errors.room}
              onChange={(e) => form.set('room', e.currentTarget.value)}
            />
            <NumberInput
              label="Late after (minutes)"
              description="Arrivals after this count as late"
              min={0}
              max={240}
              allowDecimal={false}
              value={v.lateAfterMinutes}
              error={form.errors.lateAfterMinutes}
              onChange={(n) => form.set('lateAfterMinutes', n === '' ? '' : Number(n))}
            />
          </Group>
          {limited ? (
            <TextInput label="Teacher" value={o?.teacherName ?? ''} disabled />
          ) : (
            <UserPicker
              label="Teacher"
              role="teacher"
              placeholder="Search teachers"
              value={v.teacherId}
              initialUser={
                o?.teacherId ? { id: o.teacherId, fullName: o.teacherName ?? 'Teacher', username: '' } : null
              }
              error={form.errors.teacherId}
              onChange={(id) => form.set('teacherId', id)}
              comboboxProps={{ withinPortal: true }}
            />
          )}
          <ScheduleEditor value={v.schedule} onChange={(s) => form.set('schedule', s)} error={form.errors.schedule} />
          <Group justify="flex-end" mt="md">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {o ? 'Save changes' : 'Create offering'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
