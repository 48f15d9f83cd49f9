import { isUniqueViolation } from '../../platform/db/database.ts';
import type { AnalysisRepository, PredictionSource } from './analysis.repository.ts';
import type { ModelSpec } from './analysis.service.ts';

/**
 * The job of model runs another module drives itself (attendance analyses a capture frame by
 * frame, under the capture's id). Its predictions name it as their job, so the ledger's job links
 * and GET /analyses/:id read it like a lab job. The lab neither lists, resumes nor reruns it.
 */
export class ExternalJobs {
  constructor(private readonly repo: AnalysisRepository) {}

  /** Written once: a retried or taken-over run finds the row there and keeps it. */
  async open(j: {
    id: string;
    userId: string;
    source: PredictionSource;
    model: ModelSpec;
    parameters: Record<string, unknown>;
  }): Promise<void> {
    if (await this.repo.findJob(j.id)) return;
    const t = Date.now();
    try {
      await this.repo.insertJob({
        id: j.id,
        user_id: j.userId,
        source: j.source,
        model: j.model.name,
        model_version: j.model.version,
        weights_sha256: j.model.weightsSha256,
        parameters: JSON.stringify(j.parameters),
        status: 'running',
        total: 0,
        processed: 0,
        failed: 0,
        error: null,
        rerun_of: null,
        created_at: t,
        started_at: t,
        finished_at: null,
      });
    } catch (err) {
      // Another runner of the same work wrote it first.
      if (!isUniqueViolation(err)) throw err;
    }
  }

  /** Ends the job with the number of predictions it recorded; a job never opened is left alone. */
  async close(id: string, outcome: { status: 'done' | 'failed'; error?: string }): Promise<void> {
    const recorded = await this.repo.countPredictionsOfJob(id);
    await this.repo.updateJob(id, {
      status: outcome.status,
      error: outcome.error?.slice(0, 1000) ?? null,
      total: recorded,
      processed: recorded,
      finished_at: Date.now(),
    });
  }
}
