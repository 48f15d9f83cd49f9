import type { Config } from '../../config.ts';
import { BullmqQueue } from './bullmq-queue.ts';
import { MemoryQueue } from './memory-queue.ts';
import type { JobQueue } from './queue.ts';

export type { AddOptions, JobHandler, JobQueue, JobState, QueueWorker, RunningJob, WorkOptions } from './queue.ts';
export { PermanentJobError } from './queue.ts';

/** BullMQ when REDIS_URL is set, otherwise the in-process queue. */
export function createQueue(config: Config): JobQueue {
  const q = config.queue;
  const defaults = { attempts: q.attempts, backoffMs: q.backoffMs };
  if (!config.redisUrl) return new MemoryQueue(defaults);
  return new BullmqQueue({
    ...defaults,
    url: config.redisUrl,
    prefix: q.prefix,
    lockDurationMs: q.lockDurationMs,
    stalledIntervalMs: q.stalledIntervalMs,
    maxStalledCount: q.maxStalledCount,
  });
}
