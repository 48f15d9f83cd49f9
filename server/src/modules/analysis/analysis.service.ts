import { createHash } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { UploadedFile } from '../../http/uploads.ts';
import type { BlobStore } from '../../platform/blobs/index.ts';
import type { Bus } from '../../platform/bus/bus.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { probeImage } from '../../platform/images.ts';
import type { Logger } from '../../platform/logger.ts';
import { toIso } from '../../platform/time.ts';
import { REALTIME_CHANNEL } from '../../realtime/sockets.ts';
import type { Vision } from '../../vision/index.ts';
import type { AcademicsService } from '../academics/academics.service.ts';
import type { FacesService } from '../faces/faces.service.ts';
import { type Actor, isAdmin, requireScope } from '../identity/actor.ts';
import type { AnalysisRepository, InputRow, JobRow, PredictionRow, PredictionSource } from './analysis.repository.ts';
import type { JobOut } from './analysis.schemas.ts';
import type { BackgroundTasks } from './background.ts';
import { ExternalJobs } from './external-jobs.ts';
import type { NewPrediction, PredictionLedger } from './ledger.ts';
import { extractZip, type ZipMember } from './zip.ts';

export const ANALYSIS_TASK = 'analysis-job';
/** Socket.IO event with the job's state, sent to room `job:<id>` as it progresses. */
export const PROGRESS_EVENT = 'analysis.progress';

export function toJobOut(j: JobRow): JobOut {
  return {
    id: j.id,
    userId: j.user_id,
    source: j.source,
    model: j.model,
    modelVersion: j.model_version,
    weightsSha256: j.weights_sha256,
    parameters: JSON.parse(j.parameters) as Record<string, unknown>,
    status: j.status,
    total: Number(j.total),
    processed: Number(j.processed),
    failed: Number(j.failed),
    error: j.error,
    rerunOf: j.rerun_of,
    createdAt: toIso(j.created_at)!,
    startedAt: toIso(j.started_at),
    finishedAt: toIso(j.finished_at),
  };
}

export function toInputOut(i: InputRow) {
  return {
    id: i.id,
    position: Number(i.position),
    filename: i.filename,
    sha256: i.sha256,
    size: Number(i.size),
    status: i.status,
    errorCode: i.error_code,
    error: i.error,
    predictionId: i.prediction_id,
    hasImage: i.blob_id !== null,
  };
}

export interface ModelSpec {
  name: string;
  version: string;
  weightsSha256: string | null;
}

export interface ModelRunRequest {
  userId: string;
  source: PredictionSource;
  jobId: string | null;
  model: ModelSpec;
  /** Already validated against the model's schema. */
  parameters: Record<string, unknown>;
  image: Buffer;
  inputBlobId: string | null;
  inputSha256?: string;
  /**
   * A fixed ledger id for work that may run again (a retried album job): a prediction already
   * recorded under it is returned as it was, without running the model again.
   */
  predictionId?: string;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const isZip = (f: UploadedFile) =>
  f.data.length >= 4 &&
  f.data[0] === 0x50 &&
  f.data[1] === 0x4b &&
  (f.data[2] === 3 || f.data[2] === 5) &&
  (f.data[3] === 4 || f.data[3] === 6);

/** Control characters are dropped so a file name never breaks a log line or a CSV export. */
const safeName = (name: string) =>
  [...name]
    .filter((c) => c.charCodeAt(0) >= 32)
    .join('')
    .slice(-255) || 'file';

interface Deps {
  repo: AnalysisRepository;
  ledger: PredictionLedger;
  vision: Vision;
  blobs: BlobStore;
  bus: Bus;
  faces: FacesService;
  academics: AcademicsService;
  config: Config;
  tasks: BackgroundTasks;
  logger?: Logger;
}

/**
 * The analysis lab: jobs that run one model with one set of parameters over uploaded images (or
 * the images of one zip), with live progress and per-file errors, and "run again". Every model
 * run anywhere in the product goes through `runAndRecord`, which writes the prediction ledger.
 */
export class AnalysisService {
  /** Jobs whose model runs another module drives (attendance), recorded in the same ledger. */
  readonly externalJobs: ExternalJobs;

  constructor(private readonly d: Deps) {
    this.externalJobs = new ExternalJobs(d.repo);
    d.tasks.register(
      ANALYSIS_TASK,
      (id) => this.processJob(id),
      (id) => this.failJob(id),
    );
  }

  get ledger(): PredictionLedger {
    return this.d.ledger;
  }

  // ---- models ------------------------------------------------------------------------------

  /** The model as it would run now: name, version and weight hash. Unknown names are a 404. */
  async modelSpec(name: string): Promise<ModelSpec> {
    const def = this.d.vision.registry.get(name);
    return {
      name: def.name,
      version: def.version,
      weightsSha256: await this.d.vision.registry.weightsSha256(def.name),
    };
  }

  parseParameters(model: string, raw: Record<string, unknown>): Record<string, unknown> {
    return this.d.vision.registry.parseParams(model, raw) as Record<string, unknown>;
  }

  /** Face identification names a gallery; who may use which is decided here. */
  private async authorizeGallery(actor: Actor, model: string, params: Record<string, unknown>): Promise<void> {
    if (model !== 'face-identification') return;
    const gallery = String(params.gallery);
    if (gallery === 'login') {
      // Everyone who consented to face sign-in: identifying strangers against it is an admin's call.
      if (actor.role !== 'admin') {
        throw new AppError(
          'gallery_forbidden',
          403,
          'Only administrators may identify faces against the "login" gallery; use "offering:<id>" for a course you teach',
        );
      }
      return;
    }
    const m = /^offering:([0-9a-hjkmnp-tv-z]{26})$/.exec(gallery);
    if (!m) {
      throw new AppError(
        'unknown_gallery',
        400,
        `No gallery named ${gallery}; use "login" (everyone who allows face recognition) or "offering:<id>"`,
        {
          gallery,
        },
      );
    }
    await this.d.academics.assertCanManageOffering(actor, m[1]);
  }

  /** Builds (or refreshes) the gallery a face-identification run needs, from SQL. */
  private async prepareGallery(model: string, params: Record<string, unknown>): Promise<void> {
    if (model !== 'face-identification') return;
    const gallery = String(params.gallery);
    if (gallery === 'login') {
      await this.d.faces.galleries.login(() => this.d.faces.syncProfileTemplates());
      return;
    }
    const offeringId = gallery.slice('offering:'.length);
    const students = await this.d.academics.listEnrolledStudents(offeringId);
    await this.d.faces.galleries.forUsers(
      gallery,
      students.map((s) => s.student_id),
    );
  }

  /** Runs a model on one image and writes the prediction to the ledger. */
  async runAndRecord(r: ModelRunRequest): Promise<{ prediction: PredictionRow; output: unknown }> {
    const done = r.predictionId ? await this.d.ledger.find(r.predictionId) : undefined;
    if (done) return { prediction: done, output: JSON.parse(done.output) as unknown };
    await this.prepareGallery(r.model.name, r.parameters);
    const t0 = performance.now();
    const raw = await this.d.vision.registry.run(this.d.vision.engine, r.model.name, r.image, r.parameters);
    const durationMs = performance.now() - t0;
    // Stored and returned in the same JSON form, so a result read back equals the one computed.
    const output = JSON.parse(JSON.stringify(raw ?? null)) as unknown;
    const record: NewPrediction = {
      jobId: r.jobId,
      userId: r.userId,
      source: r.source,
      model: r.model.name,
      modelVersion: r.model.version,
      weightsSha256: r.model.weightsSha256,
      parameters: r.parameters,
      inputBlobId: r.inputBlobId,
      inputSha256: r.inputSha256 ?? sha256(r.image),
      output,
      durationMs,
    };
    if (!r.predictionId) return { prediction: await this.d.ledger.record(record), output };
    // Another run of the same work may have recorded it meanwhile: its row and output stand.
    const prediction = await this.d.ledger.record(record, { id: r.predictionId, ifAbsent: true });
    return { prediction, output: JSON.parse(prediction.output) as unknown };
  }

  /** One image, answered at once (the synchronous API). */
  async predict(
    actor: Actor,
    modelName: string,
    rawParams: Record<string, unknown>,
    file: UploadedFile,
  ): Promise<PredictionRow> {
    requireScope(actor, 'analysis:run');
    const model = await this.modelSpec(modelName);
    const parameters = this.parseParameters(model.name, rawParams);
    await this.authorizeGallery(actor, model.name, parameters);
    const info = await probeImage(file.data, this.d.config.imageMaxPixels);
    const blob = await this.d.blobs.put(file.data, { contentType: `image/${info.format}` });
    const { prediction } = await this.runAndRecord({
      userId: actor.id,
      source: actor.via === 'token' ? 'api' : 'lab',
      jobId: null,
      model,
      parameters,
      image: file.data,
      inputBlobId: blob.id,
      inputSha256: blob.sha256,
    });
    return prediction;
  }

  // ---- jobs --------------------------------------------------------------------------------

  /** The files of a request as job inputs: one zip is unpacked (with its limits); each file is checked. */
  private async intake(files: UploadedFile[]): Promise<ZipMember[]> {
    const zips = files.filter(isZip);
    if (zips.length > 0 && files.length > 1) {
      throw new AppError('zip_must_be_alone', 400, 'Send either images or one zip archive, not both');
    }
    const { zip, uploadLimitBytes } = this.d.config;
    const members: ZipMember[] =
      zips.length === 1
        ? await extractZip(zips[0].data, { ...zip, maxEntryBytes: uploadLimitBytes })
        : files.map((f) => ({ name: f.filename || 'file', size: f.data.length, data: f.data }));
    if (members.length === 0) throw new AppError('no_inputs', 400, 'The archive holds no files');
    if (members.length > zip.maxEntries) {
      throw new AppError('too_many_files', 413, `At most ${zip.maxEntries} images per analysis`);
    }
    return members;
  }

  async createJob(
    actor: Actor,
    input: { model: string; parameters: Record<string, unknown>; files: UploadedFile[]; source?: PredictionSource },
  ): Promise<JobRow> {
    requireScope(actor, 'analysis:run');
    // Model and parameters first: a bad request costs no storage.
    const model = await this.modelSpec(input.model);
    const parameters = this.parseParameters(model.name, input.parameters);
    await this.authorizeGallery(actor, model.name, parameters);
    const members = await this.intake(input.files);

    const t = Date.now();
    const jobId = newId(t);
    const stored: string[] = [];
    const inputs = [];
    try {
      for (const [position, m] of members.entries()) {
        const base = {
          id: newId(t),
          job_id: jobId,
          position,
          filename: safeName(m.name),
          size: m.size,
          prediction_id: null,
        };
        if (!m.data) {
          inputs.push({
            ...base,
            blob_id: null,
            sha256: null,
            status: 'failed' as const,
            error_code: m.error!.code,
            error: m.error!.message,
          });
          continue;
        }
        try {
          // Header only: non-images, empty files and pixel bombs become per-file errors here.
          const info = await probeImage(m.data, this.d.config.imageMaxPixels);
          const blob = await this.d.blobs.put(m.data, { contentType: `image/${info.format}` });
          stored.push(blob.id);
          inputs.push({
            ...base,
            blob_id: blob.id,
            sha256: blob.sha256,
            status: 'pending' as const,
            error_code: null,
            error: null,
          });
        } catch (err) {
          if (!(err instanceof AppError) || err.status >= 500) throw err;
          inputs.push({
            ...base,
            blob_id: null,
            sha256: sha256(m.data),
            status: 'failed' as const,
            error_code: err.code,
            error: err.message,
          });
        }
      }
      const refused = inputs.filter((i) => i.status === 'failed').length;
      await this.d.repo.insertJob({
        id: jobId,
        user_id: actor.id,
        source: input.source ?? (actor.via === 'token' ? 'api' : 'lab'),
        model: model.name,
        model_version: model.version,
        weights_sha256: model.weightsSha256,
        parameters: JSON.stringify(parameters),
        status: 'queued',
        total: inputs.length,
        processed: refused,
        failed: refused,
        error: null,
        rerun_of: null,
        created_at: t,
        started_at: null,
        finished_at: null,
      });
      await this.d.repo.insertInputs(inputs);
    } catch (err) {
      for (const id of stored) await this.d.blobs.delete(id).catch(() => {});
      throw err;
    }
    await this.d.tasks.enqueue(ANALYSIS_TASK, jobId);
    return (await this.d.repo.findJob(jobId))!;
  }

  /** "Run again": the same model version, weights and parameters over the same inputs. */
  async rerun(actor: Actor, id: string): Promise<JobRow> {
    requireScope(actor, 'analysis:run');
    const old = await this.getJobRow(actor, id);
    if (old.source === 'attendance') {
      throw new AppError(
        'not_repeatable',
        409,
        'An attendance analysis follows its capture frame by frame; upload the capture again to repeat it',
      );
    }
    const model = await this.modelSpec(old.model);
    if (model.version !== old.model_version) {
      throw new AppError(
        'model_version_changed',
        409,
        `${old.model} is now version ${model.version}; this analysis used ${old.model_version} and cannot be repeated exactly`,
      );
    }
    if (old.weights_sha256 && model.weightsSha256 && old.weights_sha256 !== model.weightsSha256) {
      throw new AppError(
        'model_weights_changed',
        409,
        `The weights of ${old.model} changed since this analysis; it cannot be repeated exactly`,
      );
    }
    const parameters = JSON.parse(old.parameters) as Record<string, unknown>;
    await this.authorizeGallery(actor, model.name, parameters);
    const usable = (await this.d.repo.listInputs(id)).filter((i) => i.blob_id !== null);
    if (usable.length === 0)
      throw new AppError('no_inputs', 409, 'This analysis has no stored images to analyse again');
    const t = Date.now();
    const jobId = newId(t);
    await this.d.repo.insertJob({
      id: jobId,
      user_id: actor.id,
      source: old.source,
      model: model.name,
      model_version: model.version,
      weights_sha256: model.weightsSha256,
      parameters: old.parameters,
      status: 'queued',
      total: usable.length,
      processed: 0,
      failed: 0,
      error: null,
      rerun_of: old.id,
      created_at: t,
      started_at: null,
      finished_at: null,
    });
    await this.d.repo.insertInputs(
      usable.map((i, position) => ({
        id: newId(t),
        job_id: jobId,
        position,
        filename: i.filename,
        blob_id: i.blob_id,
        sha256: i.sha256,
        size: i.size,
        status: 'pending' as const,
        error_code: null,
        error: null,
        prediction_id: null,
      })),
    );
    await this.d.tasks.enqueue(ANALYSIS_TASK, jobId);
    return (await this.d.repo.findJob(jobId))!;
  }

  private publish(job: JobRow): void {
    this.d.bus.publish(REALTIME_CHANNEL, { room: `job:${job.id}`, event: PROGRESS_EVENT, payload: toJobOut(job) });
  }

  /** Runs a job's pending inputs; safe to call again after a crash (done inputs are kept). */
  async processJob(id: string): Promise<void> {
    const { repo, blobs } = this.d;
    let job = await repo.findJob(id);
    if (!job || job.source === 'attendance') return;
    if (job.status === 'queued') {
      if (!(await repo.claimJob(id, Date.now()))) return;
    } else if (job.status !== 'running') {
      return;
    }
    const finish = async (patch: { status: 'done' | 'failed'; error?: string | null }) => {
      await repo.updateJob(id, { status: patch.status, error: patch.error ?? null, finished_at: Date.now() });
      this.publish((await repo.findJob(id))!);
    };
    const parameters = JSON.parse(job.parameters) as Record<string, unknown>;
    let model: ModelSpec;
    try {
      model = await this.modelSpec(job.model);
      if (model.version !== job.model_version) {
        throw new AppError(
          'model_version_changed',
          409,
          `${job.model} changed to version ${model.version} before the job ran`,
        );
      }
      await this.prepareGallery(model.name, parameters);
    } catch (err) {
      await finish({
        status: 'failed',
        error: err instanceof AppError ? err.message : 'The model could not be prepared',
      });
      if (!(err instanceof AppError)) this.d.logger?.error({ err, jobId: id }, 'analysis job failed to start');
      return;
    }
    const inputs = await repo.listInputs(id);
    let processed = inputs.filter((i) => i.status !== 'pending').length;
    let failed = inputs.filter((i) => i.status === 'failed').length;
    job = (await repo.findJob(id))!;
    this.publish(job);
    for (const input of inputs) {
      if (input.status !== 'pending') continue;
      try {
        const image = await blobs.getBuffer(input.blob_id!);
        const { prediction } = await this.runAndRecord({
          userId: job.user_id,
          source: job.source,
          jobId: id,
          model,
          parameters,
          image,
          inputBlobId: input.blob_id,
          inputSha256: input.sha256 ?? undefined,
        });
        await repo.updateInput(input.id, { status: 'done', prediction_id: prediction.id });
      } catch (err) {
        // One bad image fails alone; the rest of the batch goes on.
        failed++;
        const known = err instanceof AppError;
        if (!known || err.status >= 500)
          this.d.logger?.warn({ err, jobId: id, inputId: input.id }, 'analysis of one input failed');
        await repo.updateInput(input.id, {
          status: 'failed',
          error_code: known ? err.code : 'analysis_failed',
          error: (known ? err.message : 'The model failed on this image').slice(0, 1000),
        });
      }
      processed++;
      await repo.updateJob(id, { processed, failed });
      this.publish((await repo.findJob(id))!);
    }
    const allFailed = inputs.length > 0 && failed === inputs.length;
    await finish(
      allFailed
        ? { status: 'failed', error: 'No image could be analysed; see the per-file errors' }
        : { status: 'done' },
    );
  }

  /** Jobs left queued or running by a stopped process are queued again. */
  async resume(): Promise<number> {
    const unfinished = await this.d.repo.listUnfinishedJobIds();
    for (const j of unfinished) await this.d.tasks.enqueue(ANALYSIS_TASK, j.id);
    return unfinished.length;
  }

  /** A job whose task failed for good (the queue gave up on it) is marked failed, not left running. */
  private async failJob(id: string): Promise<void> {
    const job = await this.d.repo.findJob(id);
    if (!job || job.status === 'done' || job.status === 'failed') return;
    await this.d.repo.updateJob(id, {
      status: 'failed',
      error: 'The analysis could not be completed',
      finished_at: Date.now(),
    });
    this.publish((await this.d.repo.findJob(id))!);
  }

  private async getJobRow(actor: Actor, id: string): Promise<JobRow> {
    const job = await this.d.repo.findJob(id);
    if (!job || (!isAdmin(actor) && job.user_id !== actor.id)) throw notFound('Analysis');
    return job;
  }

  async getJob(actor: Actor, id: string): Promise<{ job: JobRow; inputs: InputRow[]; predictions: PredictionRow[] }> {
    const job = await this.getJobRow(actor, id);
    const [inputs, predictions] = await Promise.all([this.d.repo.listInputs(id), this.d.ledger.listOfJob(id)]);
    return { job, inputs, predictions };
  }

  /** Whether the actor may watch the job's progress room. */
  async canWatch(actor: Actor, id: string): Promise<boolean> {
    const job = await this.d.repo.findJob(id);
    return !!job && (isAdmin(actor) || job.user_id === actor.id);
  }

  async snapshot(id: string): Promise<JobOut | null> {
    const job = await this.d.repo.findJob(id);
    return job ? toJobOut(job) : null;
  }

  /** The lab's list. Attendance jobs (one per capture, every live frame included) stay out of it. */
  listJobs(actor: Actor, p: { limit: number; offset: number }) {
    return this.d.repo.listJobs({
      ...(isAdmin(actor) ? {} : { userId: actor.id }),
      excludeSource: 'attendance',
      ...p,
    });
  }

  async inputImage(actor: Actor, jobId: string, inputId: string): Promise<{ blobId: string; contentType: string }> {
    await this.getJobRow(actor, jobId);
    const input = await this.d.repo.findInput(jobId, inputId);
    if (!input?.blob_id) throw notFound('Input image');
    const head = await this.d.blobs.head(input.blob_id);
    if (!head) throw notFound('Input image');
    return { blobId: input.blob_id, contentType: head.contentType };
  }
}
