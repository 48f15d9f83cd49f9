import type { Logger } from '../../platform/logger.ts';

export type TaskHandler = (id: string) => Promise<void>;

/**
 * Background work of the media and analysis modules: album processing and lab jobs. Work is
 * named by kind and the id of a SQL row that holds its whole state, so whatever runs it (this
 * in-process runner, or a shared queue) only carries ids and a lost task can be found again from
 * SQL (`resume` in each service).
 */
export interface BackgroundTasks {
  register(kind: string, handler: TaskHandler): void;
  enqueue(kind: string, id: string): void;
  /** Resolves once nothing is queued or running. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Runs tasks in this process, a few at a time, in arrival order; a task enqueued twice runs once. */
export class InProcessTasks implements BackgroundTasks {
  private readonly handlers = new Map<string, TaskHandler>();
  private readonly queue: { kind: string; id: string }[] = [];
  private readonly pending = new Set<string>();
  private running = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly concurrency = 1,
    private readonly logger?: Logger,
  ) {}

  register(kind: string, handler: TaskHandler): void {
    if (this.handlers.has(kind)) throw new Error(`a handler for ${kind} is already registered`);
    this.handlers.set(kind, handler);
  }

  enqueue(kind: string, id: string): void {
    if (this.closed) return;
    if (!this.handlers.has(kind)) throw new Error(`no handler for ${kind}`);
    const key = `${kind}:${id}`;
    if (this.pending.has(key)) return;
    this.pending.add(key);
    this.queue.push({ kind, id });
    this.pump();
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0 && !this.closed) {
      const task = this.queue.shift()!;
      this.running++;
      const handler = this.handlers.get(task.kind)!;
      void handler(task.id)
        .catch((err: unknown) => this.logger?.error({ err, kind: task.kind, id: task.id }, 'background task failed'))
        .finally(() => {
          this.pending.delete(`${task.kind}:${task.id}`);
          this.running--;
          this.pump();
          if (this.running === 0 && this.queue.length === 0) {
            for (const w of this.idleWaiters.splice(0)) w();
          }
        });
    }
  }

  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking work and waits for the running tasks; queued ones stay in SQL for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    if (this.running > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
