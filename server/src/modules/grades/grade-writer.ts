import { setTimeout as sleep } from 'node:timers/promises';
import type { GradeSource } from '../../platform/db/tables/grades.ts';
import { classifyDriverError, type DbErrorKind } from '../../platform/db/db-errors.ts';
import { AppError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import {
  RetryableCommitError,
  type CommitResult,
  type CommitSummary,
  type CommitUnit,
  type UnitResult,
} from './commit.ts';
import { MonotonicIds } from './grade-ids.ts';
import type { GradeMetrics } from './grades.metrics.ts';
import type { NormalizedGrade } from './grades.schemas.ts';

export interface Committer {
  commit(units: readonly CommitUnit[]): Promise<CommitResult>;
}

export interface WriterOptions {
  /** How long the first waiting request holds the door open for others. */
  windowMs: number;
  /** A commit is started at once when this many records wait. */
  maxBatchRecords: number;
  /** Called after every successful commit, in commit order. */
  onCommitted: (summary: CommitSummary) => void;
  metrics: GradeMetrics;
  logger: Logger;
}

interface Pending {
  grades: readonly NormalizedGrade[];
  source: GradeSource;
  createdBy: string | null;
  queuedAt: number;
  resolve: (r: UnitResult) => void;
  reject: (e: unknown) => void;
}

const MAX_ATTEMPTS = 5;

/**
 * Group commit: one writer per process gathers the requests that arrive within a short window
 * (or until a size cap), writes them in one transaction, and only then acknowledges each.
 * Each request is all-or-nothing; a failed transaction fails exactly the requests in it, and a
 * request that fails on its own (not the database) is isolated so that it fails alone.
 */
export class GradeWriter {
  private queue: Pending[] = [];
  private queuedRecords = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private draining: Promise<void> | null = null;
  private paused: Promise<void> | null = null;
  private closed = false;
  private readonly ids = new MonotonicIds();

  constructor(
    private readonly committer: Committer,
    private readonly opts: WriterOptions,
  ) {}

  submit(grades: readonly NormalizedGrade[], source: GradeSource, createdBy: string | null): Promise<UnitResult> {
    if (this.closed) {
      return Promise.reject(
        new AppError(
          'shutting_down',
          503,
          'The server is shutting down; nothing was stored. Retry on another instance.',
          {
            retryAfterSeconds: 1,
          },
        ),
      );
    }
    if (grades.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0 });
    return new Promise<UnitResult>((resolve, reject) => {
      this.queue.push({ grades, source, createdBy, queuedAt: performance.now(), resolve, reject });
      this.queuedRecords += grades.length;
      this.schedule();
    });
  }

  /**
   * Runs `fn` while no commit of this process is in flight and none starts; requests keep
   * queueing and are committed afterwards. Used to read SQL and counters at one instant.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.paused) await this.paused;
    let release!: () => void;
    this.paused = new Promise<void>((r) => (release = r));
    this.clearTimer();
    try {
      while (this.draining) await this.draining;
      return await fn();
    } finally {
      this.paused = null;
      release();
      this.schedule();
    }
  }

  /** Stops taking requests, commits everything already queued, and waits for it. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.paused) await this.paused;
    this.clearTimer();
    while (this.queue.length > 0 || this.draining) {
      if (!this.draining) this.startDrain();
      await this.draining;
    }
  }

  get pendingRecords(): number {
    return this.queuedRecords;
  }

  private schedule(): void {
    if (this.draining || this.paused || this.queue.length === 0) return;
    if (this.queuedRecords >= this.opts.maxBatchRecords || this.closed) {
      this.clearTimer();
      this.startDrain();
      return;
    }
    if (this.timer) return;
    const fire = () => {
      this.timer = null;
      this.startDrain();
    };
    this.timer = this.opts.windowMs > 0 ? setTimeout(fire, this.opts.windowMs) : setImmediate(fire);
  }

  private clearTimer(): void {
    if (!this.timer) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = null;
  }

  private startDrain(): void {
    if (this.draining || this.paused) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      this.schedule();
    });
  }

  private async drain(): Promise<void> {
    // Requests that queued during a commit have waited at least that long: they go next, at once.
    while (this.queue.length > 0 && !this.paused) {
      const batch = this.take();
      await this.commitBatch(batch);
    }
  }

  private take(): Pending[] {
    const batch: Pending[] = [];
    let n = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (batch.length > 0 && n + next.grades.length > this.opts.maxBatchRecords) break;
      this.queue.shift();
      batch.push(next);
      n += next.grades.length;
    }
    this.queuedRecords -= n;
    return batch;
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    const { metrics, logger } = this.opts;
    const now = Date.now();
    const units: CommitUnit[] = batch.map((p) => ({
      grades: p.grades.map((g) => ({
        ...g,
        id: this.ids.next(now),
        source: p.source,
        createdBy: p.createdBy,
        receivedAt: now,
      })),
    }));
    const records = units.reduce((s, u) => s + u.grades.length, 0);
    let result: CommitResult | undefined;
    let failure: unknown;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const t0 = performance.now();
      try {
        result = await this.committer.commit(units);
        metrics.commitSeconds.observe((performance.now() - t0) / 1000);
        break;
      } catch (err) {
        failure = err;
        const kind = classifyDbError(err);
        metrics.commitFailures.inc({ reason: kind });
        if (kind === 'retry' && attempt < MAX_ATTEMPTS) {
          await sleep(2 ** attempt + Math.random() * 10);
          continue;
        }
        break;
      }
    }

    if (!result) {
      const kind = classifyDbError(failure);
      if (kind === 'error' && batch.length > 1) {
        // Not the database's fault, and maybe one request's: commit each alone so only it fails.
        logger.warn(
          { err: failure, requests: batch.length },
          'group commit failed; committing its requests one by one',
        );
        for (const p of batch) await this.commitBatch([p]);
        return;
      }
      if (kind === 'error') logger.error({ err: failure }, 'grade commit failed');
      else logger.warn({ err: failure }, 'grade commit failed: database unavailable');
      const error = toAppError(failure);
      for (const p of batch) {
        metrics.ingested.inc({ source: p.source, outcome: 'rejected' }, p.grades.length);
        p.reject(error);
      }
      return;
    }

    const committed = result;
    metrics.batchRecords.observe(records);
    metrics.batchRequests.observe(batch.length);
    const done = performance.now();
    batch.forEach((p, i) => {
      const r = committed.units[i];
      if (r.accepted) metrics.ingested.inc({ source: p.source, outcome: 'accepted' }, r.accepted);
      if (r.duplicates) metrics.ingested.inc({ source: p.source, outcome: 'duplicate' }, r.duplicates);
      metrics.waitSeconds.observe((done - p.queuedAt) / 1000);
      p.resolve(r);
    });
    try {
      this.opts.onCommitted(committed.summary);
    } catch (err) {
      logger.error({ err }, 'after-commit hook failed');
    }
  }
}

export type { DbErrorKind };

/** Which failures are worth a retry, which mean "the database is not there", and which are bugs. */
export function classifyDbError(err: unknown): DbErrorKind {
  if (err instanceof RetryableCommitError) return 'retry';
  return classifyDriverError(err);
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (classifyDbError(err) === 'error') {
    return new AppError(
      'ingest_failed',
      500,
      'The grades could not be stored; nothing from this request was acknowledged',
    );
  }
  return new AppError(
    'database_unavailable',
    503,
    'The database is unavailable, so the grades were not acknowledged. Retry shortly; with idempotency keys a retry never stores twice.',
    { retryAfterSeconds: 1 },
  );
}
