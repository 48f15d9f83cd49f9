import { Badge, Tooltip } from '@mantine/core';
import classes from './live-indicator.module.css';
import type { LiveStatus } from './use-live.ts';

const LOOK: Record<LiveStatus, { color: string; label: string; help: string }> = {
  live: { color: 'teal', label: 'Live', help: 'Connected: figures update as grades arrive' },
  connecting: { color: 'gray', label: 'Connecting…', help: 'Opening the live connection' },
  offline: { color: 'orange', label: 'Reconnecting…', help: 'The live connection dropped; retrying' },
  refused: { color: 'red', label: 'Not live', help: 'The server refused the live connection; sign in again' },
};

export function LiveIndicator({ status, error }: { status: LiveStatus; error?: string | null }) {
  const look = LOOK[status];
  return (
    <Tooltip label={error ? `${look.help} (${error})` : look.help}>
      <Badge
        data-testid="live-indicator"
        data-status={status}
        variant="dot"
        color={look.color}
        size="lg"
        radius="sm"
        className={status === 'live' ? classes.pulse : undefined}
      >
        {look.label}
      </Badge>
    </Tooltip>
  );
}
