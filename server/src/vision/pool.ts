import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../platform/logger.ts';
import { AppError } from '../platform/errors.ts';
import type { FromWorker, OpName, ToWorker, WorkerOps, WorkerSettings } from './protocol.ts';
import type { NetworkStatus } from './runtime/status.ts';

const require = createRequire(import.meta.url);
const WORKER_FILE = path.join(import.meta.dirname, 'worker.ts');

export interface PoolOptions {
  size: number;
  settings: WorkerSettings;
  taskTimeoutMs: number;
  /** Tasks waiting beyond this count are refused with 503 rather than queued without bound. */
  maxQueue?: number;
  logger?: Logger;
}

export type Priority = 'high' | 'normal';

interface Task {
  op: OpName;
  args: unknown;
  timeoutMs: number;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

interface Slot {
  index: number;
  proc: ChildProcess | undefined;
  state: 'starting' | 'idle' | 'busy' | 'dead';
  task: { id: number; task: Task; timer: NodeJS.Timeout } | undefined;
  networks: NetworkStatus[];
  backend: string;
  rssBytes: number;
  restarts: number;
  startedAt: number;
  readyWaiters: (() => void)[];
}

export interface PoolStatus {
  started: boolean;
  size: number;
  ready: number;
  busy: number;
  starting: number;
  backend: string | undefined;
  networks: NetworkStatus[];
  failed: { id: string; error: string }[];
  queued: number;
  restarts: number;
}

/**
 * Worker processes that run inference off the HTTP event loop. Tasks queue (two priorities),
 * each runs on one idle worker with a deadline; a worker that crashes or misses a deadline is
 * killed and replaced, and its task fails with a 503 instead of hanging.
 */
export class VisionPool {
  private readonly slots: Slot[] = [];
  private readonly queues: Record<Priority, Task[]> = { high: [], normal: [] };
  private nextId = 1;
  private cpuTotalMs = 0;
  private tasksDone = 0;
  private started = false;
  private closed = false;
  private readonly maxQueue: number;

  constructor(private readonly opts: PoolOptions) {
    this.maxQueue = opts.maxQueue ?? 1000;
  }

  get size(): number {
    return this.opts.size;
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** Forks the workers (idempotent); resolves once every worker has reported its models. */
  async start(): Promise<void> {
    if (this.closed) throw new AppError('vision_stopped', 503, 'The vision workers are shut down');
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < this.opts.size; i++) {
        const slot: Slot = {
          index: i,
          proc: undefined,
          state: 'dead',
          task: undefined,
          networks: [],
          backend: 'none',
          rssBytes: 0,
          restarts: 0,
          startedAt: 0,
          readyWaiters: [],
        };
        this.slots.push(slot);
        this.spawn(slot);
      }
    }
    await Promise.all(
      this.slots
        .filter((s) => s.state === 'starting')
        .map((s) => new Promise<void>((resolve) => s.readyWaiters.push(resolve))),
    );
  }

  run<K extends OpName>(
    op: K,
    args: WorkerOps[K]['args'],
    opts: { priority?: Priority; timeoutMs?: number } = {},
  ): Promise<WorkerOps[K]['result']> {
    if (this.closed) return Promise.reject(new AppError('vision_stopped', 503, 'The vision workers are shut down'));
    if (!this.started) void this.start().catch(() => {});
    const queued = this.queues.high.length + this.queues.normal.length;
    if (queued >= this.maxQueue) {
      return Promise.reject(
        new AppError('vision_busy', 503, 'The vision workers are saturated; try again shortly', {
          retryAfterSeconds: 5,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.queues[opts.priority ?? 'normal'].push({
        op,
        args,
        timeoutMs: opts.timeoutMs ?? this.opts.taskTimeoutMs,
        resolve: resolve,
        reject,
      });
      this.dispatch();
    });
  }

  status(): PoolStatus {
    const ready = this.slots.filter((s) => s.state === 'idle' || s.state === 'busy');
    // Every worker loads the same files; the most recent report of any worker stands for all.
    const reporter = ready[0] ?? this.slots.find((s) => s.networks.length > 0);
    const networks = reporter?.networks ?? [];
    return {
      started: this.started,
      size: this.opts.size,
      ready: ready.length,
      busy: this.slots.filter((s) => s.state === 'busy').length,
      starting: this.slots.filter((s) => s.state === 'starting').length,
      backend: reporter?.backend,
      networks,
      failed: networks.filter((n) => !n.ok).map((n) => ({ id: n.id, error: n.error ?? 'failed to load' })),
      queued: this.queues.high.length + this.queues.normal.length,
      restarts: this.slots.reduce((n, s) => n + s.restarts, 0),
    };
  }

  /** Process ids of the live workers (for operations and crash tests). */
  pids(): number[] {
    return this.slots.map((s) => s.proc?.pid).filter((p): p is number => typeof p === 'number');
  }

  /** CPU time the workers spent on finished tasks, in ms: contention on a busy host inflates wall time, not this. */
  cpuMs(): number {
    return this.cpuTotalMs;
  }

  tasksCompleted(): number {
    return this.tasksDone;
  }

  rssBytes(): number {
    return this.slots.reduce((n, s) => n + s.rssBytes, 0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopped = new AppError('vision_stopped', 503, 'The vision workers are shut down');
    for (const q of Object.values(this.queues)) for (const t of q.splice(0)) t.reject(stopped);
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.task) {
              clearTimeout(s.task.timer);
              s.task.task.reject(stopped);
              s.task = undefined;
            }
            for (const w of s.readyWaiters.splice(0)) w();
            const p = s.proc;
            if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
            const force = setTimeout(() => p.kill('SIGKILL'), 2000);
            p.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            p.kill('SIGTERM');
          }),
      ),
    );
  }

  private spawn(slot: Slot): void {
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    const proc = fork(WORKER_FILE, [], {
      execArgv: ['--import', tsx],
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    slot.proc = proc;
    slot.state = 'starting';
    slot.startedAt = Date.now();
    const log = this.opts.logger?.child({ component: 'vision-worker', worker: slot.index, pid: proc.pid });
    for (const stream of [proc.stdout, proc.stderr]) {
      if (!stream) continue;
      // Libraries print notices; they go to the log at debug level, never to our stdout.
      createInterface({ input: stream }).on('line', (line) => log?.debug({ line }, 'worker output'));
    }
    proc.on('message', (msg: FromWorker) => this.onMessage(slot, proc, msg));
    proc.on('error', (err) => log?.warn({ err }, 'vision worker error'));
    proc.on('exit', (code, signal) => this.onExit(slot, proc, code, signal));
    const init: ToWorker = { type: 'init', settings: this.opts.settings };
    proc.send(init);
  }

  private onMessage(slot: Slot, proc: ChildProcess, msg: FromWorker): void {
    if (slot.proc !== proc) return;
    if (msg.type === 'ready') {
      slot.networks = msg.networks;
      slot.backend = msg.backend;
      slot.rssBytes = msg.rssBytes;
      slot.state = 'idle';
      const failed = msg.networks.filter((n) => !n.ok);
      if (failed.length) {
        this.opts.logger?.error(
          { worker: slot.index, failed: failed.map((f) => `${f.id}: ${f.error ?? ''}`) },
          'vision models failed to load',
        );
      }
      for (const w of slot.readyWaiters.splice(0)) w();
      this.dispatch();
      return;
    }
    const current = slot.task;
    if (!current || current.id !== msg.id) return;
    clearTimeout(current.timer);
    slot.task = undefined;
    slot.state = 'idle';
    this.cpuTotalMs += msg.cpuMs;
    this.tasksDone++;
    if (msg.ok) current.task.resolve(msg.value);
    else {
      const e = msg.error;
      current.task.reject(
        e.status >= 500 && e.code === 'vision_failed'
          ? new AppError('vision_failed', 500, `Vision task ${current.task.op} failed: ${e.message}`)
          : new AppError(e.code, e.status, e.message, e.details),
      );
    }
    this.dispatch();
  }

  private onExit(slot: Slot, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.proc !== proc) return;
    slot.proc = undefined;
    slot.state = 'dead';
    for (const w of slot.readyWaiters.splice(0)) w();
    if (slot.task) {
      clearTimeout(slot.task.timer);
      slot.task.task.reject(
        new AppError('vision_worker_crashed', 503, `The vision worker stopped during ${slot.task.task.op}`, {
          exitCode: code,
          signal,
        }),
      );
      slot.task = undefined;
    }
    if (this.closed) return;
    this.opts.logger?.warn({ worker: slot.index, code, signal }, 'vision worker exited; restarting');
    slot.restarts++;
    // Back off when a worker keeps dying at start-up (a broken install), not after a long life.
    const quick = Date.now() - slot.startedAt < 10_000;
    const delay = quick ? Math.min(30_000, 250 * 2 ** Math.min(slot.restarts, 7)) : 100;
    setTimeout(() => {
      if (!this.closed && slot.state === 'dead') this.spawn(slot);
    }, delay).unref();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.state !== 'idle' || !slot.proc) continue;
      const task = this.queues.high.shift() ?? this.queues.normal.shift();
      if (!task) return;
      const id = this.nextId++;
      const proc = slot.proc;
      const timer = setTimeout(() => {
        if (slot.task?.id !== id) return;
        slot.task = undefined;
        task.reject(
          new AppError('vision_timeout', 503, `Vision task ${task.op} took longer than ${task.timeoutMs} ms`, {
            retryAfterSeconds: 5,
          }),
        );
        // A worker stuck in native code cannot be interrupted; it is replaced.
        proc.kill('SIGKILL');
      }, task.timeoutMs);
      slot.task = { id, task, timer };
      slot.state = 'busy';
      const msg: ToWorker = { type: 'task', id, op: task.op, args: task.args };
      proc.send(msg, (err) => {
        if (err && slot.task?.id === id) {
          clearTimeout(timer);
          slot.task = undefined;
          slot.state = 'idle';
          task.reject(new AppError('vision_worker_crashed', 503, `Could not reach the vision worker: ${err.message}`));
        }
      });
    }
  }
}
