import { ActionIcon, Badge, Group, Select, Stack, Text, Tooltip } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconTrash } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { notifyError } from '../../components/notify.ts';
import { mediaApi, mediaKeys, type PhotoDetail, type PhotoFace } from './api.ts';

function FaceRow({ photo, face, index }: { photo: PhotoDetail; face: PhotoFace; index: number }) {
  const qc = useQueryClient();
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search, 250);
  const people = useQuery({
    queryKey: ['media', 'people', q],
    queryFn: ({ signal }) => mediaApi.people(q, signal),
    enabled: photo.mine,
    staleTime: 30_000,
  });
  const refresh = () => qc.invalidateQueries({ queryKey: mediaKeys.photo(photo.id) });
  const correct = useMutation({
    mutationFn: (userId: string | null) => mediaApi.correctFace(photo.id, face.id, userId),
    onSuccess: refresh,
    onError: (e) => notifyError(e, 'Could not change the name'),
  });
  const remove = useMutation({
    mutationFn: () => mediaApi.deleteFace(photo.id, face.id),
    onSuccess: refresh,
    onError: (e) => notifyError(e),
  });
  const options = (people.data ?? []).map((p) => ({ value: p.id, label: `${p.fullName} (${p.username})` }));
  if (face.userId && !options.some((o) => o.value === face.userId)) {
    options.unshift({ value: face.userId, label: face.fullName ?? face.username ?? face.userId });
  }
  const name = face.fullName ?? (face.userId ? face.username : null);
  return (
    <Group gap="xs" wrap="nowrap" data-testid="photo-person">
      <Badge variant="filled" color={face.userId ? 'teal' : 'gray'} size="sm" circle>
        {index + 1}
      </Badge>
      {photo.mine ? (
        <Select
          size="xs"
          style={{ flex: 1 }}
          searchable
          clearable
          placeholder="Unknown person"
          data={options}
          value={face.userId}
          searchValue={search}
          onSearchChange={setSearch}
          onChange={(v) => correct.mutate(v)}
          nothingFoundMessage="Nobody who allows face recognition matches"
          aria-label={`Person ${index + 1}`}
        />
      ) : (
        <Text size="sm" style={{ flex: 1 }}>
          {name ?? 'Unknown person'}
        </Text>
      )}
      <Tooltip
        label={
          face.source === 'manual' ? 'named by hand' : face.distance !== null ? `distance ${face.distance}` : 'no match'
        }
      >
        <Badge size="xs" variant="light" color={face.source === 'manual' ? 'grape' : 'gray'}>
          {face.source === 'manual' ? 'manual' : 'auto'}
        </Badge>
      </Tooltip>
      {photo.mine && (
        <Tooltip label="Not a face">
          <ActionIcon
            size="sm"
            variant="subtle"
            color="gray"
            onClick={() => remove.mutate()}
            loading={remove.isPending}
            aria-label="Not a face"
          >
            <IconTrash size={14} />
          </ActionIcon>
        </Tooltip>
      )}
    </Group>
  );
}

/** "People in this photo": who each face is, with a hand correction for the owner. */
export function PhotoPeople({ photo }: { photo: PhotoDetail }) {
  if (photo.faces.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        {photo.status === 'done' ? 'No faces found.' : 'Looking for faces…'}
      </Text>
    );
  }
  return (
    <Stack gap={6}>
      {photo.faces.map((f, i) => (
        <FaceRow key={f.id} photo={photo} face={f} index={i} />
      ))}
      <Text size="xs" c="dimmed">
        Only people who allow face recognition (on their profile) are recognised or can be named.
      </Text>
    </Stack>
  );
}
