import {
  ActionIcon,
  Badge,
  Button,
  Card,
  FileButton,
  Group,
  Image,
  List,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { IconCamera, IconPhotoUp, IconTrash, IconUserScan } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError } from '../../app/api.ts';
import { useAuth, useUser } from '../../app/auth.tsx';
import { useConfirm } from '../../components/confirm-dialog.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { formatDate } from '../../components/format.ts';
import { notifyError, notifySuccess } from '../../components/notify.ts';
import { facesApi, facesKey, type FaceTemplate } from './api.ts';
import { WebcamCapture } from './webcam-capture.tsx';

const SOURCE_LABELS: Record<FaceTemplate['source'], string> = {
  upload: 'Uploaded photo',
  webcam: 'Camera',
  profile: 'Profile photo',
  import: 'Imported',
};

const ENROLL_TITLES: Record<string, string> = {
  no_face: 'No face found',
  multiple_faces: 'More than one face',
  low_quality: 'The face is not clear enough',
};

/** Why an enrollment photo was refused, with the server's reasons listed. */
function EnrollError({ error }: { error: unknown }) {
  const reasons = error instanceof ApiError ? (error.extra.reasons as string[] | undefined) : undefined;
  const title = error instanceof ApiError ? ENROLL_TITLES[error.code] : undefined;
  return (
    <ErrorAlert
      error={error}
      title={title ?? 'Could not add the face'}
      hideMessage={!!reasons?.length}
      data-testid="enroll-error"
    >
      {reasons?.length ? (
        <List size="sm">
          {reasons.map((r) => (
            <List.Item key={r}>{r}</List.Item>
          ))}
        </List>
      ) : null}
    </ErrorAlert>
  );
}

/**
 * The user's enrolled faces on the profile page: add one from the camera or a photo, remove one,
 * or delete all face data (which also turns face sign-in off).
 */
export function FaceEnrollmentCard() {
  const user = useUser();
  const { setUser } = useAuth();
  const qc = useQueryClient();
  const [camera, setCamera] = useState(false);
  const [dialog, confirm] = useConfirm();
  const faces = useQuery({ queryKey: facesKey(user.id), queryFn: () => facesApi.list(user.id) });
  const refresh = () => qc.invalidateQueries({ queryKey: facesKey(user.id) });

  const enroll = useMutation({
    mutationFn: ({ photo, source, name }: { photo: Blob; source: 'upload' | 'webcam'; name?: string }) =>
      facesApi.enroll(user.id, photo, source, name),
    onSuccess: () => {
      notifySuccess('Face added');
      setCamera(false);
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => facesApi.remove(user.id, id),
    onSuccess: () => void refresh(),
    onError: (err) => notifyError(err, 'Could not remove the face'),
  });

  const items = faces.data?.items ?? [];
  return (
    <Card padding="lg" radius="md" data-testid="face-enrollment">
      {dialog}
      <Stack gap="md">
        <Group justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <IconUserScan size={26} stroke={1.4} />
            <div>
              <Title order={3} fz="md">
                My enrolled faces
              </Title>
              <Text size="sm" c="dimmed">
                Photos of your face used for face sign-in and class attendance.
              </Text>
            </div>
          </Group>
          <Badge variant="light" data-testid="face-count" style={{ flexShrink: 0 }}>
            {items.length} {items.length === 1 ? 'face' : 'faces'}
          </Badge>
        </Group>

        {faces.error ? <ErrorAlert error={faces.error} /> : null}
        {items.length > 0 && (
          <SimpleGrid cols={{ base: 3, sm: 4 }} spacing="xs">
            {items.map((t) => (
              <Stack key={t.id} gap={2} data-testid="face-template">
                {t.hasImage ? (
                  <Image
                    src={facesApi.imageUrl(user.id, t.id)}
                    alt={SOURCE_LABELS[t.source]}
                    radius="sm"
                    h={72}
                    fit="cover"
                  />
                ) : null}
                <Group gap={4} justify="space-between" wrap="nowrap">
                  <Text size="xs" c="dimmed" truncate title={formatDate(t.createdAt)}>
                    {SOURCE_LABELS[t.source]}
                  </Text>
                  {t.source !== 'profile' && (
                    <ActionIcon
                      size="sm"
                      variant="subtle"
                      color="red"
                      aria-label="Remove this face"
                      loading={remove.isPending && remove.variables === t.id}
                      onClick={() => remove.mutate(t.id)}
                    >
                      <IconTrash size={14} />
                    </ActionIcon>
                  )}
                </Group>
              </Stack>
            ))}
          </SimpleGrid>
        )}

        {enroll.error ? <EnrollError error={enroll.error} /> : null}
        {camera ? (
          <WebcamCapture
            captureLabel="Use this picture"
            busy={enroll.isPending}
            onCapture={(photo) =>
              enroll.mutateAsync({ photo, source: 'webcam' }).then(
                () => undefined,
                () => undefined,
              )
            }
          />
        ) : null}

        <Group gap="sm">
          <Button
            variant={camera ? 'default' : 'light'}
            leftSection={<IconCamera size={16} />}
            onClick={() => {
              enroll.reset();
              setCamera((c) => !c);
            }}
          >
            {camera ? 'Close camera' : 'Add from camera'}
          </Button>
          <FileButton
            accept="image/jpeg,image/png,image/webp"
            onChange={(file) => file && enroll.mutate({ photo: file, source: 'upload', name: file.name })}
          >
            {(props) => (
              <Button
                {...props}
                variant="light"
                leftSection={<IconPhotoUp size={16} />}
                loading={enroll.isPending && !camera}
              >
                Upload a photo
              </Button>
            )}
          </FileButton>
          <Button
            variant="subtle"
            color="red"
            leftSection={<IconTrash size={16} />}
            disabled={items.length === 0 && !user.faceLoginConsent}
            onClick={() =>
              confirm({
                title: 'Delete all face data?',
                message:
                  'Every enrolled face photo is deleted and face sign-in is turned off. Attendance by camera will not recognize you until you enroll again.',
                confirmLabel: 'Delete all',
                danger: true,
                onConfirm: async () => {
                  const r = await facesApi.removeAll(user.id);
                  setUser({ faceLoginConsent: false });
                  notifySuccess(`Deleted ${r.deleted} face ${r.deleted === 1 ? 'photo' : 'photos'}`);
                  await refresh();
                },
              })
            }
          >
            Delete all face data
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
