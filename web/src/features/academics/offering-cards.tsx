import { Badge, Card, Group, SimpleGrid, Stack, Text, UnstyledButton } from '@mantine/core';
import { IconClock, IconDoor, IconUser, IconUsers } from '@tabler/icons-react';
import { Link } from 'react-router-dom';
import { scheduleSummary, type Offering } from './api.ts';

/** Offerings as clickable cards (home pages and "My courses"). */
export function OfferingCards({ offerings, showCount = true }: { offerings: Offering[]; showCount?: boolean }) {
  return (
    <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="md">
      {offerings.map((o) => (
        <UnstyledButton
          key={o.id}
          component={Link}
          to={`/offerings/${o.id}`}
          aria-label={`${o.courseCode} ${o.courseName}`}
        >
          <Card padding="lg" radius="md" className="aula-stat-card" h="100%">
            <Group justify="space-between" align="flex-start" wrap="nowrap" mb={6}>
              <Text ff="monospace" fw={750} fz="lg">
                {o.courseCode}
              </Text>
              <Group gap={4}>
                <Badge variant="light" radius="sm">
                  Sec. {o.section}
                </Badge>
                <Badge variant="outline" color="gray" radius="sm">
                  {o.semesterCode}
                </Badge>
              </Group>
            </Group>
            <Text fw={600} lineClamp={2} mb="sm">
              {o.courseName}
            </Text>
            <Stack gap={4}>
              <Meta icon={<IconClock size={14} />} text={scheduleSummary(o.schedule)} />
              <Group gap="md">
                <Meta icon={<IconUser size={14} />} text={o.teacherName ?? 'No teacher yet'} />
                {o.room && <Meta icon={<IconDoor size={14} />} text={o.room} />}
                {showCount && <Meta icon={<IconUsers size={14} />} text={`${o.enrolledCount} students`} />}
              </Group>
            </Stack>
          </Card>
        </UnstyledButton>
      ))}
    </SimpleGrid>
  );
}

function Meta({ icon, text }: { icon: React.ReactNode; text: string }) {
  return (
    <Group gap={6} wrap="nowrap" c="dimmed">
      {icon}
      <Text size="sm" c="dimmed" lineClamp={1}>
        {text}
      </Text>
    </Group>
  );
}
