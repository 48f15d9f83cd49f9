import { createHash } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { UploadedFile } from '../../http/uploads.ts';
import type { BlobStore } from '../../platform/blobs/index.ts';
import type { Db } from '../../platform/db/database.ts';
import { AppError, badRequest, notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { normalizeImage } from '../../platform/images.ts';
import type { Logger } from '../../platform/logger.ts';
import { toIso } from '../../platform/time.ts';
import type { Box } from '../../vision/engine.ts';
import type { OcrLangSet } from '../../vision/ocr.ts';
import type { BackgroundTasks } from '../analysis/background.ts';
import { type Actor, requireScope } from '../identity/actor.ts';
import { MEDIA_TASK, type MediaProcessor } from './media-processing.ts';
import type { AlbumRow, FaceViewRow, ImageRow, LabelRow, MediaRepository, TextRow } from './media.repository.ts';
import type { AlbumOut, ImageDetailOut, ImageOut } from './media.schemas.ts';
import type { TranslationResult, TranslationService } from './translation.service.ts';

const FULL_SIDE = 2048;
const THUMB_SIDE = 384;

/** Best score per label, best first. */
function labelSummary(labels: LabelRow[]): { label: string; score: number }[] {
  const best = new Map<string, number>();
  for (const l of labels) best.set(l.label, Math.max(best.get(l.label) ?? 0, Number(l.score)));
  return [...best.entries()].map(([label, score]) => ({ label, score })).sort((a, b) => b.score - a.score);
}

export function toImageOut(i: ImageRow, labels: LabelRow[]): ImageOut {
  return {
    id: i.id,
    ownerId: i.owner_id,
    albumId: i.album_id,
    title: i.title,
    description: i.description,
    width: Number(i.width),
    height: Number(i.height),
    size: Number(i.size),
    sha256: i.sha256,
    shared: Number(i.shared) === 1,
    status: i.status,
    statusError: i.status_error,
    looksLikeDocument: Number(i.looks_like_document) === 1,
    labels: labelSummary(labels),
    createdAt: toIso(i.created_at)!,
    updatedAt: toIso(i.updated_at)!,
  };
}

function toTextOut(t: TextRow) {
  return {
    text: t.text,
    lang: t.lang,
    confidence: Number(t.confidence),
    lines: JSON.parse(t.regions) as { text: string; confidence: number; box: Box }[],
    model: t.model,
    origin: t.origin as 'auto' | 'manual',
    predictionId: t.prediction_id,
    createdAt: toIso(t.created_at)!,
  };
}

function toFaceOut(f: FaceViewRow) {
  return {
    id: f.id,
    box: JSON.parse(f.box) as Box,
    score: Number(f.score),
    userId: f.user_id,
    username: f.username,
    fullName: f.full_name,
    distance: f.distance === null ? null : Number(f.distance),
    source: f.source as 'auto' | 'manual',
  };
}

interface Deps {
  repo: MediaRepository;
  db: Db;
  blobs: BlobStore;
  processor: MediaProcessor;
  translations: TranslationService;
  tasks: BackgroundTasks;
  config: Config;
  logger?: Logger;
}

/**
 * Albums and photos. A user sees only their own albums and photos, plus photos others chose to
 * share (read only). Uploads are normalized (rotated, re-encoded, bounded in size) and analysed in
 * the background; text extraction and translation can also be asked for at any time.
 */
export class MediaService {
  constructor(private readonly d: Deps) {
    d.tasks.register(
      MEDIA_TASK,
      (id) => d.processor.process(id),
      (id) => d.processor.fail(id),
    );
  }

  get translations(): TranslationService {
    return this.d.translations;
  }

  // ---- albums ------------------------------------------------------------------------------

  private async ownAlbum(actor: Actor, id: string): Promise<AlbumRow> {
    const a = await this.d.repo.findAlbum(id);
    // Other people's albums do not exist as far as this user can tell.
    if (!a || a.owner_id !== actor.id) throw notFound('Album');
    return a;
  }

  private async albumOut(a: AlbumRow, stats?: { count: number; cover: string | null }): Promise<AlbumOut> {
    const s =
      stats ??
      (a.smart_label
        ? await this.d.repo.labelStats(a.owner_id, a.smart_label)
        : ((await this.d.repo.albumStats(a.owner_id)).get(a.id) ?? { count: 0, cover: null }));
    return {
      id: a.id,
      name: a.name,
      description: a.description,
      smartLabel: a.smart_label,
      imageCount: s.count,
      coverImageId: s.cover,
      createdAt: toIso(a.created_at)!,
      updatedAt: toIso(a.updated_at)!,
    };
  }

  async listAlbums(actor: Actor): Promise<AlbumOut[]> {
    const albums = await this.d.repo.listAlbums(actor.id);
    const stats = await this.d.repo.albumStats(actor.id);
    const out: AlbumOut[] = [];
    for (const a of albums) {
      const s = a.smart_label
        ? await this.d.repo.labelStats(actor.id, a.smart_label)
        : (stats.get(a.id) ?? { count: 0, cover: null });
      out.push(await this.albumOut(a, s));
    }
    return out;
  }

  async getAlbum(actor: Actor, id: string): Promise<AlbumOut> {
    return this.albumOut(await this.ownAlbum(actor, id));
  }

  async createAlbum(
    actor: Actor,
    input: { name: string; description?: string | null; smartLabel?: string | null },
  ): Promise<AlbumOut> {
    requireScope(actor, 'media:write');
    const t = Date.now();
    const row = {
      id: newId(t),
      owner_id: actor.id,
      name: input.name,
      description: input.description ?? null,
      smart_label: input.smartLabel ?? null,
      created_at: t,
      updated_at: t,
    };
    await this.d.repo.insertAlbum(row);
    return this.albumOut(row);
  }

  async updateAlbum(
    actor: Actor,
    id: string,
    patch: { name?: string; description?: string | null; smartLabel?: string | null },
  ): Promise<AlbumOut> {
    requireScope(actor, 'media:write');
    const a = await this.ownAlbum(actor, id);
    if (patch.smartLabel !== undefined && (patch.smartLabel === null) !== (a.smart_label === null)) {
      // A smart album shows photos by label and holds none itself; turning one into the other would lose photos.
      throw badRequest('album_kind_fixed', 'An album cannot be turned into a smart album or back; create a new one');
    }
    await this.d.repo.updateAlbum(id, {
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.description !== undefined && { description: patch.description }),
      ...(patch.smartLabel !== undefined && { smart_label: patch.smartLabel }),
      updated_at: Date.now(),
    });
    return this.albumOut((await this.d.repo.findAlbum(id))!);
  }

  /** Deletes an album; its photos stay in the library (`keep`) or are deleted with it. */
  async deleteAlbum(actor: Actor, id: string, images: 'keep' | 'delete'): Promise<void> {
    requireScope(actor, 'media:write');
    const a = await this.ownAlbum(actor, id);
    if (images === 'delete' && !a.smart_label) {
      for (const img of await this.d.repo.listImageIdsOfAlbum(id)) await this.removeImage(img);
    }
    await this.d.repo.deleteAlbum(id);
  }

  // ---- images ------------------------------------------------------------------------------

  private async withLabels(rows: ImageRow[]): Promise<ImageOut[]> {
    const labels = await this.d.repo.listLabelsOfImages(rows.map((r) => r.id));
    const by = new Map<string, LabelRow[]>();
    for (const l of labels) by.set(l.image_id, [...(by.get(l.image_id) ?? []), l]);
    return rows.map((r) => toImageOut(r, by.get(r.id) ?? []));
  }

  private async ownImage(actor: Actor, id: string): Promise<ImageRow> {
    const i = await this.d.repo.findImage(id);
    if (!i || i.owner_id !== actor.id) throw notFound('Image');
    return i;
  }

  /** The owner's image, or one shared with everyone. */
  private async visibleImage(actor: Actor, id: string): Promise<ImageRow> {
    const i = await this.d.repo.findImage(id);
    if (!i || (i.owner_id !== actor.id && Number(i.shared) !== 1)) throw notFound('Image');
    return i;
  }

  async listImages(
    actor: Actor,
    f: {
      album?: string;
      unfiled?: boolean;
      label?: string;
      q?: string;
      scope: 'mine' | 'shared';
      limit: number;
      offset: number;
    },
  ): Promise<{ items: ImageOut[]; total: number }> {
    let filter: Parameters<MediaRepository['listImages']>[0];
    if (f.scope === 'shared') {
      filter = { sharedExcept: actor.id, label: f.label, q: f.q, limit: f.limit, offset: f.offset };
    } else {
      filter = { ownerId: actor.id, unfiled: f.unfiled, label: f.label, q: f.q, limit: f.limit, offset: f.offset };
      if (f.album) {
        const album = await this.ownAlbum(actor, f.album);
        // A smart album is a saved label search over the whole library.
        if (album.smart_label) filter.label = album.smart_label;
        else filter.albumId = album.id;
      }
    }
    const { items, total } = await this.d.repo.listImages(filter);
    return { items: await this.withLabels(items), total };
  }

  async getImage(actor: Actor, id: string): Promise<ImageDetailOut> {
    const img = await this.visibleImage(actor, id);
    const [labels, faces, text] = await Promise.all([
      this.d.repo.listLabelsOfImages([img.id]),
      this.d.repo.listFaces(img.id),
      this.d.repo.findText(img.id),
    ]);
    return {
      ...toImageOut(img, labels),
      mine: img.owner_id === actor.id,
      detections: labels.map((l) => ({
        label: l.label,
        score: Number(l.score),
        box: l.box ? (JSON.parse(l.box) as Box) : null,
      })),
      faces: faces.map(toFaceOut),
      text: text ? toTextOut(text) : null,
    };
  }

  /** Stores one or more photos; with several, each file's own problem is reported and the rest are kept. */
  async upload(
    actor: Actor,
    input: { files: UploadedFile[]; albumId?: string; title?: string; description?: string; shared?: boolean },
  ): Promise<{ items: ImageOut[]; errors: { filename: string; code: string; message: string }[] }> {
    requireScope(actor, 'media:write');
    if (input.albumId) {
      const album = await this.ownAlbum(actor, input.albumId);
      if (album.smart_label) {
        throw badRequest(
          'smart_album_upload',
          `"${album.name}" is a smart album (photos labelled ${album.smart_label}); upload to an ordinary album`,
        );
      }
    }
    const created: ImageRow[] = [];
    const errors: { filename: string; code: string; message: string }[] = [];
    for (const file of input.files) {
      try {
        created.push(await this.storeOne(actor, file, input));
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || input.files.length === 1) throw err;
        errors.push({ filename: file.filename, code: err.code, message: err.message });
      }
    }
    if (created.length === 0) {
      throw new AppError('no_images', 400, 'None of the files is an image that can be stored', { errors });
    }
    for (const img of created) await this.d.tasks.enqueue(MEDIA_TASK, img.id, Number(img.updated_at));
    return { items: await this.withLabels(created), errors };
  }

  private async storeOne(
    actor: Actor,
    file: UploadedFile,
    input: { albumId?: string; title?: string; description?: string; shared?: boolean },
  ): Promise<ImageRow> {
    const { info, full, thumb } = await normalizeImage(file.data, this.d.config.imageMaxPixels, {
      full: FULL_SIDE,
      thumb: THUMB_SIDE,
    });
    const original = createHash('sha256').update(file.data).digest('hex');
    const a = await this.d.blobs.put(full, { contentType: 'image/jpeg' });
    const b = await this.d.blobs.put(thumb, { contentType: 'image/jpeg' });
    const scale = Math.min(1, FULL_SIDE / Math.max(info.width, info.height));
    const t = Date.now();
    const baseName = file.filename ? file.filename.replace(/\.[A-Za-z0-9]{1,5}$/, '').slice(0, 200) : '';
    const row = {
      id: newId(t),
      owner_id: actor.id,
      album_id: input.albumId ?? null,
      blob_id: a.id,
      thumb_blob_id: b.id,
      sha256: a.sha256,
      size: a.size,
      width: Math.round(info.width * scale),
      height: Math.round(info.height * scale),
      original_sha256: original,
      original_name: file.filename ? file.filename.slice(0, 255) : null,
      title: input.title || baseName || 'Untitled',
      description: input.description || null,
      shared: input.shared ? 1 : 0,
      status: 'pending' as const,
      status_error: null,
      looks_like_document: 0,
      processing_run: t,
      created_at: t,
      updated_at: t,
    };
    try {
      await this.d.repo.insertImage(row);
    } catch (err) {
      await this.d.blobs.delete(a.id).catch(() => {});
      await this.d.blobs.delete(b.id).catch(() => {});
      throw err;
    }
    return (await this.d.repo.findImage(row.id))!;
  }

  async updateImage(
    actor: Actor,
    id: string,
    patch: { title?: string; description?: string | null; albumId?: string | null; shared?: boolean },
  ): Promise<ImageOut> {
    requireScope(actor, 'media:write');
    const img = await this.ownImage(actor, id);
    if (patch.albumId) {
      const album = await this.ownAlbum(actor, patch.albumId);
      if (album.smart_label) throw badRequest('smart_album_upload', 'Photos cannot be moved into a smart album');
    }
    await this.d.repo.updateImage(img.id, {
      ...(patch.title !== undefined && { title: patch.title }),
      ...(patch.description !== undefined && { description: patch.description || null }),
      ...(patch.albumId !== undefined && { album_id: patch.albumId }),
      ...(patch.shared !== undefined && { shared: patch.shared ? 1 : 0 }),
      updated_at: Date.now(),
    });
    const fresh = (await this.d.repo.findImage(img.id))!;
    return toImageOut(fresh, await this.d.repo.listLabelsOfImages([img.id]));
  }

  private async removeImage(img: ImageRow): Promise<void> {
    await this.d.repo.deleteImage(img.id);
    for (const blob of [img.blob_id, img.thumb_blob_id]) await this.d.blobs.delete(blob).catch(() => {});
  }

  async deleteImage(actor: Actor, id: string): Promise<void> {
    requireScope(actor, 'media:write');
    await this.removeImage(await this.ownImage(actor, id));
  }

  async imageFile(actor: Actor, id: string, size: 'full' | 'thumb'): Promise<string> {
    const img = await this.visibleImage(actor, id);
    return size === 'thumb' ? img.thumb_blob_id : img.blob_id;
  }

  /** Analyses the photo again (after people gave consent, or a model was updated). */
  async reprocess(actor: Actor, id: string): Promise<ImageOut> {
    requireScope(actor, 'media:write');
    const img = await this.ownImage(actor, id);
    if (img.status === 'pending' || img.status === 'processing')
      throw new AppError('already_processing', 409, 'The photo is being analysed');
    const t = Date.now();
    // A new run: its predictions are new ledger rows, not repeats of the last run's.
    await this.d.repo.updateImage(img.id, { status: 'pending', status_error: null, processing_run: t, updated_at: t });
    await this.d.tasks.enqueue(MEDIA_TASK, img.id, t);
    const fresh = (await this.d.repo.findImage(img.id))!;
    return toImageOut(fresh, await this.d.repo.listLabelsOfImages([img.id]));
  }

  async people(_actor: Actor, q: string | undefined) {
    const rows = await this.d.repo.searchPeople(q, 20);
    return rows.map((r) => ({ id: r.id, username: r.username, fullName: r.full_name }));
  }

  async labels(actor: Actor): Promise<{ label: string; count: number }[]> {
    return this.d.repo.labelCounts(actor.id);
  }

  // ---- people ------------------------------------------------------------------------------

  /** Names (or un-names) a face in one's own photo; the correction survives reprocessing. */
  async correctFace(actor: Actor, imageId: string, faceId: string, userId: string | null) {
    requireScope(actor, 'media:write');
    await this.ownImage(actor, imageId);
    const face = await this.d.repo.findFace(imageId, faceId);
    if (!face) throw notFound('Face');
    // Only people who allow face recognition can be named, by a model or by hand.
    if (userId && !(await this.d.repo.findPerson(userId))) {
      throw badRequest('unknown_user', 'No such person among those who allow face recognition');
    }
    await this.d.repo.updateFace(face.id, {
      user_id: userId,
      source: 'manual',
      distance: null,
      updated_at: Date.now(),
    });
    const view = (await this.d.repo.listFaces(imageId)).find((f) => f.id === face.id)!;
    return toFaceOut(view);
  }

  async deleteFace(actor: Actor, imageId: string, faceId: string): Promise<void> {
    requireScope(actor, 'media:write');
    await this.ownImage(actor, imageId);
    const face = await this.d.repo.findFace(imageId, faceId);
    if (!face) throw notFound('Face');
    await this.d.repo.deleteFace(face.id);
  }

  // ---- text and translation ----------------------------------------------------------------

  async extractText(actor: Actor, id: string, lang: OcrLangSet) {
    requireScope(actor, 'media:write');
    const img = await this.ownImage(actor, id);
    const image = await this.d.blobs.getBuffer(img.blob_id);
    await this.d.processor.text(img, image, lang, 'manual');
    return toTextOut((await this.d.repo.findText(img.id))!);
  }

  async translateImage(
    actor: Actor,
    id: string,
    field: 'description' | 'text',
    from: string,
    to: string,
  ): Promise<TranslationResult> {
    const img = await this.visibleImage(actor, id);
    let source: string;
    if (field === 'description') {
      source = img.description ?? '';
      if (!source.trim()) throw badRequest('empty_text', 'The photo has no description to translate');
    } else {
      const t = await this.d.repo.findText(img.id);
      if (!t) throw new AppError('no_text', 409, 'No text has been extracted from this photo yet');
      source = t.text;
      if (!source.trim()) throw badRequest('empty_text', 'No text was found in this photo');
    }
    return this.d.translations.translate(source, from, to);
  }

  translate(_actor: Actor, text: string, from: string, to: string): Promise<TranslationResult> {
    return this.d.translations.translate(text, from, to);
  }

  /** Photos left unanalysed by a stopped process are queued again. */
  async resume(): Promise<number> {
    const rows = await this.d.repo.listUnprocessedImages();
    for (const r of rows) await this.d.tasks.enqueue(MEDIA_TASK, r.id, Number(r.updated_at));
    return rows.length;
  }
}
