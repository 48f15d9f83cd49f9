import { Box, Group, Stack, Text } from '@mantine/core';
import { Dropzone, type DropzoneProps } from '@mantine/dropzone';
import { IconFileUpload, IconUpload, IconX } from '@tabler/icons-react';
import { notifications } from '@mantine/notifications';
import type { ReactNode } from 'react';

interface FileDropzoneProps extends Omit<DropzoneProps, 'onDrop' | 'children' | 'title'> {
  onFiles: (files: File[]) => void;
  title: ReactNode;
  hint?: ReactNode;
  icon?: ReactNode;
  /** Shown in the rejection message, e.g. "a CSV file up to 2 MB". */
  expects?: string;
  /** `data-testid` of the underlying file input, for browser tests. */
  inputTestId?: string;
  /** A lower box for panels where the dropzone is not the main content. */
  compact?: boolean;
}

/** Drag-and-drop or click-to-pick file area with consistent wording and rejection messages. */
export function FileDropzone({
  onFiles,
  title,
  hint,
  icon,
  expects,
  inputTestId,
  compact,
  ...rest
}: FileDropzoneProps) {
  return (
    <Dropzone
      onDrop={(files) => onFiles(files)}
      onReject={(rejections) => {
        const first = rejections[0];
        notifications.show({
          color: 'red',
          title: 'File not accepted',
          message: `${first?.file.name ?? 'The file'}: ${first?.errors[0]?.message ?? 'not accepted'}${expects ? `. Expected ${expects}.` : ''}`,
        });
      }}
      inputProps={
        inputTestId ? ({ 'data-testid': inputTestId } as React.InputHTMLAttributes<HTMLInputElement>) : undefined
      }
      radius="md"
      {...rest}
    >
      <Group justify="center" gap="lg" mih={compact ? 64 : 110} style={{ pointerEvents: 'none' }} wrap="nowrap">
        <Box style={{ flexShrink: 0, display: 'flex' }}>
          <Dropzone.Accept>
            <IconUpload size={42} stroke={1.4} color="var(--mantine-primary-color-filled)" />
          </Dropzone.Accept>
          <Dropzone.Reject>
            <IconX size={42} stroke={1.4} color="var(--mantine-color-red-6)" />
          </Dropzone.Reject>
          <Dropzone.Idle>{icon ?? <IconFileUpload size={42} stroke={1.3} opacity={0.6} />}</Dropzone.Idle>
        </Box>
        <Stack gap={4}>
          <Text size={compact ? 'sm' : 'md'} fw={600}>
            {title}
          </Text>
          {hint && (
            <Text size="sm" c="dimmed">
              {hint}
            </Text>
          )}
        </Stack>
      </Group>
    </Dropzone>
  );
}
