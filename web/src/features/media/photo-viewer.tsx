import {
  ActionIcon,
  Badge,
  Box,
  Button,
  Divider,
  Grid,
  Group,
  Loader,
  Modal,
  ScrollArea,
  Select,
  Stack,
  Switch,
  Text,
  Textarea,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { IconChevronLeft, IconChevronRight, IconRefresh, IconTrash } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { useConfirm } from '../../components/confirm-dialog.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { formatDateTime } from '../../components/format.ts';
import { notifyError, notifySuccess } from '../../components/notify.ts';
import { ImageOverlay, type OverlayShape } from '../analysis/image-overlay.tsx';
import { mediaApi, mediaKeys, photoUrl, type Album, type PhotoDetail } from './api.ts';
import { PhotoPeople } from './photo-people.tsx';
import { PhotoText, PhotoTranslate } from './photo-text.tsx';

function shapesOf(photo: PhotoDetail, showObjects: boolean, showText: boolean): OverlayShape[] {
  const shapes: OverlayShape[] = photo.faces.map((f, i) => ({
    kind: 'box',
    box: f.box,
    label: `${i + 1} ${f.fullName ?? (f.userId ? (f.username ?? '') : '?')}`,
    color: f.userId ? '#12b886' : '#adb5bd',
  }));
  if (showObjects) {
    for (const d of photo.detections) {
      if (d.box) shapes.push({ kind: 'box', box: d.box, label: d.label, color: '#fab005', dashed: true });
    }
  }
  if (showText && photo.text)
    for (const l of photo.text.lines) shapes.push({ kind: 'box', box: l.box, color: '#15aabf' });
  return shapes;
}

function Details({ photo, albums }: { photo: PhotoDetail; albums: Album[] }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [title, setTitle] = useState(photo.title);
  const [description, setDescription] = useState(photo.description ?? '');
  useEffect(() => {
    setTitle(photo.title);
    setDescription(photo.description ?? '');
  }, [photo.id, photo.title, photo.description]);
  const refresh = () => qc.invalidateQueries({ queryKey: ['media'] });
  const save = useMutation({
    mutationFn: (body: Parameters<typeof mediaApi.updatePhoto>[1]) => mediaApi.updatePhoto(photo.id, body),
    onSuccess: refresh,
    onError: (e) => notifyError(e, 'Not saved'),
  });
  const dirty = title !== photo.title || description !== (photo.description ?? '');
  const ordinary = albums.filter((a) => !a.smartLabel);

  return (
    <Stack gap="sm">
      {photo.mine ? (
        <>
          <TextInput label="Title" value={title} onChange={(e) => setTitle(e.currentTarget.value)} maxLength={200} />
          <Textarea
            label="Description"
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
            autosize
            minRows={2}
            maxLength={2000}
          />
          {dirty && (
            <Group justify="flex-end">
              <Button
                size="xs"
                onClick={() =>
                  save.mutate({ title: title.trim() || photo.title, description: description.trim() || null })
                }
                loading={save.isPending}
              >
                Save
              </Button>
            </Group>
          )}
          <Group grow align="flex-end">
            <Select
              label="Album"
              placeholder="No album"
              clearable
              data={ordinary.map((a) => ({ value: a.id, label: a.name }))}
              value={photo.albumId}
              onChange={(v) => save.mutate({ albumId: v })}
              data-testid="move-album"
            />
            <Switch
              label="Shared with everyone"
              checked={photo.shared}
              onChange={(e) => save.mutate({ shared: e.currentTarget.checked })}
              mb={8}
            />
          </Group>
        </>
      ) : (
        <>
          <Title order={4}>{photo.title}</Title>
          {photo.description && <Text size="sm">{photo.description}</Text>}
        </>
      )}
      <Text size="xs" c="dimmed">
        {photo.width}×{photo.height} · {formatDateTime(photo.createdAt)}
      </Text>

      <Divider label="Labels" labelPosition="left" />
      {photo.status === 'pending' || photo.status === 'processing' ? (
        <Group gap={6}>
          <Loader size={14} />
          <Text size="sm" c="dimmed">
            Analysing the photo…
          </Text>
        </Group>
      ) : photo.labels.length ? (
        <Group gap={6} data-testid="photo-labels">
          {photo.labels.map((l) => (
            <Tooltip key={l.label} label={`${Math.round(l.score * 100)}% — all photos with ${l.label}`}>
              <Badge
                variant="light"
                tt="none"
                style={{ cursor: 'pointer' }}
                onClick={() => navigate(`/albums?label=${encodeURIComponent(l.label)}`)}
              >
                {l.label}
              </Badge>
            </Tooltip>
          ))}
        </Group>
      ) : (
        <Text size="sm" c="dimmed">
          No objects recognised.
        </Text>
      )}
      {photo.status === 'failed' && photo.statusError && (
        <Text size="xs" c="red">
          {photo.statusError}
        </Text>
      )}

      <Divider label="People in this photo" labelPosition="left" />
      <PhotoPeople photo={photo} />

      <Divider label="Text" labelPosition="left" />
      <PhotoText photo={photo} />

      <Divider label="Translate" labelPosition="left" />
      <PhotoTranslate photo={photo} />
    </Stack>
  );
}

interface PhotoViewerProps {
  ids: string[];
  index: number | null;
  albums: Album[];
  onIndex: (i: number | null) => void;
}

/** The lightbox: the photo with its faces (and optionally objects and text) drawn on it, and its details. */
export function PhotoViewer({ ids, index, albums, onIndex }: PhotoViewerProps) {
  const qc = useQueryClient();
  const wide = useMediaQuery('(min-width: 62em)');
  const id = index !== null ? ids[index] : undefined;
  const [showObjects, setShowObjects] = useState(false);
  const [showText, setShowText] = useState(false);
  const photo = useQuery({
    queryKey: mediaKeys.photo(id ?? ''),
    queryFn: ({ signal }) => mediaApi.photo(id!, signal),
    enabled: !!id,
    refetchInterval: (q) =>
      q.state.data && (q.state.data.status === 'pending' || q.state.data.status === 'processing') ? 1500 : false,
  });
  const [dialog, confirm] = useConfirm();
  const reprocess = useMutation({
    mutationFn: () => mediaApi.reprocess(id!),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['media'] }),
    onError: (e) => notifyError(e),
  });

  useEffect(() => {
    if (index === null) return;
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && /INPUT|TEXTAREA|SELECT/.test(target.tagName)) return;
      if (e.key === 'ArrowRight' && index < ids.length - 1) onIndex(index + 1);
      if (e.key === 'ArrowLeft' && index > 0) onIndex(index - 1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [index, ids.length, onIndex]);

  const p = photo.data;
  return (
    <Modal
      opened={index !== null}
      onClose={() => onIndex(null)}
      size="95%"
      fullScreen={!wide}
      padding="md"
      title={
        <Group gap="xs">
          <ActionIcon
            variant="subtle"
            disabled={!index}
            onClick={() => index && onIndex(index - 1)}
            aria-label="Previous photo"
          >
            <IconChevronLeft size={18} />
          </ActionIcon>
          <Text size="sm" c="dimmed">
            {index !== null ? `${index + 1} / ${ids.length}` : ''}
          </Text>
          <ActionIcon
            variant="subtle"
            disabled={index === null || index >= ids.length - 1}
            onClick={() => index !== null && onIndex(index + 1)}
            aria-label="Next photo"
          >
            <IconChevronRight size={18} />
          </ActionIcon>
        </Group>
      }
    >
      {dialog}
      {photo.error ? <ErrorAlert error={photo.error} /> : null}
      {!p ? (
        <Loader />
      ) : (
        <Grid gap="lg" data-testid="photo-viewer">
          <Grid.Col span={{ base: 12, md: 8 }}>
            <Box ta="center">
              <ImageOverlay
                src={photoUrl(p.id)}
                alt={p.title}
                width={p.width}
                height={p.height}
                shapes={shapesOf(p, showObjects, showText)}
                maxHeight="75vh"
              />
            </Box>
            <Group justify="center" mt="xs" gap="lg">
              <Switch
                size="xs"
                label="Objects"
                checked={showObjects}
                onChange={(e) => setShowObjects(e.currentTarget.checked)}
              />
              <Switch
                size="xs"
                label="Text regions"
                checked={showText}
                onChange={(e) => setShowText(e.currentTarget.checked)}
              />
              {p.mine && (
                <>
                  <Button
                    size="compact-xs"
                    variant="subtle"
                    leftSection={<IconRefresh size={14} />}
                    onClick={() => reprocess.mutate()}
                    loading={reprocess.isPending}
                  >
                    Analyse again
                  </Button>
                  <Button
                    size="compact-xs"
                    variant="subtle"
                    color="red"
                    leftSection={<IconTrash size={14} />}
                    onClick={() =>
                      confirm({
                        title: 'Delete photo',
                        message: `Delete “${p.title}”? This cannot be undone.`,
                        danger: true,
                        confirmLabel: 'Delete',
                        onConfirm: async () => {
                          await mediaApi.deletePhoto(p.id);
                          notifySuccess('Photo deleted');
                          onIndex(null);
                          await qc.invalidateQueries({ queryKey: ['media'] });
                        },
                      })
                    }
                  >
                    Delete
                  </Button>
                </>
              )}
            </Group>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 4 }}>
            <ScrollArea.Autosize mah={wide ? '80vh' : undefined} offsetScrollbars>
              <Details photo={p} albums={albums} />
            </ScrollArea.Autosize>
          </Grid.Col>
        </Grid>
      )}
    </Modal>
  );
}
