import { Box, Center, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { Logo } from './logo.tsx';

/** The centred card of the public pages (face sign-in, password reset): logo, title, subtitle. */
export function AuthFrame({
  title,
  subtitle,
  width = 420,
  footer,
  children,
}: {
  title: string;
  subtitle: string;
  width?: number;
  /** Shown under the card, e.g. a link back to sign-in. */
  footer?: ReactNode;
  children: ReactNode;
}) {
  return (
    <Box mih="100vh" style={{ background: 'var(--aula-sign-in-bg)' }}>
      <Center mih="100vh" p="md">
        <Stack w="100%" maw={width} gap="lg">
          <Center>
            <Logo size="lg" />
          </Center>
          <Paper p={32} radius="lg" shadow="md" bg="var(--aula-card-bg)">
            <Stack gap="md">
              <div>
                <Title order={2} fz={22}>
                  {title}
                </Title>
                <Text c="dimmed" size="sm" mt={4}>
                  {subtitle}
                </Text>
              </div>
              {children}
            </Stack>
          </Paper>
          {footer ? <Center>{footer}</Center> : null}
        </Stack>
      </Center>
    </Box>
  );
}
