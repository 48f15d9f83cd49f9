import {
  type AddOptions,
  assertJobId,
  assertQueueName,
  backoffDelay,
  type JobHandler,
  type JobQueue,
  type JobState,
  type JobStateName,
  PermanentJobError,
  type QueueDefaults,
  type QueueWorker,
  type WorkOptions,
} from './queue.ts';
import { newId } from '../ids.ts';

interface Job {
  id: string;
  queue: string;
  data: unknown;
  state: JobStateName;
  attempts: number;
  maxAttempts: number;
  backoffMs: number;
  runAt: number;
  progress: number;
  error: string | null;
  finishedAt: number | null;
}

interface Consumer {
  handler: JobHandler<unknown>;
  concurrency: number;
  active: Map<string, { done: Promise<void>; abort: AbortController }>;
  onFailed: WorkOptions['onFailed'];
  closed: boolean;
}

/** Finished jobs kept for state() lookups, per queue. */
const KEEP_FINISHED = 1000;

/**
 * The in-process queue of the embedded install. Jobs live as long as the process: callers keep
 * the durable record in SQL and add unfinished work again at start-up (with the same job ids, so
 * nothing runs twice at once).
 */
export class MemoryQueue implements JobQueue {
  readonly kind = 'memory' as const;
  private readonly jobs = new Map<string, Job>();
  private readonly consumers = new Map<string, Consumer[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly wakes = new Set<string>();
  private readonly intervals = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly defaults: QueueDefaults) {}

  private key(queue: string, id: string): string {
    return `${queue}\u0000${id}`;
  }

  async add<T>(queue: string, data: T, opts: AddOptions = {}): Promise<string> {
    assertQueueName(queue);
    if (this.closed) throw new Error('The queue is closed');
    const id = opts.jobId ?? newId();
    assertJobId(id);
    const existing = this.jobs.get(this.key(queue, id));
    if (existing && existing.state !== 'completed' && existing.state !== 'failed') return id;
    const delay = Math.max(0, opts.delayMs ?? 0);
    const job: Job = {
      id,
      queue,
      // A copy, as Redis would hold: later changes by the caller do not reach the job.
      data: structuredClone(data),
      state: delay > 0 ? 'delayed' : 'waiting',
      attempts: 0,
      maxAttempts: Math.max(1, opts.attempts ?? this.defaults.attempts),
      backoffMs: opts.backoffMs ?? this.defaults.backoffMs,
      runAt: Date.now() + delay,
      progress: 0,
      error: null,
      finishedAt: null,
    };
    this.jobs.delete(this.key(queue, id));
    this.jobs.set(this.key(queue, id), job);
    if (delay > 0) this.wakeAt(queue, delay);
    else queueMicrotask(() => this.pump(queue));
    return id;
  }

  work<T>(queue: string, handler: JobHandler<T>, opts: WorkOptions = {}): QueueWorker {
    assertQueueName(queue);
    const consumer: Consumer = {
      handler: handler as JobHandler<unknown>,
      concurrency: Math.max(1, opts.concurrency ?? 1),
      active: new Map(),
      onFailed: opts.onFailed,
      closed: false,
    };
    const list = this.consumers.get(queue) ?? [];
    list.push(consumer);
    this.consumers.set(queue, list);
    queueMicrotask(() => this.pump(queue));
    return {
      close: async () => {
        consumer.closed = true;
        for (const a of consumer.active.values()) a.abort.abort();
        await Promise.allSettled([...consumer.active.values()].map((a) => a.done));
        const rest = (this.consumers.get(queue) ?? []).filter((c) => c !== consumer);
        this.consumers.set(queue, rest);
      },
    };
  }

  async every<T>(queue: string, scheduleId: string, intervalMs: number, data: T): Promise<void> {
    assertQueueName(queue);
    const key = this.key(queue, scheduleId);
    const old = this.intervals.get(key);
    if (old) clearInterval(old);
    const t = setInterval(() => {
      // One run at a time: a sweep still going when the next is due is not doubled.
      void this.add(queue, data, { jobId: `${scheduleId}` }).catch(() => {});
    }, intervalMs);
    t.unref();
    this.intervals.set(key, t);
  }

  async state(queue: string, jobId: string): Promise<JobState | null> {
    const j = this.jobs.get(this.key(queue, jobId));
    if (!j) return null;
    return { id: j.id, queue: j.queue, state: j.state, attempts: j.attempts, progress: j.progress, error: j.error };
  }

  async pending(queue: string): Promise<number> {
    let n = 0;
    for (const j of this.jobs.values()) {
      if (j.queue === queue && (j.state === 'waiting' || j.state === 'delayed' || j.state === 'active')) n++;
    }
    return n;
  }

  async check(): Promise<void> {
    if (this.closed) throw new Error('The queue is closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    for (const t of this.intervals.values()) clearInterval(t);
    this.timers.clear();
    this.wakes.clear();
    this.intervals.clear();
    const all = [...this.consumers.values()].flat();
    for (const c of all) {
      c.closed = true;
      for (const a of c.active.values()) a.abort.abort();
    }
    await Promise.allSettled(all.flatMap((c) => [...c.active.values()].map((a) => a.done)));
  }

  private wakeAt(queue: string, delay: number): void {
    // One pending wake-up per queue and moment is enough.
    const at = Date.now() + delay;
    const key = `${queue}\u0000${at}`;
    if (this.wakes.has(key)) return;
    this.wakes.add(key);
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.wakes.delete(key);
      this.pump(queue);
    }, delay);
    t.unref();
    this.timers.add(t);
  }

  /** Hands ready jobs (oldest first) to consumers with a free slot. */
  private pump(queue: string): void {
    if (this.closed) return;
    const consumers = (this.consumers.get(queue) ?? []).filter((c) => !c.closed);
    if (consumers.length === 0) return;
    const now = Date.now();
    let nextDue = Infinity;
    for (const job of this.jobs.values()) {
      if (job.queue !== queue) continue;
      if (job.state === 'delayed') {
        if (job.runAt <= now) job.state = 'waiting';
        else nextDue = Math.min(nextDue, job.runAt);
      }
      if (job.state !== 'waiting') continue;
      const c = consumers.find((x) => x.active.size < x.concurrency);
      if (!c) return;
      this.run(c, job);
    }
    // Timers may fire a millisecond before the wall clock says a job is due: look again then,
    // or a delayed job would wait for an unrelated wake-up.
    if (nextDue !== Infinity) this.wakeAt(queue, Math.max(1, nextDue - now));
  }

  private run(c: Consumer, job: Job): void {
    job.state = 'active';
    job.attempts++;
    const abort = new AbortController();
    const lastAttempt = job.attempts >= job.maxAttempts;
    const running = {
      id: job.id,
      queue: job.queue,
      data: job.data,
      attempt: job.attempts,
      maxAttempts: job.maxAttempts,
      lastAttempt,
      signal: abort.signal,
      progress: async (p: number) => {
        job.progress = Math.max(0, Math.min(100, p));
      },
    };
    const done = (async () => {
      try {
        await c.handler(running);
        job.state = 'completed';
        job.progress = 100;
        job.error = null;
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        job.error = e.message;
        const permanent = e instanceof PermanentJobError;
        if (!permanent && !lastAttempt && !this.closed && !c.closed) {
          job.state = 'delayed';
          const delay = backoffDelay(job.backoffMs, job.attempts);
          job.runAt = Date.now() + delay;
          this.wakeAt(job.queue, delay);
        } else if (!permanent && !lastAttempt) {
          // Shutting down mid-run: the job was not finished, so it counts as not started.
          job.state = 'waiting';
          job.attempts--;
        } else {
          job.state = 'failed';
          await Promise.resolve(c.onFailed?.({ id: job.id, data: job.data, attempts: job.attempts }, e)).catch(
            () => {},
          );
        }
      } finally {
        c.active.delete(job.id);
        if (job.state === 'completed' || job.state === 'failed') {
          job.finishedAt = Date.now();
          this.trim(job.queue);
        }
        queueMicrotask(() => this.pump(job.queue));
      }
    })();
    c.active.set(job.id, { done, abort });
  }

  private trim(queue: string): void {
    const finished = [...this.jobs.values()].filter(
      (j) => j.queue === queue && (j.state === 'completed' || j.state === 'failed'),
    );
    if (finished.length <= KEEP_FINISHED) return;
    finished.sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
    for (const j of finished.slice(0, finished.length - KEEP_FINISHED)) this.jobs.delete(this.key(queue, j.id));
  }
}
