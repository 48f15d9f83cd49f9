import { Alert, Anchor, CloseButton, Code, Group, Paper, Text } from '@mantine/core';
import { IconCircleCheck, IconFileSpreadsheet } from '@tabler/icons-react';
import { useMutation } from '@tanstack/react-query';
import { ApiError } from '../../app/api.ts';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { FileDropzone } from '../../components/file-dropzone.tsx';
import { academicsApi, type RosterResult } from './api.ts';

const TEMPLATE = 'student_code,full_name,email\n201900001,María José García López,mgarcia@example.edu\n';
const TEMPLATE_URL = `data:text/csv;charset=utf-8,${encodeURIComponent(TEMPLATE)}`;
const MAX_BYTES = 2 * 1024 * 1024;

/**
 * Upload a roster CSV for one offering. The server checks every row first and imports all or
 * nothing; its line-numbered errors are listed here so the file can be fixed and sent again.
 */
export function RosterImport(props: {
  offeringId: string;
  onImported: (r: RosterResult) => void;
  onClose: () => void;
}) {
  const upload = useMutation({
    mutationFn: (file: File) => academicsApi.importRoster(props.offeringId, file),
    onSuccess: (r) => props.onImported(r),
  });
  const invalid = upload.error instanceof ApiError && upload.error.code === 'roster_invalid' ? upload.error : null;
  const bad = invalid?.errors?.length ?? 0;

  return (
    <Paper p="md" radius="md" mb="md" data-testid="roster-import">
      <Group justify="space-between" align="flex-start" wrap="nowrap" mb="sm">
        <div>
          <Text fw={650}>Import roster</Text>
          <Text size="sm" c="dimmed">
            A CSV with the header <Code>student_code,full_name,email</Code> (commas or semicolons). New students get an
            account; if any row is wrong, nothing is imported.{' '}
            <Anchor href={TEMPLATE_URL} download="roster-template.csv" size="sm">
              Download a template
            </Anchor>
          </Text>
        </div>
        <CloseButton aria-label="Close roster import" onClick={props.onClose} />
      </Group>

      <FileDropzone
        compact
        onFiles={(files) => files[0] && upload.mutate(files[0])}
        accept={['text/csv', '.csv', 'text/plain', 'application/vnd.ms-excel']}
        maxSize={MAX_BYTES}
        multiple={false}
        loading={upload.isPending}
        title="Drop the roster CSV here or click to choose"
        hint="Up to 5,000 students, 2 MB"
        expects="a CSV file up to 2 MB"
        icon={<IconFileSpreadsheet size={32} stroke={1.3} opacity={0.6} />}
        inputTestId="roster-input"
      />

      {upload.data && (
        <Alert mt="sm" color="teal" variant="light" icon={<IconCircleCheck size={18} />} data-testid="roster-result">
          <Group gap="lg" wrap="wrap">
            <Text size="sm" fw={650}>
              Roster imported
            </Text>
            {(
              [
                [upload.data.rows, 'rows read'],
                [upload.data.created, 'new students'],
                [upload.data.enrolled, 'newly enrolled'],
                [upload.data.alreadyEnrolled, 'already enrolled'],
              ] as const
            ).map(([n, label]) => (
              <Text size="sm" key={label}>
                <Text span fw={700} className="aula-tabular">
                  {n.toLocaleString()}
                </Text>{' '}
                {label}
              </Text>
            ))}
          </Group>
        </Alert>
      )}

      {invalid ? (
        <ErrorAlert
          mt="sm"
          error={invalid}
          hideMessage={bad > 0}
          title={`Nothing was imported: ${bad} line${bad === 1 ? '' : 's'} to fix`}
          data-testid="roster-errors"
          maxItems={100}
        />
      ) : upload.error ? (
        <ErrorAlert mt="sm" error={upload.error} data-testid="roster-errors" />
      ) : null}
    </Paper>
  );
}
