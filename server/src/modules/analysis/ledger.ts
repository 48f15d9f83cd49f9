import { stringify } from 'csv-stringify/sync';
import type { Executor } from '../../platform/db/database.ts';
import { forbidden, notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { toIso } from '../../platform/time.ts';
import { type Actor, isAdmin } from '../identity/actor.ts';
import type { AnalysisRepository, PredictionFilter, PredictionRow, PredictionSource } from './analysis.repository.ts';
import type { PredictionOut } from './analysis.schemas.ts';

export interface NewPrediction {
  jobId: string | null;
  userId: string;
  source: PredictionSource;
  model: string;
  modelVersion: string;
  weightsSha256: string | null;
  /** The validated parameters, defaults filled in, exactly as the model received them. */
  parameters: Record<string, unknown>;
  inputBlobId: string | null;
  inputSha256: string;
  output: unknown;
  durationMs: number;
}

export interface RecordOptions {
  /**
   * The row's id, for a writer that may run again (a retried attendance job): the same id twice
   * is refused by the primary key, so a prediction is written at most once. New by default.
   */
  id?: string;
  /**
   * With `id`: a row already there under that id is kept and returned instead of refused, for a
   * writer whose repeat is expected (a retried album job) and should carry on with what was stored.
   */
  ifAbsent?: boolean;
}

export function toPredictionOut(p: PredictionRow): PredictionOut {
  return {
    id: p.id,
    jobId: p.job_id,
    userId: p.user_id,
    source: p.source,
    createdAt: toIso(p.created_at)!,
    model: p.model,
    modelVersion: p.model_version,
    weightsSha256: p.weights_sha256,
    parameters: JSON.parse(p.parameters) as Record<string, unknown>,
    inputBlobId: p.input_blob_id,
    inputSha256: p.input_sha256,
    output: JSON.parse(p.output) as unknown,
    durationMs: Number(p.duration_ms),
  };
}

const CSV_COLUMNS = [
  'id',
  'job_id',
  'created_at',
  'user_id',
  'source',
  'model',
  'model_version',
  'weights_sha256',
  'parameters',
  'input_blob_id',
  'input_sha256',
  'duration_ms',
  'output',
] as const;

const EXPORT_BATCH = 500;

/**
 * The prediction ledger: every prediction of every model, whoever asked and however, is written
 * here once (`record`) and can then only be read. Users read their own rows; admins read all.
 */
export class PredictionLedger {
  constructor(private readonly repo: AnalysisRepository) {}

  /** The same ledger writing through `db`, so a row can be committed with the caller's own rows. */
  withExecutor(db: Executor): PredictionLedger {
    return new PredictionLedger(this.repo.withExecutor(db));
  }

  async record(p: NewPrediction, opts: RecordOptions = {}): Promise<PredictionRow> {
    const t = Date.now();
    const row = {
      id: opts.id ?? newId(t),
      job_id: p.jobId,
      user_id: p.userId,
      source: p.source,
      created_at: t,
      model: p.model,
      model_version: p.modelVersion,
      weights_sha256: p.weightsSha256,
      parameters: JSON.stringify(p.parameters),
      input_blob_id: p.inputBlobId,
      input_sha256: p.inputSha256,
      output: JSON.stringify(p.output ?? null),
      duration_ms: Math.round(p.durationMs * 10) / 10,
    };
    if (opts.id && opts.ifAbsent) {
      if (await this.repo.insertPredictionIfAbsent(row)) return row;
      const stored = await this.repo.findPrediction(opts.id);
      if (!stored) throw new Error(`prediction ${opts.id} was neither written nor found`);
      return stored;
    }
    await this.repo.insertPrediction(row);
    return row;
  }

  /** The row with this id, whoever it belongs to: for writers checking their own earlier work. */
  find(id: string): Promise<PredictionRow | undefined> {
    return this.repo.findPrediction(id);
  }

  /** Non-admins are held to their own rows, whatever filter they ask for. */
  private scope(actor: Actor, f: PredictionFilter): PredictionFilter {
    if (isAdmin(actor)) return f;
    if (f.userId && f.userId !== actor.id) throw forbidden('You can only see your own predictions');
    return { ...f, userId: actor.id };
  }

  async list(actor: Actor, f: PredictionFilter & { limit: number; offset: number }) {
    return this.repo.listPredictions({ ...this.scope(actor, f), limit: f.limit, offset: f.offset });
  }

  async get(actor: Actor, id: string): Promise<PredictionRow> {
    const p = await this.repo.findPrediction(id);
    // Someone else's row is reported as missing: ids reveal nothing.
    if (!p || (!isAdmin(actor) && p.user_id !== actor.id)) throw notFound('Prediction');
    return p;
  }

  listOfJob(jobId: string): Promise<PredictionRow[]> {
    return this.repo.listPredictionsOfJob(jobId);
  }

  /** Every matching row, oldest first, read in batches so any number of rows streams in bounded memory. */
  private async *rows(filter: PredictionFilter): AsyncGenerator<PredictionRow> {
    let after: { createdAt: number; id: string } | undefined;
    for (;;) {
      const batch = await this.repo.listPredictionsAfter(filter, after, EXPORT_BATCH);
      for (const r of batch) yield r;
      if (batch.length < EXPORT_BATCH) return;
      const last = batch[batch.length - 1];
      after = { createdAt: Number(last.created_at), id: last.id };
    }
  }

  /** CSV of the matching rows. Authorization is checked now, before the first byte is sent. */
  exportCsv(actor: Actor, f: PredictionFilter): AsyncGenerator<string> {
    return this.csv(this.scope(actor, f));
  }

  /** A JSON array of the matching rows. Authorization is checked now, before the first byte is sent. */
  exportJson(actor: Actor, f: PredictionFilter): AsyncGenerator<string> {
    return this.json(this.scope(actor, f));
  }

  private async *csv(filter: PredictionFilter): AsyncGenerator<string> {
    const rows = this.rows(filter);
    yield stringify([[...CSV_COLUMNS]]);
    for await (const r of rows) {
      yield stringify([
        [
          r.id,
          r.job_id ?? '',
          toIso(r.created_at),
          r.user_id,
          r.source,
          r.model,
          r.model_version,
          r.weights_sha256 ?? '',
          r.parameters,
          r.input_blob_id ?? '',
          r.input_sha256,
          Number(r.duration_ms),
          r.output,
        ],
      ]);
    }
  }

  private async *json(filter: PredictionFilter): AsyncGenerator<string> {
    const rows = this.rows(filter);
    yield '[';
    let first = true;
    for await (const r of rows) {
      yield `${first ? '\n' : ',\n'}${JSON.stringify(toPredictionOut(r))}`;
      first = false;
    }
    yield first ? ']\n' : '\n]\n';
  }
}
