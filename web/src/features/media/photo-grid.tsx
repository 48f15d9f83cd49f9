import {
  AspectRatio,
  Badge,
  Card,
  Group,
  Image,
  Loader,
  SimpleGrid,
  Text,
  Tooltip,
  UnstyledButton,
} from '@mantine/core';
import { IconShare } from '@tabler/icons-react';
import { photoUrl, type Photo } from './api.ts';

/** Thumbnails in a responsive grid, with the first labels as tags and the analysis state. */
export function PhotoGrid({ photos, onOpen }: { photos: Photo[]; onOpen: (index: number) => void }) {
  return (
    <SimpleGrid cols={{ base: 2, sm: 3, lg: 4, xl: 5 }} spacing="sm">
      {photos.map((p, i) => (
        <UnstyledButton key={p.id} onClick={() => onOpen(i)} data-testid="photo-card" aria-label={p.title}>
          <Card withBorder radius="md" padding={0} h="100%">
            <AspectRatio ratio={1}>
              <Image src={photoUrl(p.id, 'thumb')} alt={p.title} fit="cover" loading="lazy" />
            </AspectRatio>
            <Group gap={4} p={8} pb={2} justify="space-between" wrap="nowrap">
              <Text size="sm" fw={600} truncate>
                {p.title}
              </Text>
              {p.shared && (
                <Tooltip label="Shared with everyone">
                  <IconShare size={14} opacity={0.6} />
                </Tooltip>
              )}
            </Group>
            <Group gap={4} px={8} pb={8} mih={28}>
              {p.status === 'pending' || p.status === 'processing' ? (
                <Group gap={6}>
                  <Loader size={12} />
                  <Text size="xs" c="dimmed">
                    analysing…
                  </Text>
                </Group>
              ) : p.status === 'failed' ? (
                <Tooltip label={p.statusError ?? 'analysis failed'}>
                  <Badge size="xs" color="red" variant="light">
                    not analysed
                  </Badge>
                </Tooltip>
              ) : (
                p.labels.slice(0, 3).map((l) => (
                  <Badge key={l.label} size="xs" variant="light" tt="none" data-testid="photo-label">
                    {l.label}
                  </Badge>
                ))
              )}
            </Group>
          </Card>
        </UnstyledButton>
      ))}
    </SimpleGrid>
  );
}
