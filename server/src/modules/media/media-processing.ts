import type { Config } from '../../config.ts';
import type { BlobStore } from '../../platform/blobs/index.ts';
import type { Db } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { idFromKey, newId } from '../../platform/ids.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Box, FaceMatch } from '../../vision/engine.ts';
import { looksLikeDocument, type OcrLangSet, type OcrResult } from '../../vision/ocr.ts';
import type { AnalysisService } from '../analysis/analysis.service.ts';
import { OCR_MODEL } from '../analysis/ocr-model.ts';
import type { ImageRow, MediaRepository } from './media.repository.ts';

export const MEDIA_TASK = 'media-process';
export const LABEL_MODEL = 'objects';
export const FACE_MODEL = 'face-identification';
/** Everyone who allows face recognition: the people an album can name. */
export const PEOPLE_GALLERY = 'login';

interface ObjectsOutput {
  objects: { label: string; score: number; box: Box }[];
}
interface FacesOutput {
  faces: { box: Box; score: number; match: FaceMatch }[];
}

function iou(a: Box, b: Box): number {
  const x1 = Math.max(a[0], b[0]);
  const y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y2 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

const message = (err: unknown) => (err instanceof AppError ? err.message : 'internal error');

/**
 * What happens to a photo after upload, in the background: object labels, faces matched against
 * everyone who allows face recognition, and OCR when the photo looks like a document. Each step
 * is one model run in the prediction ledger; a failing step is noted and the others still run.
 */
export class MediaProcessor {
  constructor(
    private readonly d: {
      repo: MediaRepository;
      db: Db;
      blobs: BlobStore;
      analysis: AnalysisService;
      config: Config;
      logger?: Logger;
    },
  ) {}

  /**
   * One model over the photo. Within a processing job the prediction's id comes from (photo, run,
   * model), so a retried or resumed job finds what it recorded before instead of adding a row; a
   * reprocess starts a new run and so new rows. Runs outside a job (OCR on request) are always new.
   */
  private async run(img: ImageRow, image: Buffer, model: string, raw: Record<string, unknown>, inJob: boolean) {
    const { analysis } = this.d;
    const spec = await analysis.modelSpec(model);
    const run = Number(img.processing_run ?? img.created_at);
    return analysis.runAndRecord({
      predictionId: inJob ? idFromKey(`${img.id}:${run}:${model}`, run) : undefined,
      userId: img.owner_id,
      source: 'album',
      jobId: null,
      model: spec,
      parameters: analysis.parseParameters(model, raw),
      image,
      inputBlobId: img.blob_id,
      inputSha256: img.sha256,
    });
  }

  async labels(img: ImageRow, image: Buffer): Promise<number> {
    const { prediction, output } = await this.run(img, image, LABEL_MODEL, {}, true);
    const t = Date.now();
    const model = `${prediction.model}@${prediction.model_version}`;
    const rows = (output as ObjectsOutput).objects.map((o) => ({
      id: newId(t),
      image_id: img.id,
      owner_id: img.owner_id,
      label: o.label.toLowerCase().slice(0, 64),
      score: o.score,
      box: JSON.stringify(o.box),
      model,
      prediction_id: prediction.id,
      created_at: t,
    }));
    await this.d.db.kysely.transaction().execute(async (tx) => {
      const repo = this.d.repo.withExecutor(tx);
      await repo.deleteLabels(img.id);
      await repo.insertLabels(rows);
    });
    return rows.length;
  }

  async faces(img: ImageRow, image: Buffer): Promise<number> {
    const { prediction, output } = await this.run(img, image, FACE_MODEL, { gallery: PEOPLE_GALLERY }, true);
    const t = Date.now();
    const model = `${prediction.model}@${prediction.model_version}`;
    // Faces the owner already named by hand stay as they are.
    const manual = (await this.d.repo.listFaces(img.id)).filter((f) => f.source === 'manual');
    const manualBoxes = manual.map((f) => JSON.parse(f.box) as Box);
    const rows = (output as FacesOutput).faces
      .filter((f) => !manualBoxes.some((b) => iou(b, f.box) > 0.5))
      .map((f) => ({
        id: newId(t),
        image_id: img.id,
        owner_id: img.owner_id,
        box: JSON.stringify(f.box),
        score: f.score,
        user_id: f.match.known ? f.match.identity : null,
        distance: Math.round(f.match.distance * 1000) / 1000,
        source: 'auto',
        model,
        prediction_id: prediction.id,
        created_at: t,
        updated_at: t,
      }));
    await this.d.db.kysely.transaction().execute(async (tx) => {
      const repo = this.d.repo.withExecutor(tx);
      await repo.deleteAutoFaces(img.id);
      await repo.insertFaces(rows);
    });
    return rows.length;
  }

  /** OCR of the image; the result replaces any earlier one. */
  async text(img: ImageRow, image: Buffer, lang: OcrLangSet, origin: 'auto' | 'manual'): Promise<OcrResult> {
    const { prediction, output } = await this.run(img, image, OCR_MODEL, { lang }, origin === 'auto');
    const r = output as OcrResult;
    await this.d.db.kysely.transaction().execute(async (tx) => {
      const repo = this.d.repo.withExecutor(tx);
      await repo.deleteText(img.id);
      await repo.insertText({
        image_id: img.id,
        lang: r.lang,
        text: r.text,
        regions: JSON.stringify(r.lines),
        confidence: r.confidence,
        model: `${prediction.model}@${prediction.model_version}`,
        origin,
        prediction_id: prediction.id,
        created_at: Date.now(),
      });
    });
    return r;
  }

  /** The queue gave up on this photo: it is marked failed rather than left pending. */
  async fail(imageId: string): Promise<void> {
    const img = await this.d.repo.findImage(imageId);
    if (!img || img.status === 'done' || img.status === 'failed') return;
    await this.d.repo.updateImage(img.id, {
      status: 'failed',
      status_error: 'The photo could not be analysed',
      updated_at: Date.now(),
    });
  }

  async process(imageId: string): Promise<void> {
    const { repo, blobs, config } = this.d;
    const img = await repo.findImage(imageId);
    if (!img || (img.status !== 'pending' && img.status !== 'processing')) return;
    await repo.updateImage(img.id, { status: 'processing', updated_at: Date.now() });
    let image: Buffer;
    try {
      image = await blobs.getBuffer(img.blob_id);
    } catch (err) {
      await repo.updateImage(img.id, {
        status: 'failed',
        status_error: 'The stored image cannot be read',
        updated_at: Date.now(),
      });
      this.d.logger?.error({ err, imageId }, 'album image blob unreadable');
      return;
    }
    const problems: string[] = [];
    const step = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        problems.push(`${name}: ${message(err)}`);
        if (!(err instanceof AppError) || err.status >= 500)
          this.d.logger?.warn({ err, imageId, step: name }, 'album processing step failed');
      }
    };
    await step('labels', () => this.labels(img, image));
    await step('faces', () => this.faces(img, image));
    let document = false;
    if (config.media.autoOcr) {
      await step('text', async () => {
        document = await looksLikeDocument(image, config.imageMaxPixels);
        if (document && !(await repo.findText(img.id))) await this.text(img, image, 'spa+eng', 'auto');
      });
    }
    // The photo may have been deleted meanwhile; then there is nothing left to mark.
    if (!(await repo.findImage(img.id))) return;
    await repo.updateImage(img.id, {
      status: problems.length >= (config.media.autoOcr ? 3 : 2) ? 'failed' : 'done',
      status_error: problems.length ? problems.join('; ').slice(0, 500) : null,
      looks_like_document: document ? 1 : 0,
      updated_at: Date.now(),
    });
  }
}
