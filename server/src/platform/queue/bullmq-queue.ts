import { DelayedError, type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { newId } from '../ids.ts';
import {
  type AddOptions,
  assertJobId,
  assertQueueName,
  type JobHandler,
  type JobQueue,
  type JobState,
  type JobStateName,
  PermanentJobError,
  type QueueDefaults,
  type QueueWorker,
  type WorkOptions,
} from './queue.ts';

export interface BullmqQueueOptions extends QueueDefaults {
  url: string;
  /** Redis key prefix of every queue (tests use their own). */
  prefix: string;
  /**
   * How long a worker's claim on a job lasts without renewal. A worker that dies stops renewing,
   * and after this long another worker takes the job over.
   */
  lockDurationMs: number;
  /** How often workers look for jobs whose claim ran out. */
  stalledIntervalMs: number;
  /** A job whose worker died this many times is failed instead of taken over again. */
  maxStalledCount: number;
}

const KNOWN_STATES = new Set<JobStateName>(['waiting', 'delayed', 'active', 'completed', 'failed']);

/**
 * Jobs on BullMQ. Workers in any process that shares the Redis server and prefix take them; a
 * claimed job's lock is renewed while it runs, and when its worker dies (kill -9, a lost host)
 * the stalled-job check of another worker puts it back in line.
 */
export class BullmqQueue implements JobQueue {
  readonly kind = 'bullmq' as const;
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Map<Worker, () => Promise<void>>();
  private readonly connection: Redis;
  private closed = false;

  constructor(private readonly opts: BullmqQueueOptions) {
    // One shared connection for producers; workers open their own (they block on reads).
    this.connection = new Redis(opts.url, { maxRetriesPerRequest: null, enableOfflineQueue: true });
    this.connection.on('error', () => {});
  }

  private queue(name: string): Queue {
    assertQueueName(name);
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connection, prefix: this.opts.prefix });
      q.on('error', () => {});
      this.queues.set(name, q);
    }
    return q;
  }

  async add<T>(queue: string, data: T, opts: AddOptions = {}): Promise<string> {
    if (this.closed) throw new Error('The queue is closed');
    const id = opts.jobId ?? newId();
    assertJobId(id);
    const q = this.queue(queue);
    const existing = await q.getJob(id);
    if (existing) {
      const state = await existing.getState();
      // A finished job still holding the id would swallow the add: it makes way for the new one.
      if (state === 'completed' || state === 'failed') await existing.remove().catch(() => {});
      else return id;
    }
    await q.add(queue, data, {
      jobId: id,
      attempts: Math.max(1, opts.attempts ?? this.opts.attempts),
      backoff: { type: 'exponential', delay: opts.backoffMs ?? this.opts.backoffMs },
      ...(opts.delayMs && opts.delayMs > 0 ? { delay: opts.delayMs } : {}),
      // Finished jobs leave Redis after a while: SQL holds the outcome.
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 7 * 86_400, count: 5000 },
    });
    return id;
  }

  work<T>(queue: string, handler: JobHandler<T>, opts: WorkOptions = {}): QueueWorker {
    assertQueueName(queue);
    const connection = new Redis(this.opts.url, { maxRetriesPerRequest: null, enableOfflineQueue: true });
    connection.on('error', () => {});
    let stopping = false;
    const worker = new Worker(
      queue,
      async (job: Job, token?: string, signal?: AbortSignal) => {
        const maxAttempts = Math.max(1, job.opts.attempts ?? 1);
        const attempt = job.attemptsMade + 1;
        try {
          await handler({
            id: job.id!,
            queue,
            data: job.data as T,
            attempt,
            maxAttempts,
            lastAttempt: attempt >= maxAttempts,
            signal: signal ?? new AbortController().signal,
            progress: (p: number) => job.updateProgress(Math.max(0, Math.min(100, Math.round(p)))),
          });
        } catch (err) {
          if (err instanceof PermanentJobError) throw new UnrecoverableError(err.message);
          if (stopping && token) {
            // Interrupted by shutdown, not failed: back in line soon, without using an attempt.
            await job.moveToDelayed(Date.now() + 1000, token);
            throw new DelayedError();
          }
          throw err;
        }
      },
      {
        connection,
        prefix: this.opts.prefix,
        concurrency: Math.max(1, opts.concurrency ?? 1),
        lockDuration: this.opts.lockDurationMs,
        stalledInterval: this.opts.stalledIntervalMs,
        maxStalledCount: this.opts.maxStalledCount,
      },
    );
    worker.on('error', () => {});
    worker.on('failed', (job, err) => {
      if (!job || !opts.onFailed) return;
      const attempts = job.attemptsMade;
      const final =
        err instanceof UnrecoverableError ||
        err.name === 'UnrecoverableError' ||
        attempts >= Math.max(1, job.opts.attempts ?? 1) ||
        /stalled more than allowable limit/i.test(err.message);
      if (final) void Promise.resolve(opts.onFailed({ id: job.id!, data: job.data, attempts }, err)).catch(() => {});
    });
    const close = async () => {
      stopping = true;
      worker.cancelAllJobs('shutting down');
      await worker.close();
      connection.disconnect();
    };
    this.workers.set(worker, close);
    return {
      close: async () => {
        this.workers.delete(worker);
        await close();
      },
    };
  }

  async every<T>(queue: string, scheduleId: string, intervalMs: number, data: T): Promise<void> {
    assertJobId(scheduleId);
    // One schedule in Redis whatever the number of processes that declare it.
    await this.queue(queue).upsertJobScheduler(scheduleId, { every: intervalMs }, { name: queue, data });
  }

  async state(queue: string, jobId: string): Promise<JobState | null> {
    const job = await this.queue(queue).getJob(jobId);
    if (!job) return null;
    const s = await job.getState();
    const state: JobStateName = s === 'prioritized' || s === 'waiting-children' ? 'waiting' : (s as JobStateName);
    if (!KNOWN_STATES.has(state)) return null;
    return {
      id: jobId,
      queue,
      state,
      attempts: job.attemptsStarted ?? job.attemptsMade,
      progress: typeof job.progress === 'number' ? job.progress : 0,
      error: job.failedReason ?? null,
    };
  }

  async pending(queue: string): Promise<number> {
    return this.queue(queue).getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized');
  }

  async check(): Promise<void> {
    await this.connection.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.workers.values()].map((close) => close()));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.connection.disconnect();
  }
}
