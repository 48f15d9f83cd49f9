import {
  Badge,
  Box,
  Button,
  Card,
  Checkbox,
  Group,
  Image,
  Modal,
  Progress,
  Select,
  SimpleGrid,
  Slider,
  Stack,
  Table,
  Text,
} from '@mantine/core';
import { IconChevronLeft, IconChevronRight, IconPhoto, IconVideo } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { FileDropzone } from '../../components/file-dropzone.tsx';
import { formatDateTime, formatTime } from '../../components/format.ts';
import { notifyError, notifySuccess } from '../../components/notify.ts';
import { attendanceApi, type ActionEvent, type Capture, type Roster, type UnknownFace } from './api.ts';
import { FaceOverlay } from './face-overlay.tsx';

const STATUS_COLOR = { queued: 'gray', running: 'blue', done: 'teal', failed: 'red' } as const;

export const capturesKey = (sessionId: string) => ['attendance', 'captures', sessionId] as const;
export const unknownKey = (sessionId: string) => ['attendance', 'unknown', sessionId] as const;

// ---- uploads -------------------------------------------------------------------------------

export function UploadPanel({
  sessionId,
  captures,
  closed,
}: {
  sessionId: string;
  captures: Capture[];
  closed: boolean;
}) {
  const qc = useQueryClient();
  const upload = useMutation({
    mutationFn: (files: File[]) => attendanceApi.upload(sessionId, files),
    onSuccess: (r) => {
      notifySuccess(`${r.items.length} file(s) queued for analysis`);
      void qc.invalidateQueries({ queryKey: capturesKey(sessionId) });
    },
    onError: (err) => notifyError(err, 'Upload refused'),
  });
  const uploads = captures.filter((c) => c.kind !== 'frame');
  return (
    <Stack>
      {!closed && (
        <FileDropzone
          onFiles={(files) => upload.mutate(files)}
          loading={upload.isPending}
          accept={['image/jpeg', 'image/png', 'image/webp', 'video/mp4', 'video/quicktime', 'video/webm']}
          title="Drop photos of the room or a recorded class"
          hint="Photos (JPEG, PNG, WebP) or one video (MP4, MOV, WebM). Videos are analysed in the background."
          expects="photos or a video"
          inputTestId="capture-input"
        />
      )}
      {uploads.length === 0 ? (
        <Text c="dimmed" size="sm">
          No photos or videos yet.
        </Text>
      ) : (
        <Table verticalSpacing="xs" data-testid="captures">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>File</Table.Th>
              <Table.Th>Uploaded</Table.Th>
              <Table.Th w={260}>Analysis</Table.Th>
              <Table.Th>Faces</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {uploads.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>
                  <Group gap={6} wrap="nowrap">
                    {c.kind === 'video' ? <IconVideo size={16} /> : <IconPhoto size={16} />}
                    <Text size="sm">{c.filename ?? c.kind}</Text>
                    {!c.available && (
                      <Badge size="xs" variant="light" color="gray">
                        deleted after retention
                      </Badge>
                    )}
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{formatDateTime(c.createdAt)}</Text>
                </Table.Td>
                <Table.Td>
                  {c.status === 'running' || c.status === 'queued' ? (
                    <Stack gap={2}>
                      <Progress
                        value={c.progress}
                        animated={c.status === 'running'}
                        aria-label={`Progress of ${c.filename ?? c.kind}`}
                      />
                      <Text size="xs" c="dimmed">
                        {c.status === 'queued' ? 'waiting' : `${c.progress}%`}
                        {c.error ? ` · retrying after: ${c.error.message}` : ''}
                      </Text>
                    </Stack>
                  ) : (
                    <Stack gap={2}>
                      <Badge color={STATUS_COLOR[c.status]} variant="light">
                        {c.status}
                      </Badge>
                      {c.error && c.status === 'failed' && (
                        <Text size="xs" c="red">
                          {c.error.message}
                        </Text>
                      )}
                    </Stack>
                  )}
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{c.status === 'done' ? c.facesSeen : '—'}</Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

// ---- annotated frames ----------------------------------------------------------------------

export function FramesPanel({ captures }: { captures: Capture[] }) {
  const done = captures.filter((c) => c.status === 'done');
  const [captureId, setCaptureId] = useState<string | null>(null);
  const selected = captureId ?? done[0]?.id ?? null;
  const frames = useQuery({
    queryKey: ['attendance', 'frames', selected],
    queryFn: () => attendanceApi.frames(selected),
    enabled: !!selected,
  });
  const [index, setIndex] = useState(0);
  useEffect(() => setIndex(0), [selected]);
  if (!done.length) {
    return (
      <Text c="dimmed" size="sm">
        Frames appear here once a capture has been analysed.
      </Text>
    );
  }
  const list = frames.data?.items ?? [];
  const frame = list[Math.min(index, Math.max(0, list.length - 1))];
  return (
    <Stack>
      <Select
        label="Capture"
        data={done.map((c) => ({
          value: c.id,
          label: `${c.kind === 'frame' ? `${c.source} frame` : (c.filename ?? c.kind)} — ${formatTime(c.capturedAt)} (${c.facesSeen} faces)`,
        }))}
        value={selected}
        onChange={setCaptureId}
        maw={520}
        allowDeselect={false}
      />
      {frames.error && <ErrorAlert error={frames.error} />}
      {frame && (
        <>
          <Group gap="sm">
            <Button
              variant="default"
              size="xs"
              leftSection={<IconChevronLeft size={16} />}
              disabled={index <= 0}
              onClick={() => setIndex(index - 1)}
            >
              Previous
            </Button>
            <Text size="sm" data-testid="frame-position">
              Frame {index + 1} of {list.length} · {formatTime(frame.at)}
              {frame.offsetMs ? ` (${Math.round(frame.offsetMs / 1000)} s into the video)` : ''}
            </Text>
            <Button
              variant="default"
              size="xs"
              rightSection={<IconChevronRight size={16} />}
              disabled={index >= list.length - 1}
              onClick={() => setIndex(index + 1)}
            >
              Next
            </Button>
          </Group>
          {list.length > 1 && (
            <Slider
              min={0}
              max={list.length - 1}
              value={index}
              onChange={setIndex}
              label={(v) => `#${v + 1}`}
              maw={960}
              aria-label="Frame"
            />
          )}
          <Box pos="relative" maw={960} style={{ aspectRatio: `${frame.width} / ${frame.height}` }}>
            {frame.available ? (
              <img
                src={attendanceApi.frameUrl(selected, frame.index)}
                alt={`Frame ${index + 1}`}
                style={{ width: '100%', height: '100%', display: 'block', borderRadius: 8 }}
              />
            ) : (
              <Box bg="gray.2" w="100%" h="100%" style={{ borderRadius: 8 }}>
                <Text c="dimmed" p="md" size="sm">
                  The image was deleted after the retention period; the faces found remain.
                </Text>
              </Box>
            )}
            <FaceOverlay faces={frame.faces} width={frame.width} height={frame.height} />
          </Box>
        </>
      )}
    </Stack>
  );
}

// ---- unknown faces -------------------------------------------------------------------------

export function UnknownFacesPanel({ sessionId, roster }: { sessionId: string; roster: Roster }) {
  const qc = useQueryClient();
  const faces = useQuery({ queryKey: unknownKey(sessionId), queryFn: () => attendanceApi.unknown(sessionId, 'open') });
  const [assigning, setAssigning] = useState<UnknownFace | null>(null);
  const dismiss = useMutation({
    mutationFn: (f: UnknownFace) => attendanceApi.dismiss(sessionId, f.id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: unknownKey(sessionId) }),
    onError: (err) => notifyError(err),
  });
  if (faces.error) return <ErrorAlert error={faces.error} />;
  const items = faces.data?.items ?? [];
  return (
    <>
      {items.length === 0 ? (
        <Text c="dimmed" size="sm">
          No unknown faces to review.
        </Text>
      ) : (
        <SimpleGrid cols={{ base: 2, sm: 3, md: 5 }}>
          {items.map((f) => (
            <Card key={f.id} withBorder padding="xs" data-testid="unknown-face">
              <Card.Section>
                {f.hasImage ? (
                  <Image src={attendanceApi.unknownUrl(sessionId, f.id)} alt="Unknown face" h={150} fit="cover" />
                ) : (
                  <Box h={150} bg="gray.2" />
                )}
              </Card.Section>
              <Text size="xs" c="dimmed" mt={6}>
                Seen {formatTime(f.firstSeenAt)}
                {f.observations > 1 ? ` · ${f.observations} frames` : ''}
              </Text>
              {f.nearest && (
                <Text size="xs" c="dimmed">
                  Closest: {f.nearest.name ?? 'a student'}
                </Text>
              )}
              <Group gap={6} mt={6}>
                <Button size="xs" onClick={() => setAssigning(f)}>
                  Who is it?
                </Button>
                <Button size="xs" variant="subtle" color="gray" onClick={() => dismiss.mutate(f)}>
                  Not a student
                </Button>
              </Group>
            </Card>
          ))}
        </SimpleGrid>
      )}
      <AssignModal sessionId={sessionId} roster={roster} face={assigning} onClose={() => setAssigning(null)} />
    </>
  );
}

function AssignModal({
  sessionId,
  roster,
  face,
  onClose,
}: {
  sessionId: string;
  roster: Roster;
  face: UnknownFace | null;
  onClose: () => void;
}) {
  const qc = useQueryClient();
  const [studentId, setStudentId] = useState<string | null>(null);
  const [enroll, setEnroll] = useState(false);
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    setStudentId(face?.nearest?.studentId ?? null);
    setEnroll(false);
    setConfirming(false);
  }, [face]);
  const assign = useMutation({
    mutationFn: () => attendanceApi.assign(sessionId, face!.id, studentId!, enroll),
    onSuccess: (r) => {
      if (r.enrolled) notifySuccess('Assigned, and added to the student’s face data');
      else if (r.enrollError) notifyError(new Error(r.enrollError.message), 'Assigned, but the face was not added');
      else notifySuccess('Assigned');
      void qc.invalidateQueries({ queryKey: ['attendance'] });
      onClose();
    },
    onError: (err) => notifyError(err, 'Could not assign the face'),
  });
  const name = roster.items.find((i) => i.studentId === studentId)?.fullName;
  return (
    <Modal opened={!!face} onClose={onClose} title="Who is this?">
      {face && (
        <Stack>
          {face.hasImage && (
            <Image src={attendanceApi.unknownUrl(sessionId, face.id)} alt="Unknown face" h={180} fit="contain" />
          )}
          {!confirming ? (
            <>
              <Select
                label="Student"
                searchable
                data={roster.items.map((i) => ({ value: i.studentId, label: i.fullName }))}
                value={studentId}
                onChange={setStudentId}
              />
              <Checkbox
                label="Also add this face to the student’s face data, so they are recognized next time"
                checked={enroll}
                onChange={(e) => setEnroll(e.currentTarget.checked)}
              />
              <Group justify="flex-end">
                <Button variant="default" onClick={onClose}>
                  Cancel
                </Button>
                <Button
                  disabled={!studentId}
                  loading={assign.isPending}
                  onClick={() => (enroll ? setConfirming(true) : assign.mutate())}
                >
                  Assign
                </Button>
              </Group>
            </>
          ) : (
            <>
              <Text size="sm">
                Add this photo to <b>{name}</b>’s face data? It will be used to recognize them in every class they
                attend.
              </Text>
              <Group justify="flex-end">
                <Button variant="default" onClick={() => setConfirming(false)}>
                  Back
                </Button>
                <Button loading={assign.isPending} onClick={() => assign.mutate()}>
                  Assign and add
                </Button>
              </Group>
            </>
          )}
        </Stack>
      )}
    </Modal>
  );
}

// ---- actions timeline ----------------------------------------------------------------------

const KIND_LABEL: Record<ActionEvent['kind'], string> = {
  hand_raised: 'Hand raised',
  facing_away: 'Facing away',
  not_seen: 'Not seen',
};
const KIND_COLOR: Record<ActionEvent['kind'], string> = {
  hand_raised: 'var(--mantine-color-grape-5)',
  facing_away: 'var(--mantine-color-orange-5)',
  not_seen: 'var(--mantine-color-gray-5)',
};

/** One row per student: their events placed on the session's time axis. */
export function TimelinePanel({ sessionId, roster }: { sessionId: string; roster: Roster }) {
  const actions = useQuery({
    queryKey: ['attendance', 'actions', sessionId],
    queryFn: () => attendanceApi.actions(sessionId),
  });
  if (actions.error) return <ErrorAlert error={actions.error} />;
  const items = actions.data?.items ?? [];
  if (!items.length) {
    return (
      <Text c="dimmed" size="sm">
        No actions recorded yet: raised hands, facing away and long absences from view appear here.
      </Text>
    );
  }
  const t0 = Date.parse(roster.startsAt);
  const t1 = Math.max(Date.parse(roster.endsAt), ...items.map((e) => Date.parse(e.endsAt ?? e.at)));
  const pos = (iso: string) => `${Math.max(0, Math.min(100, ((Date.parse(iso) - t0) / (t1 - t0)) * 100))}%`;
  const students = [...new Set(items.map((e) => e.studentId))];
  return (
    <Stack gap="xs" data-testid="timeline">
      <Group gap="md">
        {(Object.keys(KIND_LABEL) as ActionEvent['kind'][]).map((k) => (
          <Group key={k} gap={4}>
            <Box w={12} h={12} style={{ background: KIND_COLOR[k], borderRadius: 3 }} />
            <Text size="xs">{KIND_LABEL[k]}</Text>
          </Group>
        ))}
      </Group>
      {students.map((sid) => {
        const mine = items.filter((e) => e.studentId === sid);
        const raised = mine.filter((e) => e.kind === 'hand_raised').length;
        return (
          <Group key={sid} gap="sm" wrap="nowrap" align="center">
            <Text size="sm" w={180} truncate>
              {mine[0].name ?? 'Student'}
              {raised ? ` (${raised} hand${raised === 1 ? '' : 's'})` : ''}
            </Text>
            <Box pos="relative" h={18} style={{ flex: 1, background: 'var(--mantine-color-gray-1)', borderRadius: 4 }}>
              {mine.map((e) => (
                <Box
                  key={e.id}
                  title={`${KIND_LABEL[e.kind]} ${formatTime(e.at)}${e.endsAt ? `–${formatTime(e.endsAt)}` : ''}`}
                  pos="absolute"
                  top={2}
                  h={14}
                  style={{
                    left: pos(e.at),
                    width: e.endsAt ? `max(6px, calc(${pos(e.endsAt)} - ${pos(e.at)}))` : 6,
                    background: KIND_COLOR[e.kind],
                    borderRadius: 3,
                  }}
                />
              ))}
            </Box>
          </Group>
        );
      })}
      <Group justify="space-between" ml={192}>
        <Text size="xs" c="dimmed">
          {formatTime(roster.startsAt)}
        </Text>
        <Text size="xs" c="dimmed">
          {formatTime(new Date(t1).toISOString())}
        </Text>
      </Group>
    </Stack>
  );
}
