import type { Logger } from '../../platform/logger.ts';
import type { JobQueue, QueueWorker } from '../../platform/queue/index.ts';

export type TaskHandler = (id: string) => Promise<void>;
/** Called once when a task has failed for good (retries used up), to record that in SQL. */
export type TaskFailure = (id: string, error: Error) => Promise<void>;

/**
 * Background work of the media and analysis modules (album processing, lab jobs) on the product's
 * job queue: in process for the embedded install, BullMQ with Redis, where `aula worker`
 * processes take it. A task carries only the id of the SQL row that holds its whole state, so a
 * lost task is found again from SQL (`resume` in each service) and a repeated one is harmless.
 */
export class BackgroundTasks {
  private readonly handlers = new Map<string, { run: TaskHandler; failed?: TaskFailure }>();

  constructor(
    private readonly queue: JobQueue,
    private readonly logger?: Logger,
  ) {}

  register(kind: string, run: TaskHandler, failed?: TaskFailure): void {
    if (this.handlers.has(kind)) throw new Error(`a handler for ${kind} is already registered`);
    this.handlers.set(kind, { run, failed });
  }

  /**
   * Queues the row for its handler. `revision` tells runs of the same row apart (a photo analysed
   * again); the same row and revision is queued once, so resuming after a restart never doubles
   * work that is still queued. When the queue cannot be reached the row stays unfinished in SQL
   * and is queued again on the next start.
   */
  async enqueue(kind: string, id: string, revision?: number): Promise<void> {
    if (!this.handlers.has(kind)) throw new Error(`no handler for ${kind}`);
    try {
      await this.queue.add(kind, { id }, { jobId: revision === undefined ? id : `${id}-${revision}` });
    } catch (err) {
      this.logger?.error({ err, kind, id }, 'could not queue background work; it will be queued again on restart');
    }
  }

  /** Consumes every registered kind in this process. */
  start(): QueueWorker {
    const workers = [...this.handlers].map(([kind, h]) =>
      this.queue.work<{ id: string }>(kind, (job) => h.run(job.data.id), {
        concurrency: 1,
        onFailed: async (job, err) => {
          this.logger?.error({ err, kind, id: (job.data as { id: string }).id }, 'background task failed');
          await h.failed?.((job.data as { id: string }).id, err);
        },
      }),
    );
    return { close: async () => void (await Promise.all(workers.map((w) => w.close()))) };
  }

  /** Resolves once nothing of these kinds is waiting or running (tests, tooling). */
  async idle(pollMs = 50): Promise<void> {
    for (;;) {
      const pending = await Promise.all([...this.handlers.keys()].map((k) => this.queue.pending(k)));
      if (pending.every((n) => n === 0)) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
}
