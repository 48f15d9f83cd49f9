import { Badge, Group, Paper, Text } from '@mantine/core';
import { IconTags } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { useNavigate } from 'react-router-dom';
import { PageLoader } from '../../app/page-states.tsx';
import { ErrorAlert } from '../../components/error-alert.tsx';
import { PageHeader } from '../../components/page-header.tsx';
import { mediaApi, mediaKeys } from './api.ts';

/** Every label of the user's library with how many photos carry it; a label opens those photos. */
export function LabelsPage() {
  const navigate = useNavigate();
  const labels = useQuery({ queryKey: mediaKeys.labels, queryFn: mediaApi.labels });
  if (labels.isPending) return <PageLoader />;
  const max = Math.max(1, ...(labels.data ?? []).map((l) => l.count));
  return (
    <>
      <PageHeader
        title="Labels"
        breadcrumbs={[{ label: 'Photos', to: '/albums' }, { label: 'Labels' }]}
        description="What the object model found in your photos. Choose a label to see every photo with it."
      />
      <ErrorAlert error={labels.error} mb="md" />
      {labels.data?.length ? (
        <Group gap="sm">
          {labels.data.map((l) => (
            <Badge
              key={l.label}
              size={l.count / max > 0.66 ? 'xl' : l.count / max > 0.33 ? 'lg' : 'md'}
              variant="light"
              tt="none"
              style={{ cursor: 'pointer' }}
              rightSection={<Text size="xs">{l.count}</Text>}
              onClick={() => navigate(`/albums?label=${encodeURIComponent(l.label)}`)}
              data-testid="label-chip"
            >
              {l.label}
            </Badge>
          ))}
        </Group>
      ) : (
        <Paper withBorder p="xl" ta="center" radius="md">
          <IconTags size={28} stroke={1.4} opacity={0.5} />
          <Text c="dimmed" mt="xs">
            No labels yet: upload some photos.
          </Text>
        </Paper>
      )}
    </>
  );
}
