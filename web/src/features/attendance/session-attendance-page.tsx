import { Badge, Button, Group, Paper, SimpleGrid, Stack, Tabs, Text } from '@mantine/core';
import {
  IconCamera,
  IconChartBar,
  IconClock,
  IconLock,
  IconPhoto,
  IconTimeline,
  IconUserQuestion,
  IconUsers,
} from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { Page } from '../../app/api.ts';
import { PageLoader } from '../../app/page-states.tsx';
import { ConfirmDialog } from '../../components/confirm-dialog.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { formatDateTime, formatTime } from '../../components/format.ts';
import { notifyError, notifySuccess } from '../../components/notify.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { academicsApi } from '../academics/api.ts';
import { useLiveSocket, useRoom } from '../grades/use-live.ts';
import { attendanceApi, type AttendanceStatus, type Capture, type Roster, type RosterEntry } from './api.ts';
import { LiveCamera } from './live-camera.tsx';
import { RosterTable } from './roster-table.tsx';
import {
  capturesKey,
  FramesPanel,
  TimelinePanel,
  UnknownFacesPanel,
  UploadPanel,
  unknownKey,
} from './session-panels.tsx';

export const rosterKey = (sessionId: string) => ['attendance', 'roster', sessionId] as const;

function Count({ label, value, color }: { label: string; value: number; color?: string }) {
  return (
    <Paper withBorder p="sm" radius="md">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fz={24} fw={700} c={color} data-testid={`count-${label.toLowerCase().replace(/\s+/g, '-')}`}>
        {value}
      </Text>
    </Paper>
  );
}

/**
 * A class session's attendance: take it live from the webcam, upload photos or a video, review
 * the roster (statuses, evidence, low-confidence matches first), the unknown faces, the annotated
 * frames and the actions timeline, and close the session.
 */
export function SessionAttendancePage() {
  const { id = '' } = useParams();
  const qc = useQueryClient();
  const roster = useQuery({ queryKey: rosterKey(id), queryFn: () => attendanceApi.roster(id) });
  const captures = useQuery({ queryKey: capturesKey(id), queryFn: () => attendanceApi.captures(id) });
  const offeringId = roster.data?.offeringId;
  const offering = useQuery({
    queryKey: ['offering', offeringId],
    queryFn: () => academicsApi.getOffering(offeringId!),
    enabled: !!offeringId,
  });
  const [tab, setTab] = useState<string | null>('roster');
  const [closing, setClosing] = useState(false);
  const [saving, setSaving] = useState<string | null>(null);

  // The roster and the captures' progress arrive live, from this page's camera and from any
  // other capture (a colleague's upload, a room camera, a worker finishing a video).
  const live = useLiveSocket();
  useRoom<Roster>(live.socket, `session:${id}`, 'attendance', (r) => {
    qc.setQueryData(rosterKey(id), r);
    if (r.counts.unknownFaces) void qc.invalidateQueries({ queryKey: unknownKey(id) });
  });
  useRoom<{ items: Capture[] }>(live.socket, `session:${id}`, 'captures', (p) => {
    qc.setQueryData<Page<Capture>>(capturesKey(id), (old) => ({
      items: p.items,
      total: Math.max(old?.total ?? 0, p.items.length),
      limit: 50,
      offset: 0,
    }));
  });

  const onRoster = (r: Roster) => qc.setQueryData(rosterKey(id), r);
  const setStatus = useMutation({
    mutationFn: ({ e, status }: { e: RosterEntry; status: AttendanceStatus }) =>
      attendanceApi.setStatus(id, e.studentId, status),
    onMutate: ({ e }) => setSaving(e.studentId),
    onSuccess: (r, { e, status }) => {
      onRoster(r);
      notifySuccess(`${e.fullName}: ${status}`);
    },
    onError: (err) => notifyError(err, 'Status not changed'),
    onSettled: () => setSaving(null),
  });
  const confirm = useMutation({
    mutationFn: (e: RosterEntry) => attendanceApi.confirm(id, e.studentId),
    onSuccess: onRoster,
    onError: (err) => notifyError(err),
  });
  const reject = useMutation({
    mutationFn: (e: RosterEntry) => attendanceApi.reject(id, e.studentId),
    onSuccess: (r, e) => {
      onRoster(r);
      void qc.invalidateQueries({ queryKey: unknownKey(id) });
      notifySuccess(`The match of ${e.fullName} was rejected; the face is now among the unknown faces`);
    },
    onError: (err) => notifyError(err),
  });
  const close = useMutation({
    mutationFn: () => attendanceApi.close(id),
    onSuccess: (r) => {
      onRoster(r);
      setClosing(false);
      notifySuccess('Session closed; students never seen are marked absent');
    },
  });

  if (roster.isPending) return <PageLoader />;
  if (roster.error) return <ErrorAlert error={roster.error} />;
  const r = roster.data;
  const closed = r.sessionStatus === 'closed';
  const o = offering.data;
  const title = o ? `${o.courseCode} ${o.courseName}` : 'Attendance';

  return (
    <Stack>
      <PageHeader
        title={title}
        description={`Session of ${formatDateTime(r.startsAt)} – ${formatTime(r.endsAt)} · late after ${r.lateAfterMinutes} min`}
        breadcrumbs={[
          { label: 'Attendance', to: '/attendance' },
          ...(o ? [{ label: `${o.courseCode} ${o.section}`, to: `/offerings/${o.id}/attendance` }] : []),
          { label: 'Session' },
        ]}
        badges={
          <Badge
            variant="light"
            color={closed ? 'gray' : r.sessionStatus === 'open' ? 'teal' : 'blue'}
            data-testid="session-status"
          >
            {r.sessionStatus}
          </Badge>
        }
        actions={
          <>
            {o && (
              <Button
                component={Link}
                to={`/offerings/${o.id}/attendance`}
                variant="default"
                leftSection={<IconChartBar size={18} />}
              >
                Report
              </Button>
            )}
            {!closed && (
              <Button color="gray" leftSection={<IconLock size={18} />} onClick={() => setClosing(true)}>
                Close session
              </Button>
            )}
          </>
        }
      />
      <SimpleGrid cols={{ base: 3, sm: 6 }}>
        <Count label="Present" value={r.counts.present} color="teal" />
        <Count label="Late" value={r.counts.late} color="yellow.8" />
        <Count label="Absent" value={r.counts.absent} color="red" />
        <Count label="Excused" value={r.counts.excused} color="blue" />
        <Count label="Not seen" value={r.counts.unseen} />
        <Count label="To check" value={r.counts.needsReview} color="orange" />
      </SimpleGrid>
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="roster" leftSection={<IconUsers size={16} />}>
            Roster
          </Tabs.Tab>
          <Tabs.Tab value="camera" leftSection={<IconCamera size={16} />} disabled={closed}>
            Take attendance
          </Tabs.Tab>
          <Tabs.Tab value="uploads" leftSection={<IconPhoto size={16} />}>
            Photos &amp; video
          </Tabs.Tab>
          <Tabs.Tab value="frames" leftSection={<IconClock size={16} />}>
            Frames
          </Tabs.Tab>
          <Tabs.Tab
            value="unknown"
            leftSection={<IconUserQuestion size={16} />}
            rightSection={
              r.counts.unknownFaces ? (
                <Badge size="xs" color="orange">
                  {r.counts.unknownFaces}
                </Badge>
              ) : undefined
            }
          >
            Unknown faces
          </Tabs.Tab>
          <Tabs.Tab value="timeline" leftSection={<IconTimeline size={16} />}>
            Timeline
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="roster" pt="md">
          <RosterTable
            roster={r}
            saving={saving}
            onStatus={(e, status) => setStatus.mutate({ e, status })}
            onConfirm={(e) => confirm.mutate(e)}
            onReject={(e) => reject.mutate(e)}
          />
        </Tabs.Panel>
        <Tabs.Panel value="camera" pt="md">
          <Group align="flex-start" gap="lg" wrap="wrap">
            <div style={{ flex: '2 1 520px', minWidth: 0 }}>
              <LiveCamera sessionId={id} disabled={closed} />
            </div>
            <Paper withBorder p="sm" style={{ flex: '1 1 260px' }} data-testid="live-roster">
              <Text fw={600} size="sm" mb="xs">
                Seen so far ({r.counts.present + r.counts.late} of {r.counts.enrolled})
              </Text>
              <Stack gap={4}>
                {r.items.map((e) => (
                  <Group key={e.studentId} justify="space-between" gap="xs" wrap="nowrap">
                    <Text size="sm" truncate>
                      {e.fullName}
                    </Text>
                    {e.status ? (
                      <Badge
                        size="sm"
                        variant="light"
                        color={e.status === 'present' ? 'teal' : e.status === 'late' ? 'yellow' : 'gray'}
                      >
                        {e.status}
                      </Badge>
                    ) : (
                      <Text size="xs" c="dimmed">
                        —
                      </Text>
                    )}
                  </Group>
                ))}
              </Stack>
            </Paper>
          </Group>
        </Tabs.Panel>
        <Tabs.Panel value="uploads" pt="md">
          {captures.error ? (
            <ErrorAlert error={captures.error} />
          ) : (
            <UploadPanel sessionId={id} captures={captures.data?.items ?? []} closed={closed} />
          )}
        </Tabs.Panel>
        <Tabs.Panel value="frames" pt="md">
          <FramesPanel captures={captures.data?.items ?? []} />
        </Tabs.Panel>
        <Tabs.Panel value="unknown" pt="md">
          <UnknownFacesPanel sessionId={id} roster={r} />
        </Tabs.Panel>
        <Tabs.Panel value="timeline" pt="md">
          <TimelinePanel sessionId={id} roster={r} />
        </Tabs.Panel>
      </Tabs>
      <ConfirmDialog
        opened={closing}
        title="Close this session?"
        message="Students who were never seen and have no status are marked absent. Captures are no longer accepted; you can still change statuses by hand."
        confirmLabel="Close session"
        loading={close.isPending}
        error={close.error}
        onConfirm={() => close.mutate()}
        onClose={() => setClosing(false)}
      />
    </Stack>
  );
}
