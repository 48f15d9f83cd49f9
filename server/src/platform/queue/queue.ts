/**
 * Background jobs behind one interface: in process for the embedded install, on BullMQ (Redis)
 * when REDIS_URL is set so that `aula worker` processes on any host share the work.
 *
 * Delivery is at least once. A job can run again after a failure (retries with backoff) or after
 * the worker running it died (stalled-job recovery), so handlers must be idempotent: the same job
 * run twice leaves the same rows as one run. Durable state belongs in SQL; a job carries ids.
 */

export interface AddOptions {
  /**
   * A stable id makes adding idempotent: while a job with this id is waiting or running, adding
   * it again returns the same job instead of a second one.
   */
  jobId?: string;
  /** Runs in all, the first included (default from the queue). */
  attempts?: number;
  /** First retry delay; each further retry waits twice as long (default from the queue). */
  backoffMs?: number;
  /** Not before this many milliseconds from now. */
  delayMs?: number;
}

export interface RunningJob<T> {
  readonly id: string;
  readonly queue: string;
  readonly data: T;
  /** 1 on the first run, 2 on the first retry, and so on. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Whether a failure of this run is final (no retry follows). */
  readonly lastAttempt: boolean;
  /** Reports progress, 0–100 (kept with the job; callers publish their own live updates). */
  progress(percent: number): Promise<void>;
  /** Aborted when the worker shuts down; long handlers should stop at the next safe point. */
  readonly signal: AbortSignal;
}

export type JobHandler<T> = (job: RunningJob<T>) => Promise<void>;

export interface WorkOptions {
  /** Jobs of this queue run at once in this process (default 1). */
  concurrency?: number;
  /**
   * Called once when a job has failed for good: attempts used up, a PermanentJobError, or a
   * worker that kept dying on it. Handlers that keep their own status in SQL record it here.
   */
  onFailed?: (job: { id: string; data: unknown; attempts: number }, error: Error) => Promise<void> | void;
}

export type JobStateName = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

export interface JobState {
  id: string;
  queue: string;
  state: JobStateName;
  /** Runs started so far. */
  attempts: number;
  progress: number;
  error: string | null;
}

export interface QueueWorker {
  /** Stops taking jobs and waits for running ones (their signal is aborted first). */
  close(): Promise<void>;
}

export interface JobQueue {
  readonly kind: 'memory' | 'bullmq';
  add<T>(queue: string, data: T, opts?: AddOptions): Promise<string>;
  /** Starts consuming a queue in this process. */
  work<T>(queue: string, handler: JobHandler<T>, opts?: WorkOptions): QueueWorker;
  /**
   * Runs `data` on `queue` every `intervalMs`, once per interval across every process sharing the
   * queue (a scheduled sweep), under a stable schedule id.
   */
  every<T>(queue: string, scheduleId: string, intervalMs: number, data: T): Promise<void>;
  state(queue: string, jobId: string): Promise<JobState | null>;
  /** Waiting plus delayed plus active jobs. */
  pending(queue: string): Promise<number>;
  /** Throws when the queue back end cannot be reached (readiness). */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown by a handler when retrying cannot help (bad input, a row that no longer exists). */
export class PermanentJobError extends Error {
  constructor(
    message: string,
    readonly code = 'job_failed',
  ) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

export interface QueueDefaults {
  attempts: number;
  backoffMs: number;
}

/** Delay before run `attempt + 1`, after run `attempt` failed: base, 2×base, 4×base, … capped at 10 min. */
export function backoffDelay(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 600_000);
}

/** Queue names and job ids become Redis keys: keep them to a plain alphabet. */
export const QUEUE_NAME = /^[a-z][a-z0-9-]{0,63}$/;
export const JOB_ID = /^[A-Za-z0-9_.-]{1,128}$/;

export function assertQueueName(name: string): void {
  if (!QUEUE_NAME.test(name)) throw new Error(`Bad queue name "${name}"`);
}

export function assertJobId(id: string): void {
  if (!JOB_ID.test(id)) throw new Error(`Bad job id "${id}"`);
}
