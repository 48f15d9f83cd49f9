import { Badge } from '@mantine/core';
import type { Job } from './api.ts';

const COLORS = { queued: 'gray', running: 'blue', done: 'teal', failed: 'red' } as const;

export function JobStatusBadge({ job }: { job: Pick<Job, 'status' | 'failed' | 'total'> }) {
  const partial = job.status === 'done' && job.failed > 0;
  return (
    <Badge variant="light" color={partial ? 'yellow' : COLORS[job.status]} tt="none" data-testid="job-status">
      {partial ? `done, ${job.failed} failed` : job.status}
    </Badge>
  );
}
