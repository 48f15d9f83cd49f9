import { type Insertable, MysqlAdapter, type Selectable, type Updateable } from 'kysely';
import type { Executor } from '../../platform/db/database.ts';
import type {
  AnalysisInputsTable,
  AnalysisJobsTable,
  PredictionSource,
  PredictionsTable,
} from '../../platform/db/tables/analysis.ts';

export type JobRow = Selectable<AnalysisJobsTable>;
export type InputRow = Selectable<AnalysisInputsTable>;
export type PredictionRow = Selectable<PredictionsTable>;

export interface PredictionFilter {
  userId?: string;
  model?: string;
  from?: number;
  to?: number;
  inputSha256?: string;
  jobId?: string;
  source?: PredictionSource;
}

export class AnalysisRepository {
  constructor(private readonly db: Executor) {}

  withExecutor(db: Executor): AnalysisRepository {
    return new AnalysisRepository(db);
  }

  // ---- jobs --------------------------------------------------------------------------------

  async insertJob(row: Insertable<AnalysisJobsTable>): Promise<void> {
    await this.db.insertInto('analysis_jobs').values(row).execute();
  }

  findJob(id: string): Promise<JobRow | undefined> {
    return this.db.selectFrom('analysis_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async updateJob(id: string, patch: Updateable<AnalysisJobsTable>): Promise<void> {
    await this.db.updateTable('analysis_jobs').set(patch).where('id', '=', id).execute();
  }

  /** Moves a queued job to running; false when another runner took it first. */
  async claimJob(id: string, startedAt: number): Promise<boolean> {
    const r = await this.db
      .updateTable('analysis_jobs')
      .set({ status: 'running', started_at: startedAt })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async listJobs(f: {
    userId?: string;
    excludeSource?: PredictionSource;
    limit: number;
    offset: number;
  }): Promise<{ items: JobRow[]; total: number }> {
    let q = this.db.selectFrom('analysis_jobs');
    if (f.userId) q = q.where('user_id', '=', f.userId);
    if (f.excludeSource) q = q.where('source', '!=', f.excludeSource);
    const [items, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  /** Lab, API and CLI jobs left unfinished; attendance jobs are resumed by their capture queue. */
  listUnfinishedJobIds(): Promise<{ id: string; status: string }[]> {
    return this.db
      .selectFrom('analysis_jobs')
      .select(['id', 'status'])
      .where('status', 'in', ['queued', 'running'])
      .where('source', '!=', 'attendance')
      .orderBy('created_at')
      .execute();
  }

  // ---- inputs ------------------------------------------------------------------------------

  async insertInputs(rows: Insertable<AnalysisInputsTable>[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 100) {
      await this.db
        .insertInto('analysis_inputs')
        .values(rows.slice(i, i + 100))
        .execute();
    }
  }

  listInputs(jobId: string): Promise<InputRow[]> {
    return this.db.selectFrom('analysis_inputs').selectAll().where('job_id', '=', jobId).orderBy('position').execute();
  }

  findInput(jobId: string, id: string): Promise<InputRow | undefined> {
    return this.db
      .selectFrom('analysis_inputs')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async updateInput(id: string, patch: Updateable<AnalysisInputsTable>): Promise<void> {
    await this.db.updateTable('analysis_inputs').set(patch).where('id', '=', id).execute();
  }

  // ---- predictions (insert and read only: the ledger is never changed) ---------------------

  async insertPrediction(row: Insertable<PredictionsTable>): Promise<void> {
    await this.db.insertInto('predictions').values(row).execute();
  }

  /**
   * Writes the row unless one with its id is there already; true when it was written. The repeat
   * is skipped by the database rather than failing, so it neither aborts a PostgreSQL transaction
   * nor loses a race between two runs of the same work.
   */
  async insertPredictionIfAbsent(row: Insertable<PredictionsTable>): Promise<boolean> {
    const mysql = this.db.getExecutor().adapter instanceof MysqlAdapter;
    const r = await this.db
      .insertInto('predictions')
      .values(row)
      .$call((q) => (mysql ? q.ignore() : q.onConflict((oc) => oc.column('id').doNothing())))
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  findPrediction(id: string): Promise<PredictionRow | undefined> {
    return this.db.selectFrom('predictions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async countPredictionsOfJob(jobId: string): Promise<number> {
    const r = await this.db
      .selectFrom('predictions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('job_id', '=', jobId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  listPredictionsOfJob(jobId: string): Promise<PredictionRow[]> {
    return this.db
      .selectFrom('predictions')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  private filtered(f: PredictionFilter) {
    let q = this.db.selectFrom('predictions');
    if (f.userId) q = q.where('user_id', '=', f.userId);
    if (f.model) q = q.where('model', '=', f.model);
    if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
    if (f.to !== undefined) q = q.where('created_at', '<', f.to);
    if (f.inputSha256) q = q.where('input_sha256', '=', f.inputSha256);
    if (f.jobId) q = q.where('job_id', '=', f.jobId);
    if (f.source) q = q.where('source', '=', f.source);
    return q;
  }

  /** Newest first. */
  async listPredictions(
    f: PredictionFilter & { limit: number; offset: number },
  ): Promise<{ items: PredictionRow[]; total: number }> {
    const q = this.filtered(f);
    const [items, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  /** Oldest first, after a (created_at, id) cursor: for exports that stream any number of rows. */
  listPredictionsAfter(
    f: PredictionFilter,
    after: { createdAt: number; id: string } | undefined,
    limit: number,
  ): Promise<PredictionRow[]> {
    let q = this.filtered(f);
    if (after) {
      q = q.where((eb) =>
        eb.or([
          eb('created_at', '>', after.createdAt),
          eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
        ]),
      );
    }
    return q.selectAll().orderBy('created_at').orderBy('id').limit(limit).execute();
  }
}

export type { PredictionSource };
