import { Button, Center, EmptyState, Group, Loader, Stack } from '@mantine/core';
import { IconArrowLeft, IconLock, IconMapQuestion, IconPlugConnectedX } from '@tabler/icons-react';
import { isRouteErrorResponse, Link, useRouteError } from 'react-router-dom';
import { errorMessage } from './api.ts';

export function PageLoader() {
  return (
    <Center mih={320}>
      <Loader type="dots" />
    </Center>
  );
}

export function FullScreenLoader() {
  return (
    <Center mih="100vh">
      <Loader />
    </Center>
  );
}

export function NotFoundPage() {
  return (
    <Center mih={420}>
      <EmptyState
        size="lg"
        withIndicatorBackground
        icon={<IconMapQuestion size={30} stroke={1.5} />}
        title="Page not found"
        description="The page you asked for does not exist or has moved."
      >
        <EmptyState.Actions>
          <Button component={Link} to="/" leftSection={<IconArrowLeft size={16} />} variant="light">
            Back to home
          </Button>
        </EmptyState.Actions>
      </EmptyState>
    </Center>
  );
}

export function ForbiddenPage() {
  return (
    <Center mih={420}>
      <EmptyState
        size="lg"
        withIndicatorBackground
        icon={<IconLock size={30} stroke={1.5} />}
        title="Not available for your role"
        description="Ask an administrator if you need access to this page."
      >
        <EmptyState.Actions>
          <Button component={Link} to="/" leftSection={<IconArrowLeft size={16} />} variant="light">
            Back to home
          </Button>
        </EmptyState.Actions>
      </EmptyState>
    </Center>
  );
}

export function ConnectionProblem({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  return (
    <Center mih="100vh" p="md">
      <EmptyState
        size="lg"
        withIndicatorBackground
        icon={<IconPlugConnectedX size={30} stroke={1.5} />}
        title="Aula is not reachable"
        description={errorMessage(error)}
      >
        <EmptyState.Actions>
          <Button onClick={onRetry}>Try again</Button>
        </EmptyState.Actions>
      </EmptyState>
    </Center>
  );
}

/** Shown when a page throws while rendering, instead of a blank screen. */
export function RouteError() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : errorMessage(error);
  return (
    <Center mih="70vh" p="md">
      <Stack align="center">
        <EmptyState
          size="lg"
          withIndicatorBackground
          icon={<IconPlugConnectedX size={30} stroke={1.5} />}
          title="This page failed to load"
          description={message}
        />
        <Group>
          <Button variant="default" onClick={() => window.location.reload()}>
            Reload
          </Button>
          <Button component={Link} to="/">
            Home
          </Button>
        </Group>
      </Stack>
    </Center>
  );
}
