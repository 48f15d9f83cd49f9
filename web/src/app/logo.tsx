import { Group, Text, ThemeIcon } from '@mantine/core';
import { IconSchool } from '@tabler/icons-react';

export function Logo({ size = 'md' }: { size?: 'md' | 'lg' }) {
  const big = size === 'lg';
  return (
    <Group gap={8} wrap="nowrap">
      <ThemeIcon
        size={big ? 44 : 34}
        radius="md"
        variant="gradient"
        gradient={{ from: 'aula.6', to: 'cyan.6', deg: 135 }}
      >
        <IconSchool size={big ? 26 : 20} stroke={1.7} />
      </ThemeIcon>
      <Text fw={750} fz={big ? 28 : 21} style={{ letterSpacing: -0.4 }}>
        Aula
      </Text>
    </Group>
  );
}
