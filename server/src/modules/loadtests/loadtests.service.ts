import type { Db } from '../../platform/db/database.ts';
import { isUniqueViolation } from '../../platform/db/database.ts';
import type { Bus } from '../../platform/bus/bus.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { toIso } from '../../platform/time.ts';
import { type Actor, requireActor, requireRole, requireScope } from '../identity/actor.ts';
import type { LoadtestsRepository, RunRow, SampleTotalsRow, WorkerRow } from './loadtests.repository.ts';
import type { PostSamplesBody, RunDetailOut, RunOut, RunSummaryOut, WorkerSummaryIn } from './loadtests.schemas.ts';

/** A running run that has not posted for this long is shown as interrupted (its workers died). */
export const STALE_AFTER_MS = 30_000;

export const LOADTEST_SAMPLE_EVENT = 'loadtests.sample';
export const LOADTEST_FINISHED_EVENT = 'loadtests.finished';

export interface LoadtestSampleEvent {
  runId: string;
  workerId: string;
  samples: PostSamplesBody['samples'];
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const parseJson = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

/** The value below which `p` percent of the recorded latencies fall, from sorted [value, count] bins. */
export function percentileOfBins(
  bins: readonly (readonly [number, number])[],
  total: number,
  p: number,
): number | null {
  if (total === 0) return null;
  const want = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [v, n] of bins) {
    seen += n;
    if (seen >= want) return v;
  }
  return bins.length ? bins[bins.length - 1][0] : null;
}

/**
 * Adds up the summaries of a run's workers. Counts are summed; the rate is the total over the
 * span from the first start to the last finish (so staggered workers are not overstated).
 * Latency percentiles are exact when every worker sent its histogram (the bins are merged);
 * otherwise each is the highest worker value, which never understates a percentile.
 */
export function mergeWorkerSummaries(
  summaries: readonly WorkerSummaryIn[],
  bins: readonly (readonly [number, number])[] | undefined,
): RunSummaryOut | null {
  if (summaries.length === 0) return null;
  const sum = (f: (s: WorkerSummaryIn) => number) => summaries.reduce((a, s) => a + f(s), 0);
  const requests = sum((s) => s.requests);
  const grades = sum((s) => s.grades);
  const errors = sum((s) => s.errors);
  const start = Math.min(...summaries.map((s) => Date.parse(s.startedAt)));
  const end = Math.max(...summaries.map((s) => Date.parse(s.finishedAt)));
  const durationSec = Math.max(0.001, (end - start) / 1000);
  const errorsByKind: Record<string, number> = {};
  for (const s of summaries)
    for (const [k, v] of Object.entries(s.errorsByKind)) errorsByKind[k] = (errorsByKind[k] ?? 0) + v;
  const binTotal = bins?.reduce((a, [, n]) => a + n, 0) ?? 0;
  const exact = bins !== undefined && binTotal === requests && requests > 0;
  const maxOf = (k: keyof WorkerSummaryIn['latencyMs']) => {
    const vals = summaries.map((s) => s.latencyMs[k]).filter((v): v is number => v !== null);
    return vals.length ? Math.max(...vals) : null;
  };
  const fromBins = (p: number) => {
    const v = percentileOfBins(bins!, binTotal, p);
    return v === null ? null : round(v / 1000, 3);
  };
  const reported = summaries.map((s) => s.thresholdsPassed).filter((v): v is boolean => v !== undefined);
  return {
    requests,
    ok: sum((s) => s.ok),
    errors,
    grades,
    dropped: sum((s) => s.dropped),
    late: sum((s) => s.late),
    rps: round(requests / durationSec),
    gradesPerSec: round(grades / durationSec),
    errorRatePercent: requests ? round((errors / requests) * 100, 3) : 0,
    durationSec: round(durationSec),
    latencyMs: exact
      ? { p50: fromBins(50), p90: fromBins(90), p95: fromBins(95), p99: fromBins(99), max: maxOf('max') }
      : { p50: maxOf('p50'), p90: maxOf('p90'), p95: maxOf('p95'), p99: maxOf('p99'), max: maxOf('max') },
    latencyMerge: exact ? 'exact' : 'max',
    errorsByKind,
    split: { rest: sum((s) => s.split.rest), grpc: sum((s) => s.split.grpc) },
    workers: summaries.length,
    thresholdsPassed: reported.length ? reported.every(Boolean) : null,
    live: false,
  };
}

/** While a run is going, its figures come from the per-second samples received so far. */
function liveSummary(t: SampleTotalsRow, workers: number): RunSummaryOut {
  const durationSec = Math.max(1, t.last_second - t.first_second + 1);
  return {
    requests: t.requests,
    ok: t.ok,
    errors: t.errors,
    grades: t.grades,
    dropped: 0,
    late: 0,
    rps: round(t.requests / durationSec),
    gradesPerSec: round(t.grades / durationSec),
    errorRatePercent: t.requests ? round((t.errors / t.requests) * 100, 3) : 0,
    durationSec,
    latencyMs: { p50: t.p50_ms, p90: null, p95: t.p95_ms, p99: t.p99_ms, max: null },
    latencyMerge: 'per-second-max',
    errorsByKind: {},
    split: { rest: 0, grpc: 0 },
    workers,
    thresholdsPassed: null,
    live: true,
  };
}

/**
 * Load-test runs published by `aula load --publish`: any number of generator processes post
 * per-second samples under one run id, and their sum is the run. Publishing needs a token with
 * the loadtest:publish scope (or an admin session); reading needs an admin or teacher.
 */
export class LoadtestsService {
  constructor(
    private readonly repo: LoadtestsRepository,
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly now: () => number = Date.now,
  ) {}

  private authorizePublish(actor: Actor | null | undefined): Actor {
    const a = requireActor(actor);
    if (a.via === 'token') return requireScope(a, 'loadtest:publish');
    return requireRole(a, 'admin');
  }

  private authorizeRead(actor: Actor | null | undefined): Actor {
    const a = requireRole(actor, 'admin', 'teacher');
    if (a.via === 'token') return requireScope(a, 'loadtest:publish');
    return a;
  }

  private async ensureRun(
    runId: string,
    body: Pick<PostSamplesBody, 'name' | 'mode' | 'config'>,
    actor: Actor,
  ): Promise<RunRow> {
    const found = await this.repo.findRunByRunId(runId);
    if (found) return found;
    const t = this.now();
    try {
      await this.repo.insertRun({
        id: newId(t),
        run_id: runId,
        name: body.name?.trim() || runId,
        mode: body.mode ?? 'rest',
        config: JSON.stringify(body.config ?? {}).slice(0, 60_000),
        status: 'running',
        started_at: t,
        last_sample_at: t,
        finished_at: null,
        summary: null,
        created_by: actor.via === 'system' ? null : actor.id,
        created_at: t,
      });
    } catch (err) {
      // Several workers of one run start together; the first one creates it.
      if (!isUniqueViolation(err)) throw err;
    }
    return (await this.repo.findRunByRunId(runId))!;
  }

  private async ensureWorker(run: RunRow, workerId: string): Promise<WorkerRow> {
    const found = await this.repo.findWorker(run.id, workerId);
    if (found) return found;
    try {
      await this.repo.insertWorker({
        run_id: run.id,
        worker_id: workerId,
        started_at: this.now(),
        finished_at: null,
        summary: null,
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    return (await this.repo.findWorker(run.id, workerId))!;
  }

  /**
   * Stores a worker's per-second samples. Posting a second again replaces it, so a retried post
   * never counts twice. An empty list registers the worker (and checks its token) up front.
   */
  async recordSamples(
    actor: Actor | null | undefined,
    runId: string,
    body: PostSamplesBody,
  ): Promise<{ runId: string; accepted: number }> {
    const a = this.authorizePublish(actor);
    const seconds = body.samples.map((s) => s.second);
    if (new Set(seconds).size !== seconds.length) {
      throw new AppError('duplicate_seconds', 400, 'Each second may appear once per post');
    }
    for (const s of body.samples) {
      if (s.ok + s.errors !== s.requests) {
        throw new AppError('inconsistent_sample', 400, `Second ${s.second}: ok + errors must equal requests`);
      }
    }
    const run = await this.ensureRun(runId, body, a);
    const worker = await this.ensureWorker(run, body.workerId);
    await this.repo.upsertSamples(
      body.samples.map((s) => ({
        run_id: run.id,
        worker_id: body.workerId,
        at_second: s.second,
        requests: s.requests,
        ok: s.ok,
        errors: s.errors,
        grades: s.grades,
        p50_ms: s.p50,
        p95_ms: s.p95,
        p99_ms: s.p99,
      })),
    );
    // A new worker joining a finished run reopens it.
    const reopen = run.status === 'finished' && worker.finished_at === null;
    await this.repo.updateRun(run.id, {
      last_sample_at: this.now(),
      ...(reopen ? { status: 'running' as const, finished_at: null } : {}),
    });
    if (body.samples.length) {
      const event: LoadtestSampleEvent = { runId, workerId: body.workerId, samples: body.samples };
      this.bus.publish(LOADTEST_SAMPLE_EVENT, event);
    }
    return { runId, accepted: body.samples.length };
  }

  /** A worker is done: stores its summary and histogram, and re-merges the run's summary. */
  async finishWorker(
    actor: Actor | null | undefined,
    runId: string,
    workerId: string,
    summary: WorkerSummaryIn,
  ): Promise<RunOut> {
    this.authorizePublish(actor);
    if (summary.ok + summary.errors !== summary.requests) {
      throw new AppError('inconsistent_summary', 400, 'ok + errors must equal requests');
    }
    if (Date.parse(summary.finishedAt) < Date.parse(summary.startedAt)) {
      throw new AppError('inconsistent_summary', 400, 'finishedAt is before startedAt');
    }
    const run = await this.repo.findRunByRunId(runId);
    if (!run) throw notFound('Load-test run');
    await this.ensureWorker(run, workerId);
    const t = this.now();
    const { histogram, ...rest } = summary;
    await this.db.kysely.transaction().execute(async (tx) => {
      const repo = this.repo.withExecutor(tx);
      // Updating the run row first serialises concurrent finishes of one run, so the last one to
      // commit merges every worker.
      await repo.updateRun(run.id, { last_sample_at: t });
      await repo.updateWorker(run.id, workerId, { finished_at: t, summary: JSON.stringify(rest) });
      await repo.replaceBins(
        run.id,
        workerId,
        (histogram ?? []).map(([value, hits]) => ({ run_id: run.id, worker_id: workerId, value_us: value, hits })),
      );
      const workers = await repo.listWorkers(run.id);
      const finished = workers.filter((w) => w.finished_at !== null && w.summary !== null);
      const summaries = finished.map((w) => parseJson<WorkerSummaryIn>(w.summary)!);
      const binWorkers = await repo.countBinWorkers(run.id);
      const bins =
        binWorkers === finished.length
          ? await repo.mergedBins(
              run.id,
              finished.map((w) => w.worker_id),
            )
          : undefined;
      const merged = mergeWorkerSummaries(summaries, bins);
      const allDone = finished.length === workers.length;
      await repo.updateRun(run.id, {
        summary: merged ? JSON.stringify(merged) : null,
        status: allDone ? 'finished' : 'running',
        finished_at: allDone ? t : null,
      });
    });
    this.bus.publish(LOADTEST_FINISHED_EVENT, { runId, workerId });
    return this.getRunOut(runId);
  }

  private toRunOut(run: RunRow, workers: WorkerRow[], totals: SampleTotalsRow | undefined): RunOut {
    const finishedWorkers = workers.filter((w) => w.finished_at !== null).length;
    let status: RunOut['status'] = run.status;
    if (status === 'running' && this.now() - Number(run.last_sample_at) > STALE_AFTER_MS) status = 'interrupted';
    const stored = parseJson<RunSummaryOut>(run.summary);
    const summary = run.status === 'finished' ? stored : totals ? liveSummary(totals, workers.length) : stored;
    return {
      runId: run.run_id,
      name: run.name,
      mode: run.mode,
      status,
      startedAt: toIso(run.started_at)!,
      lastSampleAt: toIso(run.last_sample_at)!,
      finishedAt: toIso(run.finished_at),
      workers: workers.length,
      workersFinished: finishedWorkers,
      summary,
    };
  }

  private async getRunOut(runId: string): Promise<RunOut> {
    const run = await this.repo.findRunByRunId(runId);
    if (!run) throw notFound('Load-test run');
    const workers = await this.repo.listWorkers(run.id);
    const [totals] = run.status === 'finished' ? [] : await this.repo.sampleTotals([run.id]);
    return this.toRunOut(run, workers, totals);
  }

  async listRuns(actor: Actor | null | undefined, limit: number, offset: number) {
    this.authorizeRead(actor);
    const { items, total } = await this.repo.listRuns(limit, offset);
    const ids = items.map((r) => r.id);
    const [workers, totals] = await Promise.all([
      this.repo.listWorkersOfRuns(ids),
      this.repo.sampleTotals(items.filter((r) => r.status !== 'finished').map((r) => r.id)),
    ]);
    return {
      items: items.map((r) =>
        this.toRunOut(
          r,
          workers.filter((w) => w.run_id === r.id),
          totals.find((t) => t.run_id === r.id),
        ),
      ),
      total,
      limit,
      offset,
    };
  }

  async getRun(actor: Actor | null | undefined, runId: string, since?: number): Promise<RunDetailOut> {
    this.authorizeRead(actor);
    const run = await this.repo.findRunByRunId(runId);
    if (!run) throw notFound('Load-test run');
    const [workers, series, totals] = await Promise.all([
      this.repo.listWorkers(run.id),
      this.repo.series(run.id, since),
      run.status === 'finished' ? Promise.resolve([]) : this.repo.sampleTotals([run.id]),
    ]);
    const origin = Math.floor(Number(run.started_at) / 1000);
    return {
      ...this.toRunOut(run, workers, totals[0]),
      config: parseJson<Record<string, unknown>>(run.config) ?? {},
      workerList: workers.map((w) => ({
        workerId: w.worker_id,
        startedAt: toIso(w.started_at)!,
        finishedAt: toIso(w.finished_at),
        summary: parseJson<unknown>(w.summary),
      })),
      series: series.map((p) => ({
        second: p.at_second,
        t: p.at_second - origin,
        requests: p.requests,
        ok: p.ok,
        errors: p.errors,
        grades: p.grades,
        p50: p.p50_ms,
        p95: p.p95_ms,
        p99: p.p99_ms,
        workers: p.workers,
      })),
    };
  }

  async deleteRun(actor: Actor | null | undefined, runId: string): Promise<void> {
    requireRole(actor, 'admin');
    const run = await this.repo.findRunByRunId(runId);
    if (!run) throw notFound('Load-test run');
    await this.repo.deleteRun(run.id);
  }
}
