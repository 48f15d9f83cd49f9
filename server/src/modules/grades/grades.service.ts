import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Config } from '../../config.ts';
import type { Bus } from '../../platform/bus/bus.ts';
import type { Db } from '../../platform/db/database.ts';
import type { GradeSource } from '../../platform/db/tables/grades.ts';
import { AppError, forbidden } from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import { requireActor, requireScope, type Actor } from '../identity/actor.ts';
import type { CommitSummary } from './commit.ts';
import {
  MemoryCounters,
  RedisCounters,
  sortGroups,
  type CounterGroup,
  type CounterTruth,
  type CountersSnapshot,
  type GradeCounters,
} from './counters.ts';
import { GradeWriter, type Committer } from './grade-writer.ts';
import { createGradeMetrics, type GradeMetrics } from './grades.metrics.ts';
import { GradesRepository } from './grades.repository.ts';
import { parseGrades, type Ack, type GradeInput, type GroupFilter, type NormalizedGrade } from './grades.schemas.ts';
import { KyselyCommitter } from './kysely-commit.ts';
import { SqliteCheckpointer } from './sqlite-checkpointer.ts';
import { SqliteCommitter } from './sqlite-commit.ts';
import { topStudents, type TopStudent } from './top-students.ts';

/** The bus channel of committed grades; payload: {@link GradesCommittedEvent}. */
export const GRADES_COMMITTED = 'grades.committed';

/**
 * Published after every commit that stored something: the counter values AFTER the commit
 * (absolute, not deltas), for the groups the commit touched. A rebuild publishes every group.
 */
export type GradesCommittedEvent = CountersSnapshot;

export const DEFAULT_PASSING_GRADE = 61;
const MAX_BATCH_RECORDS = 2000;
const RECONCILE_EVERY_MS = 15_000;

export interface GradesDeps {
  db: Db;
  config: Config;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  /** Tests point the counters at their own Redis keys or at an unreachable Redis. */
  counters?: GradeCounters;
  redisPrefix?: string;
}

export interface ReconcileReport {
  counters: 'memory' | 'redis';
  /** Whether the counters already matched SQL before the rebuild. */
  wereExact: boolean;
  total: number;
  groups: number;
}

/**
 * Grade ingest (REST, gRPC, gradebook) through one group-commit writer, live counters, and the
 * dashboard analytics, all read from summaries maintained in the ingest transaction.
 */
export class GradesService {
  readonly repo: GradesRepository;
  readonly writer: GradeWriter;
  /** The live counters (in process, or in Redis when REDIS_URL is set). */
  readonly live: GradeCounters;
  readonly metrics: GradeMetrics;
  private readonly redis: Redis | undefined;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private checkpointer: SqliteCheckpointer | undefined;
  private reconciling: Promise<ReconcileReport> | undefined;
  private closed = false;

  constructor(private readonly deps: GradesDeps) {
    const { db, config } = deps;
    this.logger = deps.logger.child({ component: 'grades' });
    this.metrics = createGradeMetrics(deps.metrics.registry);
    this.repo = new GradesRepository(db.kysely, db.dialect);
    if (deps.counters) {
      this.live = deps.counters;
    } else if (config.redisUrl) {
      // A connection of its own that fails fast while Redis is away, so ingest never waits on it.
      const r = new Redis(config.redisUrl, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: 3000,
      });
      r.on('error', (err) => this.logger.debug({ err }, 'redis (counters) error'));
      r.on('ready', () => {
        if (this.live.dirty) this.reconcileInBackground('redis reconnected');
      });
      this.redis = r;
      this.live = new RedisCounters(r, deps.redisPrefix);
    } else {
      this.live = new MemoryCounters();
    }
    this.writer = new GradeWriter(this.committer(), {
      windowMs: config.gradesCommitWindowMs,
      maxBatchRecords: MAX_BATCH_RECORDS,
      onCommitted: (summary) => this.afterCommit(summary),
      metrics: this.metrics,
      logger: this.logger,
    });
  }

  private committer(): Committer {
    const { db } = this.deps;
    if (db.sqlite) {
      const handle = db.sqlite;
      const c = new SqliteCommitter(handle);
      if (SqliteCheckpointer.applies(handle)) this.checkpointer = new SqliteCheckpointer(handle);
      return {
        commit: async (units) => {
          // Another module's Kysely transaction may be open on this same connection between its
          // awaits; committing now would fold these grades into its fate. Wait for it to end.
          while (handle.inTransaction) await sleep(1);
          return c.commit(units);
        },
      };
    }
    return new KyselyCommitter(db, this.repo);
  }

  /** Loads in-process counters from SQL and starts watching for lost counter updates. */
  async init(): Promise<void> {
    if (this.live.kind === 'memory') await this.live.rebuild(this.truth());
    this.timer = setInterval(() => {
      this.metrics.countersDirty.set(this.live.dirty ? 1 : 0);
      if (this.live.dirty) this.reconcileInBackground('counters dirty');
    }, RECONCILE_EVERY_MS);
    this.timer.unref();
  }

  /** The start-up check of a serving process: counters in Redis must match SQL, or are rebuilt. */
  async startupCheck(): Promise<ReconcileReport | null> {
    if (this.live.kind === 'memory') return null;
    await this.waitForRedis(5000);
    const exact = await this.live.matches(this.truth());
    if (exact) return null;
    this.logger.info('grade counters in Redis differ from SQL; rebuilding');
    return this.reconcile();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.writer.close();
    await this.checkpointer?.stop();
    await this.reconciling?.catch(() => undefined);
    await this.live.close();
    this.redis?.disconnect();
  }

  // ---- ingest --------------------------------------------------------------------------------

  /** Machine ingest (REST, gRPC): a token with grades:write, or an admin session. */
  async ingest(actor: Actor | null, body: unknown, source: 'rest' | 'grpc'): Promise<Ack> {
    const a = authorizeIngest(actor);
    let grades: NormalizedGrade[];
    try {
      grades = parseGrades(body);
    } catch (err) {
      this.metrics.ingested.inc({ source, outcome: 'rejected' }, Array.isArray(body) ? body.length : 1);
      throw err;
    }
    return this.writer.submit(grades, source, createdBy(a));
  }

  /** Already validated grades from an authorized transport (the gRPC stream commits in chunks). */
  submitValidated(actor: Actor, grades: readonly NormalizedGrade[], source: 'rest' | 'grpc'): Promise<Ack> {
    return this.writer.submit(grades, source, createdBy(authorizeIngest(actor)));
  }

  /**
   * Gradebook entries (typed in the UI or imported from CSV), through the same writer. The
   * gradebook decides which offerings the actor may grade; here only staff may write.
   */
  async append(actor: Actor, records: readonly GradeInput[], source: 'ui' | 'csv'): Promise<Ack> {
    const a = requireActor(actor);
    if (a.role !== 'admin' && a.role !== 'teacher') throw forbidden('Only staff can enter grades');
    return this.writer.submit(parseGrades(records), source, createdBy(a));
  }

  authorizeIngest(actor: Actor | null): Actor {
    return authorizeIngest(actor);
  }

  authorizeRead(actor: Actor | null): Actor {
    return authorizeRead(actor);
  }

  // ---- live counters -------------------------------------------------------------------------

  /**
   * Every group's live counters, for a dashboard's first paint. While Redis is unreachable they
   * are read from SQL, which they only ever mirror.
   */
  async counters(): Promise<CountersSnapshot> {
    try {
      return await this.live.snapshot();
    } catch (err) {
      this.logger.debug({ err }, 'live counters unavailable; reading them from SQL');
      const groups = await this.truth().groups();
      return { total: groups.reduce((s, g) => s + g.records, 0), groups: sortGroups(groups) };
    }
  }

  private afterCommit(summary: CommitSummary): void {
    if (summary.accepted === 0) return;
    this.live.apply(summary).then(
      (snapshot) => {
        if (snapshot) this.deps.bus.publish(GRADES_COMMITTED, snapshot satisfies GradesCommittedEvent);
        else if (this.live.dirty) this.metrics.countersDirty.set(1);
      },
      (err: unknown) => this.logger.warn({ err }, 'counter update failed'),
    );
  }

  /**
   * Rebuilds the counters from SQL while this process commits nothing, then publishes every
   * group. Exact for this process; with several instances writing, run it when ingest is idle.
   */
  reconcile(): Promise<ReconcileReport> {
    this.reconciling ??= this.writer
      .exclusive(async () => {
        const truth = this.truth();
        const wereExact = !this.live.dirty && (await this.live.matches(truth));
        if (!wereExact) await this.live.rebuild(truth);
        const snapshot = await this.live.snapshot();
        this.metrics.countersDirty.set(this.live.dirty ? 1 : 0);
        this.deps.bus.publish(GRADES_COMMITTED, snapshot satisfies GradesCommittedEvent);
        return { counters: this.live.kind, wereExact, total: snapshot.total, groups: snapshot.groups.length };
      })
      .finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  private reconcileInBackground(why: string): void {
    if (this.closed || this.reconciling) return;
    this.reconcile().then(
      (r) => this.logger.info({ why, ...r }, 'grade counters reconciled'),
      (err: unknown) => this.logger.warn({ err, why }, 'grade counter reconcile failed; will retry'),
    );
  }

  async waitForRedis(timeoutMs: number): Promise<void> {
    const r = this.redis;
    if (!r || r.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        r.off('ready', ok);
        reject(new AppError('redis_unavailable', 503, 'Redis is not reachable', { retryAfterSeconds: 5 }));
      }, timeoutMs);
      const ok = () => {
        clearTimeout(t);
        resolve();
      };
      r.once('ready', ok);
    });
  }

  private truth(): CounterTruth {
    const repo = this.repo;
    return {
      groups: async (): Promise<CounterGroup[]> =>
        (await repo.listGroups()).map((g) => ({
          course: g.course_code,
          year: Number(g.year),
          semester: Number(g.semester),
          records: Number(g.records),
          students: Number(g.students),
        })),
      members: async function* () {
        let after: string | null = null;
        for (;;) {
          const page = await repo.effectiveKeysPage(after, 5000);
          if (page.keys.length === 0) return;
          yield page.keys.map((k) => ({ course: k.course, year: k.year, semester: k.semester, student: k.student }));
          after = page.last;
        }
      },
    };
  }

  // ---- analytics -----------------------------------------------------------------------------

  async total(actor: Actor | null, f: GroupFilter): Promise<{ total: number }> {
    authorizeRead(actor);
    return { total: await this.repo.sumRecords(f) };
  }

  async passFail(actor: Actor | null, f: GroupFilter): Promise<{ passed: number; failed: number }> {
    authorizeRead(actor);
    return this.repo.passFail(f, DEFAULT_PASSING_GRADE);
  }

  async topCourses(
    actor: Actor | null,
    f: GroupFilter,
    limit: number,
  ): Promise<{ course: string; students: number }[]> {
    authorizeRead(actor);
    return this.repo.topCourses(f, limit);
  }

  async topStudents(actor: Actor | null, f: GroupFilter, limit: number): Promise<TopStudent[]> {
    authorizeRead(actor);
    return topStudents(this.repo, f, limit);
  }

  async students(actor: Actor | null, f: GroupFilter): Promise<{ students: number }> {
    authorizeRead(actor);
    return { students: await this.repo.sumStudents(f) };
  }
}

function authorizeIngest(actor: Actor | null): Actor {
  const a = requireActor(actor);
  if (a.via === 'token') return requireScope(a, 'grades:write');
  if (a.via === 'session' && a.role !== 'admin') {
    throw forbidden('This endpoint is for ingest clients with an API token; teachers enter grades in the gradebook');
  }
  return a;
}

function authorizeRead(actor: Actor | null): Actor {
  const a = requireActor(actor);
  if (a.via === 'token') return requireScope(a, 'grades:read');
  if (a.role !== 'admin' && a.role !== 'teacher') throw forbidden('Grade analytics are for staff');
  return a;
}

const createdBy = (a: Actor): string | null => (a.via === 'system' ? null : a.id);

export type { GradeSource };
