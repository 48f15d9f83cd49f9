import { Button, Group, List, Modal, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { notifySuccess } from '../../components/notify.ts';
import { mediaApi, type Album, type UploadResult } from './api.ts';

interface UploadModalProps {
  files: File[];
  album: Album | null;
  onClose: () => void;
}

/** Title and description for the dropped photos, then one upload; per-file problems are listed. */
export function UploadModal({ files, album, onClose }: UploadModalProps) {
  const qc = useQueryClient();
  const single = files.length === 1;
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [result, setResult] = useState<UploadResult | null>(null);
  useEffect(() => {
    setTitle(single ? files[0].name.replace(/\.[A-Za-z0-9]{1,5}$/, '') : '');
    setDescription('');
    setResult(null);
  }, [files, single]);

  const upload = useMutation({
    mutationFn: () =>
      mediaApi.upload(files, {
        albumId: album && !album.smartLabel ? album.id : undefined,
        title: title.trim() || undefined,
        description: description.trim() || undefined,
      }),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ['media'] });
      if (r.errors.length === 0) {
        notifySuccess(
          `${r.items.length} photo${r.items.length === 1 ? '' : 's'} uploaded; labels and faces follow shortly`,
        );
        onClose();
      } else setResult(r);
    },
  });

  return (
    <Modal
      opened={files.length > 0}
      onClose={onClose}
      title={
        <Text fw={650}>
          Upload {files.length} photo{single ? '' : 's'}
          {album && !album.smartLabel ? ` to ${album.name}` : ''}
        </Text>
      }
      size="lg"
    >
      <Stack gap="sm">
        <List size="sm" spacing={2} c="dimmed">
          {files.slice(0, 8).map((f, i) => (
            <List.Item key={`${f.name}-${i}`}>
              {f.name} ({Math.max(1, Math.round(f.size / 1024))} KB)
            </List.Item>
          ))}
          {files.length > 8 && <List.Item>…and {files.length - 8} more</List.Item>}
        </List>
        <TextInput
          label="Title"
          description={single ? undefined : 'Left empty, each photo is titled after its file name'}
          value={title}
          onChange={(e) => setTitle(e.currentTarget.value)}
          maxLength={200}
          data-testid="upload-title"
        />
        <Textarea
          label="Description"
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
          autosize
          minRows={2}
          maxLength={2000}
          data-testid="upload-description"
        />
        <ErrorAlert error={upload.error} />
        {result && (
          <ErrorAlert
            title={`${result.items.length} uploaded, ${result.errors.length} not accepted`}
            error={new Error(result.errors.map((e) => `${e.filename}: ${e.message}`).join('\n'))}
          />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            {result ? 'Close' : 'Cancel'}
          </Button>
          {!result && (
            <Button onClick={() => upload.mutate()} loading={upload.isPending} data-testid="upload-submit">
              Upload
            </Button>
          )}
        </Group>
      </Stack>
    </Modal>
  );
}
