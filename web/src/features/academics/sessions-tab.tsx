import {
  ActionIcon,
  Badge,
  Button,
  Group,
  Menu,
  Modal,
  NumberInput,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import {
  IconCalendarPlus,
  IconCalendarRepeat,
  IconDots,
  IconLock,
  IconLockOpen,
  IconPlayerPlay,
  IconTrash,
  IconCalendarOff,
  IconUserCheck,
} from '@tabler/icons-react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { useConfirm } from '../../components/confirm-dialog.tsx';
import { columnHelper, DataTable, useServerQuery } from '../../components/data-table.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { useFormState } from '../../components/form-state.ts';
import { addDays, formatTime, formatWeekdayDate, isoDay, startOfWeek } from '../../components/format.ts';
import { notifyError, notifySuccess } from '../../components/notify.ts';
import {
  academicsApi,
  SESSION_STATUS_COLORS,
  type ClassSession,
  type Offering,
  type Semester,
  type SessionStatus,
} from './api.ts';

const col = columnHelper<ClassSession>();

type Range = 'week' | 'upcoming' | 'past' | 'all';

function rangeParams(range: Range): { from?: string; to?: string } {
  const today = new Date();
  switch (range) {
    case 'week': {
      const monday = startOfWeek(today);
      return { from: isoDay(monday), to: isoDay(addDays(monday, 6)) };
    }
    case 'upcoming':
      return { from: isoDay(today) };
    case 'past':
      return { to: isoDay(addDays(today, -1)) };
    case 'all':
      return {};
  }
}

export function SessionsTab(props: { offering: Offering; semester: Semester | null; canManage: boolean }) {
  const { offering, canManage } = props;
  const qc = useQueryClient();
  const [range, setRange] = useState<Range>('upcoming');
  const [query, setQuery] = useServerQuery({ limit: 25 });
  const [generating, setGenerating] = useState(false);
  const [creating, setCreating] = useState(false);
  const [dialog, confirm] = useConfirm();

  const sessions = useQuery({
    queryKey: ['sessions', offering.id, range, query.limit, query.offset],
    queryFn: ({ signal }) =>
      academicsApi.listSessions(
        offering.id,
        // Past sessions read best newest first; everything else in calendar order.
        { ...rangeParams(range), limit: query.limit, offset: query.offset, order: range === 'past' ? 'desc' : 'asc' },
        signal,
      ),
    placeholderData: keepPreviousData,
  });

  const refresh = () => qc.invalidateQueries({ queryKey: ['sessions', offering.id] });

  const setStatus = useMutation({
    mutationFn: (v: { id: string; status: SessionStatus }) => academicsApi.updateSession(v.id, { status: v.status }),
    onSuccess: async (s) => {
      notifySuccess(
        s.status === 'open'
          ? 'Session opened: attendance is being taken'
          : s.status === 'closed'
            ? 'Session closed'
            : 'Session updated',
      );
      await refresh();
    },
    onError: (err) => notifyError(err, 'Could not change the session'),
  });

  const columns = useMemo(
    () =>
      col.columns([
        col.accessor('startsAt', {
          header: 'Date',
          enableSorting: false,
          cell: (info) => (
            <Text size="sm" fw={550}>
              {formatWeekdayDate(info.getValue())}
            </Text>
          ),
        }),
        col.accessor((s) => `${formatTime(s.startsAt)}–${formatTime(s.endsAt)}`, {
          id: 'time',
          header: 'Time',
          enableSorting: false,
          cell: (info) => (
            <Text size="sm" className="aula-tabular">
              {info.getValue()}
            </Text>
          ),
        }),
        col.accessor('lateAfterMinutes', {
          header: 'Late after',
          enableSorting: false,
          cell: (info) => `${info.getValue()} min`,
        }),
        col.accessor('status', {
          header: 'Status',
          enableSorting: false,
          cell: (info) => (
            <Badge variant="light" color={SESSION_STATUS_COLORS[info.getValue()]}>
              {info.getValue()}
            </Badge>
          ),
        }),
        ...(canManage
          ? [
              col.display({
                id: 'actions',
                header: '',
                meta: { align: 'right', width: 260 },
                cell: (info) => {
                  const s = info.row.original;
                  return (
                    <Group gap={4} justify="flex-end" wrap="nowrap">
                      <Button
                        component={Link}
                        to={`/sessions/${s.id}/attendance`}
                        size="compact-sm"
                        variant="subtle"
                        leftSection={<IconUserCheck size={14} />}
                        aria-label={`Attendance of ${formatWeekdayDate(s.startsAt)} ${formatTime(s.startsAt)}`}
                      >
                        Attendance
                      </Button>
                      {s.status === 'scheduled' && (
                        <Button
                          size="compact-sm"
                          variant="light"
                          leftSection={<IconPlayerPlay size={14} />}
                          onClick={() => setStatus.mutate({ id: s.id, status: 'open' })}
                        >
                          Open
                        </Button>
                      )}
                      {s.status === 'open' && (
                        <Button
                          size="compact-sm"
                          variant="light"
                          color="blue"
                          leftSection={<IconLock size={14} />}
                          onClick={() => setStatus.mutate({ id: s.id, status: 'closed' })}
                        >
                          Close
                        </Button>
                      )}
                      <Menu position="bottom-end" withinPortal>
                        <Menu.Target>
                          <ActionIcon variant="subtle" color="gray" aria-label="More session actions">
                            <IconDots size={17} />
                          </ActionIcon>
                        </Menu.Target>
                        <Menu.Dropdown>
                          {s.status === 'closed' && (
                            <Menu.Item
                              leftSection={<IconLockOpen size={16} />}
                              onClick={() => setStatus.mutate({ id: s.id, status: 'open' })}
                            >
                              Reopen
                            </Menu.Item>
                          )}
                          <Menu.Item
                            color="red"
                            leftSection={<IconTrash size={16} />}
                            onClick={() =>
                              confirm({
                                title: 'Delete this session?',
                                message: `The session of ${formatWeekdayDate(s.startsAt)} at ${formatTime(s.startsAt)} and its attendance records are removed.`,
                                confirmLabel: 'Delete session',
                                danger: true,
                                onConfirm: async () => {
                                  await academicsApi.deleteSession(s.id);
                                  notifySuccess('Session deleted');
                                  await refresh();
                                },
                              })
                            }
                          >
                            Delete
                          </Menu.Item>
                        </Menu.Dropdown>
                      </Menu>
                    </Group>
                  );
                },
              }),
            ]
          : []),
      ]),
    // setStatus.mutate is stable across renders
    [canManage, confirm, setStatus.mutate],
  );

  return (
    <>
      <DataTable
        mode="server"
        label="Class sessions"
        columns={columns}
        data={sessions.data?.items ?? NONE}
        total={sessions.data?.total ?? 0}
        query={query}
        onQueryChange={setQuery}
        loading={sessions.isPending}
        fetching={sessions.isFetching}
        error={sessions.error}
        getRowId={(s) => s.id}
        searchable={false}
        emptyIcon={<IconCalendarOff size={22} stroke={1.5} />}
        emptyTitle={range === 'week' ? 'No sessions this week' : 'No sessions in this range'}
        emptyDescription={canManage ? 'Generate them from the weekly schedule, or add one.' : undefined}
        toolbar={
          <Group justify="space-between" w="100%" wrap="wrap">
            <SegmentedControl
              aria-label="Which sessions"
              size="sm"
              value={range}
              onChange={(r) => {
                setRange(r);
                setQuery((q) => ({ ...q, offset: 0 }));
              }}
              data={[
                { value: 'week', label: 'This week' },
                { value: 'upcoming', label: 'Upcoming' },
                { value: 'past', label: 'Past' },
                { value: 'all', label: 'All' },
              ]}
            />
            {canManage && (
              <Group gap="sm">
                <Button
                  variant="light"
                  leftSection={<IconCalendarRepeat size={17} />}
                  onClick={() => setGenerating(true)}
                >
                  Generate from schedule
                </Button>
                <Button
                  variant="default"
                  leftSection={<IconCalendarPlus size={17} />}
                  onClick={() => setCreating(true)}
                >
                  Add session
                </Button>
              </Group>
            )}
          </Group>
        }
      />
      {canManage && (
        <>
          <GenerateModal
            opened={generating}
            onClose={() => setGenerating(false)}
            offering={offering}
            semester={props.semester}
            onDone={refresh}
          />
          <CreateSessionModal
            opened={creating}
            onClose={() => setCreating(false)}
            offering={offering}
            onDone={refresh}
          />
        </>
      )}
      {dialog}
    </>
  );
}

const NONE: ClassSession[] = [];

function GenerateModal(props: {
  opened: boolean;
  onClose: () => void;
  offering: Offering;
  semester: Semester | null;
  onDone: () => Promise<unknown>;
}) {
  const today = isoDay(new Date());
  const initialFrom = props.semester && props.semester.startsOn > today ? props.semester.startsOn : today;
  const initialTo = props.semester?.endsOn ?? isoDay(addDays(new Date(), 28));
  const form = useFormState({ from: initialFrom, to: initialTo });
  const run = useMutation({
    mutationFn: (v: { from: string; to: string }) => academicsApi.generateSessions(props.offering.id, v.from, v.to),
    onSuccess: async (r) => {
      notifySuccess(
        `${r.created} new session${r.created === 1 ? '' : 's'}${r.existing ? `, ${r.existing} already existed` : ''}`,
        'Sessions generated',
      );
      await props.onDone();
      props.onClose();
    },
    onError: (err) => form.applyError(err),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (form.values.to < form.values.from) return form.setErrors({ to: 'Ends before it starts' });
    form.clearErrors();
    run.mutate(form.values);
  };
  return (
    <Modal
      opened={props.opened}
      onClose={props.onClose}
      title={<Text fw={650}>Generate sessions from the schedule</Text>}
    >
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            One session is created for each weekly meeting between these dates. Sessions that already exist are kept as
            they are.
          </Text>
          {props.offering.schedule.length === 0 && (
            <Text size="sm" c="orange">
              This offering has no weekly schedule yet: edit the offering to add meetings.
            </Text>
          )}
          {form.formError ? <ErrorAlert error={form.formError} /> : null}
          <Group grow align="flex-start">
            <TextInput
              type="date"
              label="From"
              value={form.values.from}
              error={form.errors.from}
              onChange={(e) => form.set('from', e.currentTarget.value)}
            />
            <TextInput
              type="date"
              label="To"
              value={form.values.to}
              error={form.errors.to}
              onChange={(e) => form.set('to', e.currentTarget.value)}
            />
          </Group>
          <Group justify="flex-end" mt="md">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={run.isPending} disabled={props.offering.schedule.length === 0}>
              Generate
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function CreateSessionModal(props: {
  opened: boolean;
  onClose: () => void;
  offering: Offering;
  onDone: () => Promise<unknown>;
}) {
  const first = props.offering.schedule[0];
  const form = useFormState({
    date: isoDay(new Date()),
    start: first?.start ?? '08:00',
    end: first?.end ?? '09:40',
    lateAfterMinutes: props.offering.lateAfterMinutes as number | '',
  });
  const create = useMutation({
    mutationFn: (v: typeof form.values) =>
      academicsApi.createSession(props.offering.id, {
        startsAt: new Date(`${v.date}T${v.start}:00`).toISOString(),
        endsAt: new Date(`${v.date}T${v.end}:00`).toISOString(),
        ...(v.lateAfterMinutes === '' ? {} : { lateAfterMinutes: v.lateAfterMinutes }),
      }),
    onSuccess: async () => {
      notifySuccess('Session added');
      await props.onDone();
      props.onClose();
    },
    onError: (err) => form.applyError(err),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = form.values;
    if (!v.date || !v.start || !v.end) return form.setErrors({ date: 'Enter the date and both times' });
    if (v.end <= v.start) return form.setErrors({ end: 'Ends before it starts' });
    form.clearErrors();
    create.mutate(v);
  };
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={<Text fw={650}>Add a class session</Text>}>
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          {form.formError ? <ErrorAlert error={form.formError} /> : null}
          <TextInput
            type="date"
            label="Date"
            value={form.values.date}
            error={form.errors.date}
            onChange={(e) => form.set('date', e.currentTarget.value)}
          />
          <Group grow align="flex-start">
            <TextInput
              type="time"
              label="Starts"
              value={form.values.start}
              error={form.errors.start ?? form.errors.startsAt}
              onChange={(e) => form.set('start', e.currentTarget.value)}
            />
            <TextInput
              type="time"
              label="Ends"
              value={form.values.end}
              error={form.errors.end ?? form.errors.endsAt}
              onChange={(e) => form.set('end', e.currentTarget.value)}
            />
          </Group>
          <NumberInput
            label="Late after (minutes)"
            min={0}
            max={240}
            allowDecimal={false}
            value={form.values.lateAfterMinutes}
            error={form.errors.lateAfterMinutes}
            onChange={(n) => form.set('lateAfterMinutes', n === '' ? '' : Number(n))}
          />
          <Group justify="flex-end" mt="md">
            <Button variant="default" onClick={props.onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Add session
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
