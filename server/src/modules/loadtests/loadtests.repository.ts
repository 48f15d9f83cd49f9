import type { Insertable, Selectable, Updateable } from 'kysely';
import type { DialectName, Executor } from '../../platform/db/database.ts';
import type {
  LoadtestLatencyBinsTable,
  LoadtestRunsTable,
  LoadtestSamplesTable,
  LoadtestWorkersTable,
} from '../../platform/db/tables/loadtests.ts';

export type RunRow = Selectable<LoadtestRunsTable>;
export type WorkerRow = Selectable<LoadtestWorkersTable>;
export type SampleRow = Selectable<LoadtestSamplesTable>;

export interface SeriesRow {
  at_second: number;
  requests: number;
  ok: number;
  errors: number;
  grades: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  workers: number;
}

export interface SampleTotalsRow {
  run_id: string;
  requests: number;
  ok: number;
  errors: number;
  grades: number;
  first_second: number;
  last_second: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

// Aggregates come back as strings or bigints on some drivers; every value here fits a double.
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export class LoadtestsRepository {
  constructor(
    private readonly db: Executor,
    private readonly dialect: DialectName,
  ) {}

  withExecutor(db: Executor): LoadtestsRepository {
    return new LoadtestsRepository(db, this.dialect);
  }

  findRunByRunId(runId: string): Promise<RunRow | undefined> {
    return this.db.selectFrom('loadtest_runs').selectAll().where('run_id', '=', runId).executeTakeFirst();
  }

  async insertRun(row: Insertable<LoadtestRunsTable>): Promise<void> {
    await this.db.insertInto('loadtest_runs').values(row).execute();
  }

  async updateRun(id: string, patch: Updateable<LoadtestRunsTable>): Promise<void> {
    await this.db.updateTable('loadtest_runs').set(patch).where('id', '=', id).execute();
  }

  async deleteRun(id: string): Promise<void> {
    await this.db.deleteFrom('loadtest_runs').where('id', '=', id).execute();
  }

  async listRuns(limit: number, offset: number): Promise<{ items: RunRow[]; total: number }> {
    const [items, count] = await Promise.all([
      this.db
        .selectFrom('loadtest_runs')
        .selectAll()
        .orderBy('started_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
      this.db
        .selectFrom('loadtest_runs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { items, total: num(count.n) };
  }

  findWorker(runPk: string, workerId: string): Promise<WorkerRow | undefined> {
    return this.db
      .selectFrom('loadtest_workers')
      .selectAll()
      .where('run_id', '=', runPk)
      .where('worker_id', '=', workerId)
      .executeTakeFirst();
  }

  async insertWorker(row: Insertable<LoadtestWorkersTable>): Promise<void> {
    await this.db.insertInto('loadtest_workers').values(row).execute();
  }

  async updateWorker(runPk: string, workerId: string, patch: Updateable<LoadtestWorkersTable>): Promise<void> {
    await this.db
      .updateTable('loadtest_workers')
      .set(patch)
      .where('run_id', '=', runPk)
      .where('worker_id', '=', workerId)
      .execute();
  }

  listWorkers(runPk: string): Promise<WorkerRow[]> {
    return this.db
      .selectFrom('loadtest_workers')
      .selectAll()
      .where('run_id', '=', runPk)
      .orderBy('worker_id')
      .execute();
  }

  listWorkersOfRuns(runPks: string[]): Promise<WorkerRow[]> {
    if (runPks.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('loadtest_workers').selectAll().where('run_id', 'in', runPks).execute();
  }

  /**
   * Inserts samples, replacing any with the same (run, worker, second). One statement per chunk
   * and no delete-then-insert, so concurrent workers never take range locks on each other.
   */
  async upsertSamples(rows: Insertable<LoadtestSamplesTable>[]): Promise<void> {
    // Chunked: SQLite and PostgreSQL cap the number of bound parameters per statement.
    for (let i = 0; i < rows.length; i += 1000) {
      const q = this.db.insertInto('loadtest_samples').values(rows.slice(i, i + 1000));
      if (this.dialect === 'mysql') {
        await q
          .onDuplicateKeyUpdate((eb) => ({
            requests: eb.fn('values', [eb.ref('requests')]),
            ok: eb.fn('values', [eb.ref('ok')]),
            errors: eb.fn('values', [eb.ref('errors')]),
            grades: eb.fn('values', [eb.ref('grades')]),
            p50_ms: eb.fn('values', [eb.ref('p50_ms')]),
            p95_ms: eb.fn('values', [eb.ref('p95_ms')]),
            p99_ms: eb.fn('values', [eb.ref('p99_ms')]),
          }))
          .execute();
      } else {
        await q
          .onConflict((oc) =>
            oc.columns(['run_id', 'worker_id', 'at_second']).doUpdateSet((eb) => ({
              requests: eb.ref('excluded.requests'),
              ok: eb.ref('excluded.ok'),
              errors: eb.ref('excluded.errors'),
              grades: eb.ref('excluded.grades'),
              p50_ms: eb.ref('excluded.p50_ms'),
              p95_ms: eb.ref('excluded.p95_ms'),
              p99_ms: eb.ref('excluded.p99_ms'),
            })),
          )
          .execute();
      }
    }
  }

  /** The run's per-second series over all workers: counts summed, percentiles the maximum. */
  async series(runPk: string, sinceSecond?: number): Promise<SeriesRow[]> {
    let q = this.db.selectFrom('loadtest_samples').where('run_id', '=', runPk);
    if (sinceSecond !== undefined) q = q.where('at_second', '>', sinceSecond);
    const rows = await q
      .select((eb) => [
        'at_second',
        eb.fn.sum<number>('requests').as('requests'),
        eb.fn.sum<number>('ok').as('ok'),
        eb.fn.sum<number>('errors').as('errors'),
        eb.fn.sum<number>('grades').as('grades'),
        eb.fn.max('p50_ms').as('p50_ms'),
        eb.fn.max('p95_ms').as('p95_ms'),
        eb.fn.max('p99_ms').as('p99_ms'),
        eb.fn.countAll<number>().as('workers'),
      ])
      .groupBy('at_second')
      .orderBy('at_second')
      .execute();
    return rows.map((r) => ({
      at_second: num(r.at_second),
      requests: num(r.requests),
      ok: num(r.ok),
      errors: num(r.errors),
      grades: num(r.grades),
      p50_ms: numOrNull(r.p50_ms),
      p95_ms: numOrNull(r.p95_ms),
      p99_ms: numOrNull(r.p99_ms),
      workers: num(r.workers),
    }));
  }

  /** Totals of the samples received so far, per run, for runs that have not finished. */
  async sampleTotals(runPks: string[]): Promise<SampleTotalsRow[]> {
    if (runPks.length === 0) return [];
    const rows = await this.db
      .selectFrom('loadtest_samples')
      .where('run_id', 'in', runPks)
      .select((eb) => [
        'run_id',
        eb.fn.sum<number>('requests').as('requests'),
        eb.fn.sum<number>('ok').as('ok'),
        eb.fn.sum<number>('errors').as('errors'),
        eb.fn.sum<number>('grades').as('grades'),
        eb.fn.min('at_second').as('first_second'),
        eb.fn.max('at_second').as('last_second'),
        eb.fn.max('p50_ms').as('p50_ms'),
        eb.fn.max('p95_ms').as('p95_ms'),
        eb.fn.max('p99_ms').as('p99_ms'),
      ])
      .groupBy('run_id')
      .execute();
    return rows.map((r) => ({
      run_id: r.run_id,
      requests: num(r.requests),
      ok: num(r.ok),
      errors: num(r.errors),
      grades: num(r.grades),
      first_second: num(r.first_second),
      last_second: num(r.last_second),
      p50_ms: numOrNull(r.p50_ms),
      p90_ms: null,
      p95_ms: numOrNull(r.p95_ms),
      p99_ms: numOrNull(r.p99_ms),
    }));
  }

  async replaceBins(runPk: string, workerId: string, bins: Insertable<LoadtestLatencyBinsTable>[]): Promise<void> {
    await this.db
      .deleteFrom('loadtest_latency_bins')
      .where('run_id', '=', runPk)
      .where('worker_id', '=', workerId)
      .execute();
    for (let i = 0; i < bins.length; i += 2000) {
      await this.db
        .insertInto('loadtest_latency_bins')
        .values(bins.slice(i, i + 2000))
        .execute();
    }
  }

  /** The run's latency histogram over the given workers, as [value_us, hits] ascending. */
  async mergedBins(runPk: string, workerIds: string[]): Promise<[number, number][]> {
    if (workerIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('loadtest_latency_bins')
      .where('run_id', '=', runPk)
      .where('worker_id', 'in', workerIds)
      .select((eb) => ['value_us', eb.fn.sum<number>('hits').as('hits')])
      .groupBy('value_us')
      .orderBy('value_us')
      .execute();
    return rows.map((r) => [num(r.value_us), num(r.hits)]);
  }

  countBinWorkers(runPk: string): Promise<number> {
    return this.db
      .selectFrom('loadtest_latency_bins')
      .where('run_id', '=', runPk)
      .select((eb) => eb.fn.count<number>('worker_id').distinct().as('n'))
      .executeTakeFirstOrThrow()
      .then((r) => num(r.n));
  }
}
