import { Badge, Loader } from '@mantine/core';
import { statusColor, type RunStatus } from './api.ts';

export function RunStatusBadge({ status }: { status: RunStatus }) {
  return (
    <Badge
      variant="light"
      color={statusColor[status]}
      radius="sm"
      tt="none"
      leftSection={status === 'running' ? <Loader size={10} color="blue" type="oval" /> : undefined}
      data-testid="run-status"
    >
      {status}
    </Badge>
  );
}
