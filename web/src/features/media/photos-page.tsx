import {
  ActionIcon,
  Badge,
  Button,
  Center,
  CloseButton,
  Grid,
  Group,
  Loader,
  Menu,
  Modal,
  NavLink,
  Paper,
  Radio,
  Stack,
  Text,
  TextInput,
  Textarea,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import {
  IconBolt,
  IconDots,
  IconFolder,
  IconFolderOff,
  IconPhoto,
  IconPhotoPlus,
  IconPlus,
  IconSearch,
  IconShare,
  IconTags,
} from '@tabler/icons-react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { fieldErrors } from '../../app/api.ts';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { FileDropzone } from '../../components/file-dropzone.tsx';
import { notifySuccess } from '../../components/notify.ts';
import { PageHeader } from '../../components/page-header.tsx';
import { mediaApi, mediaKeys, type Album, type PhotoQuery } from './api.ts';
import { PhotoGrid } from './photo-grid.tsx';
import { PhotoViewer } from './photo-viewer.tsx';
import { UploadModal } from './upload-modal.tsx';

const PAGE = 48;

function AlbumModal({ album, opened, onClose }: { album: Album | null; opened: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(album?.name ?? '');
  const [description, setDescription] = useState(album?.description ?? '');
  const [smartLabel, setSmartLabel] = useState('');
  const save = useMutation({
    mutationFn: () =>
      album
        ? mediaApi.updateAlbum(album.id, { name: name.trim(), description: description.trim() || null })
        : mediaApi.createAlbum({
            name: name.trim(),
            description: description.trim() || null,
            smartLabel: smartLabel.trim() || null,
          }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: mediaKeys.albums });
      onClose();
    },
  });
  const errors = fieldErrors(save.error);
  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={650}>{album ? 'Rename album' : 'New album'}</Text>}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Stack gap="sm">
          <TextInput
            label="Name"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            required
            error={errors.name}
            data-autofocus
            data-testid="album-name"
          />
          <Textarea
            label="Description"
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
            autosize
            minRows={2}
          />
          {!album && (
            <TextInput
              label="Smart album label (optional)"
              description="Shows every photo of yours with this label, e.g. laptop or dog"
              value={smartLabel}
              onChange={(e) => setSmartLabel(e.currentTarget.value)}
              error={errors.smartLabel}
            />
          )}
          <ErrorAlert error={save.error} showItems={false} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending} data-testid="album-save">
              {album ? 'Save' : 'Create'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function DeleteAlbumModal({ album, onClose }: { album: Album | null; onClose: (deleted: boolean) => void }) {
  const qc = useQueryClient();
  const [images, setImages] = useState<'keep' | 'delete'>('keep');
  const del = useMutation({
    mutationFn: () => mediaApi.deleteAlbum(album!.id, images),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['media'] });
      notifySuccess('Album deleted');
      onClose(true);
    },
  });
  return (
    <Modal opened={!!album} onClose={() => onClose(false)} title={<Text fw={650}>Delete “{album?.name}”</Text>}>
      {album && !album.smartLabel && (
        <Radio.Group value={images} onChange={(v) => setImages(v)} mb="md">
          <Stack gap="xs">
            <Radio value="keep" label={`Keep its ${album.imageCount} photos in the library`} />
            <Radio value="delete" color="red" label={`Delete its ${album.imageCount} photos too`} />
          </Stack>
        </Radio.Group>
      )}
      <ErrorAlert error={del.error} />
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={() => onClose(false)}>
          Cancel
        </Button>
        <Button color="red" onClick={() => del.mutate()} loading={del.isPending}>
          Delete album
        </Button>
      </Group>
    </Modal>
  );
}

export function PhotosPage() {
  const [params, setParams] = useSearchParams();
  const albumId = params.get('album');
  const view = params.get('view'); // unfiled | shared
  const label = params.get('label');
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 300);
  const [limit, setLimit] = useState(PAGE);
  const [open, setOpen] = useState<number | null>(null);
  const [dropped, setDropped] = useState<File[]>([]);
  const [editing, setEditing] = useState<Album | null | 'new'>(null);
  const [deleting, setDeleting] = useState<Album | null>(null);

  const albums = useQuery({ queryKey: mediaKeys.albums, queryFn: mediaApi.albums });
  const album = albums.data?.find((a) => a.id === albumId) ?? null;
  const query: PhotoQuery = useMemo(
    () => ({
      album: albumId ?? undefined,
      unfiled: view === 'unfiled' || undefined,
      scope: view === 'shared' ? 'shared' : 'mine',
      label: label ?? undefined,
      q: q || undefined,
      limit,
      offset: 0,
    }),
    [albumId, view, label, q, limit],
  );
  const photos = useQuery({
    queryKey: mediaKeys.photos(query),
    queryFn: ({ signal }) => mediaApi.photos(query, signal),
    placeholderData: keepPreviousData,
    // While photos are being analysed their labels are on the way.
    refetchInterval: (qr) =>
      qr.state.data?.items.some((p) => p.status === 'pending' || p.status === 'processing') ? 2000 : false,
  });
  const items = photos.data?.items ?? [];
  const go = (next: Record<string, string>) => {
    setOpen(null);
    setLimit(PAGE);
    setParams(next);
  };

  const title = label
    ? `Photos with “${label}”`
    : view === 'shared'
      ? 'Shared with me'
      : view === 'unfiled'
        ? 'Not in an album'
        : (album?.name ?? 'All photos');
  const canUpload = view !== 'shared' && !album?.smartLabel;

  return (
    <>
      <PageHeader
        title="Photos"
        description="Your albums. Photos are labelled automatically, the people in them recognised (if they allow it) and their text extracted; descriptions and text can be translated."
        actions={
          <>
            <Button component={Link} to="/albums/labels" variant="default" leftSection={<IconTags size={16} />}>
              Labels
            </Button>
            <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')} data-testid="new-album">
              New album
            </Button>
          </>
        }
      />
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 3 }}>
          <Paper withBorder radius="md" p={4}>
            <NavLink
              label="All photos"
              leftSection={<IconPhoto size={16} />}
              active={!albumId && !view && !label}
              onClick={() => go({})}
            />
            <NavLink
              label="Not in an album"
              leftSection={<IconFolderOff size={16} />}
              active={view === 'unfiled'}
              onClick={() => go({ view: 'unfiled' })}
            />
            <NavLink
              label="Shared with me"
              leftSection={<IconShare size={16} />}
              active={view === 'shared'}
              onClick={() => go({ view: 'shared' })}
            />
            {(albums.data ?? []).map((a) => (
              <NavLink
                key={a.id}
                label={a.name}
                description={a.smartLabel ? `smart: ${a.smartLabel}` : undefined}
                leftSection={a.smartLabel ? <IconBolt size={16} /> : <IconFolder size={16} />}
                rightSection={
                  <Group gap={4} wrap="nowrap">
                    <Badge size="xs" variant="light" color="gray">
                      {a.imageCount}
                    </Badge>
                    <Menu position="bottom-end" withinPortal>
                      <Menu.Target>
                        <ActionIcon
                          size="sm"
                          variant="subtle"
                          color="gray"
                          onClick={(e) => e.stopPropagation()}
                          aria-label={`${a.name} actions`}
                        >
                          <IconDots size={14} />
                        </ActionIcon>
                      </Menu.Target>
                      <Menu.Dropdown onClick={(e) => e.stopPropagation()}>
                        <Menu.Item onClick={() => setEditing(a)}>Rename</Menu.Item>
                        <Menu.Item color="red" onClick={() => setDeleting(a)}>
                          Delete
                        </Menu.Item>
                      </Menu.Dropdown>
                    </Menu>
                  </Group>
                }
                active={a.id === albumId}
                onClick={() => go({ album: a.id })}
                data-testid="album-link"
              />
            ))}
          </Paper>
          <ErrorAlert error={albums.error} mt="sm" />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 9 }}>
          <Group justify="space-between" mb="sm" wrap="wrap">
            <Group gap="xs">
              <Text fw={650} size="lg" data-testid="photos-title">
                {title}
              </Text>
              {label && <CloseButton size="sm" aria-label="Clear label" onClick={() => go({})} />}
              {photos.data && (
                <Badge variant="light" color="gray">
                  {photos.data.total}
                </Badge>
              )}
              {photos.isFetching && <Loader size={14} />}
            </Group>
            <TextInput
              placeholder="Search titles and descriptions"
              leftSection={<IconSearch size={14} />}
              value={search}
              onChange={(e) => setSearch(e.currentTarget.value)}
              w={260}
            />
          </Group>
          {canUpload && (
            <FileDropzone
              onFiles={setDropped}
              title={`Drop photos here${album ? ` to add them to ${album.name}` : ''}`}
              hint="or click to choose; JPEG, PNG, WebP, GIF, TIFF, AVIF or HEIF"
              icon={<IconPhotoPlus size={36} stroke={1.3} opacity={0.6} />}
              accept={['image/*']}
              multiple
              compact
              inputTestId="photo-upload"
              mb="md"
            />
          )}
          <ErrorAlert error={photos.error} mb="md" />
          {photos.isPending ? (
            <Center h={200}>
              <Loader />
            </Center>
          ) : items.length === 0 ? (
            <Paper withBorder radius="md" p="xl" ta="center">
              <Text c="dimmed">{q || label ? 'No photos match.' : 'No photos here yet.'}</Text>
            </Paper>
          ) : (
            <PhotoGrid photos={items} onOpen={setOpen} />
          )}
          {photos.data && photos.data.total > items.length && (
            <Center mt="md">
              <Button variant="default" onClick={() => setLimit(limit + PAGE)} loading={photos.isFetching}>
                Show more
              </Button>
            </Center>
          )}
        </Grid.Col>
      </Grid>
      <PhotoViewer ids={items.map((p) => p.id)} index={open} albums={albums.data ?? []} onIndex={setOpen} />
      <UploadModal files={dropped} album={album} onClose={() => setDropped([])} />
      {editing !== null && (
        <AlbumModal album={editing === 'new' ? null : editing} opened onClose={() => setEditing(null)} />
      )}
      <DeleteAlbumModal
        album={deleting}
        onClose={(deleted) => {
          if (deleted && deleting?.id === albumId) go({});
          setDeleting(null);
        }}
      />
    </>
  );
}
