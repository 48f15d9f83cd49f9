import type { Config } from '../../config.ts';
import type { BlobStore } from '../../platform/blobs/index.ts';
import { AppError, forbidden, notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { normalizeImage } from '../../platform/images.ts';
import type { Logger } from '../../platform/logger.ts';
import type { RateLimiter } from '../../platform/rate-limiter.ts';
import { toIso } from '../../platform/time.ts';
import type { EmbeddedFace } from '../../vision/engine.ts';
import { encodeDescriptor } from '../../vision/gallery.ts';
import { overlapOfSmaller } from '../../vision/geometry.ts';
import type { Vision } from '../../vision/index.ts';
import type { AcademicsService } from '../academics/academics.service.ts';
import { type Actor, isAdmin, SYSTEM_ACTOR } from '../identity/actor.ts';
import type { UserRow } from '../identity/identity.repository.ts';
import type { IdentityService, RequestMeta } from '../identity/identity.service.ts';
import { FaceGalleries } from './face-galleries.ts';
import type { FaceTemplateRow, FacesRepository } from './faces.repository.ts';
import type { TemplateOut, TemplateSource } from './faces.schemas.ts';

export function toTemplateOut(t: FaceTemplateRow): TemplateOut {
  return {
    id: t.id,
    userId: t.user_id,
    source: t.source as TemplateSource,
    model: t.model,
    quality: Number(t.quality),
    box: t.box ? (JSON.parse(t.box) as [number, number, number, number]) : null,
    hasImage: t.source_blob_id !== null,
    createdBy: t.created_by,
    createdAt: toIso(t.created_at)!,
  };
}

/** Faces smaller than this share of the main face are background people, not a second subject. */
const BACKGROUND_FACE_RATIO = 0.35;

export interface FaceLoginResult {
  user: UserRow;
  distance: number;
  confidence: number;
  antispoof: number;
  liveness: number;
}

/**
 * Face enrollment (templates per user, from photos, the webcam or the profile photo), deletion of
 * face data, and face sign-in against everyone who agreed to it.
 */
export class FacesService {
  readonly galleries: FaceGalleries;

  constructor(
    private readonly repo: FacesRepository,
    private readonly identity: IdentityService,
    private readonly academics: AcademicsService,
    private readonly blobs: BlobStore,
    private readonly vision: Vision,
    private readonly config: Config,
    private readonly limiter: RateLimiter,
    bus: ConstructorParameters<typeof FaceGalleries>[2],
    private readonly logger?: Logger,
  ) {
    this.galleries = new FaceGalleries(repo, vision.engine.galleries, bus, logger);
  }

  // ---- authorization -----------------------------------------------------------------------

  /**
   * The user themself, an admin, or a teacher of an offering the user is enrolled in. Returns the
   * target user.
   */
  async assertCanManage(actor: Actor, userId: string): Promise<UserRow> {
    const user = await this.identity.getUser(SYSTEM_ACTOR, userId).catch((err: unknown) => {
      if (err instanceof AppError && err.status === 404) throw notFound('User');
      throw err;
    });
    if (actor.id === userId || isAdmin(actor)) return user;
    if (actor.role === 'teacher' && user.role === 'student' && (await this.teaches(actor, userId))) return user;
    throw forbidden('Only the user, their teacher or an admin can manage their face data');
  }

  private async teaches(teacher: Actor, studentId: string): Promise<boolean> {
    const limit = 200;
    for (let offset = 0; ; offset += limit) {
      const { items, total } = await this.academics.listOfferings(teacher, {
        limit,
        offset,
        sort: 'course',
        order: 'asc',
      });
      for (const o of items) if (await this.academics.isEnrolled(o.id, studentId)) return true;
      if (offset + limit >= total) return false;
    }
  }

  // ---- enrollment --------------------------------------------------------------------------

  /** Exactly one face of enough quality, or a 400 that says what is wrong. */
  private pickEnrollmentFace(faces: EmbeddedFace[]): EmbeddedFace {
    if (faces.length === 0) {
      throw new AppError('no_face', 400, 'No face was found in the photo', { faces: 0 });
    }
    const main = faces[0];
    const mainSize = Math.min(main.box[2], main.box[3]);
    const subjects = faces.filter(
      (f) => f.score >= 0.5 && Math.min(f.box[2], f.box[3]) >= BACKGROUND_FACE_RATIO * mainSize,
    );
    if (subjects.length > 1) {
      throw new AppError('multiple_faces', 400, `The photo shows ${subjects.length} faces; enroll with one face only`, {
        faces: subjects.length,
        boxes: subjects.map((f) => f.box),
      });
    }
    const { enrollMinSize, enrollMinSharpness, enrollMaxYaw } = this.config.faces;
    const q = main.quality;
    const reasons: string[] = [];
    if (q.size < enrollMinSize) reasons.push(`the face is ${q.size} px; at least ${enrollMinSize} px is needed`);
    if (q.sharpness < enrollMinSharpness) reasons.push('the face is blurred');
    if (Math.abs(q.pose.yaw) > enrollMaxYaw) reasons.push('the face is turned too far to the side');
    if (main.score < 0.5) reasons.push('the face is not clearly visible');
    if (reasons.length) {
      throw new AppError('low_quality', 400, `The face is not good enough to enroll: ${reasons.join('; ')}`, {
        reasons,
        quality: q,
        score: main.score,
      });
    }
    return main;
  }

  async enroll(
    actor: Actor,
    userId: string,
    image: Buffer,
    source: TemplateSource,
  ): Promise<{
    template: FaceTemplateRow;
    face: EmbeddedFace;
  }> {
    await this.assertCanManage(actor, userId);
    // Validates and normalizes first: bombs, non-images and truncated files stop here as 4xx.
    const { full } = await normalizeImage(image, this.config.imageMaxPixels, { full: 2048, thumb: 192 });
    const { faces } = await this.vision.engine.embedFaces(full, { tiling: 'off', maxFaces: 10 });
    const face = this.pickEnrollmentFace(faces);
    const blob = await this.blobs.put(full, { contentType: 'image/jpeg' });
    const t = Date.now();
    const row = {
      id: newId(t),
      user_id: userId,
      source_blob_id: blob.id,
      embedding: encodeDescriptor(face.descriptor),
      model: face.model,
      quality: face.quality.score,
      created_by: actor.via === 'system' ? null : actor.id,
      created_at: t,
      source,
      box: JSON.stringify(face.box),
    };
    try {
      await this.repo.insertTemplate(row);
    } catch (err) {
      await this.blobs.delete(blob.id).catch(() => {});
      throw err;
    }
    await this.identity.audit(actor, 'face.enroll', 'user', userId, {
      templateId: row.id,
      source,
      quality: face.quality.score,
    });
    this.galleries.changed(userId);
    return { template: (await this.repo.findTemplate(row.id))!, face };
  }

  async list(actor: Actor, userId: string): Promise<{ items: FaceTemplateRow[]; consent: boolean }> {
    const user = await this.assertCanManage(actor, userId);
    await this.syncProfileTemplate(user);
    return { items: await this.repo.listByUser(userId), consent: Number(user.face_login_consent) === 1 };
  }

  async templateImage(actor: Actor, userId: string, templateId: string): Promise<string> {
    await this.assertCanManage(actor, userId);
    const t = await this.repo.findTemplate(templateId);
    if (!t || t.user_id !== userId) throw notFound('Face template');
    if (!t.source_blob_id) throw notFound('Source image');
    return t.source_blob_id;
  }

  private async dropTemplate(t: FaceTemplateRow): Promise<void> {
    await this.repo.deleteTemplate(t.id);
    // The profile photo's blob belongs to the profile, not to the template made from it.
    if (t.source_blob_id && t.source !== 'profile') await this.blobs.delete(t.source_blob_id).catch(() => {});
  }

  async deleteOne(actor: Actor, userId: string, templateId: string): Promise<void> {
    await this.assertCanManage(actor, userId);
    const t = await this.repo.findTemplate(templateId);
    if (!t || t.user_id !== userId) throw notFound('Face template');
    await this.dropTemplate(t);
    await this.identity.audit(actor, 'face.delete', 'user', userId, { templateId });
    this.galleries.changed(userId);
  }

  /**
   * Deletes every template and source image of the user and withdraws face sign-in consent, so
   * the profile photo does not quietly become a template again.
   */
  async deleteAll(actor: Actor, userId: string): Promise<number> {
    const user = await this.assertCanManage(actor, userId);
    const templates = await this.repo.listByUser(userId);
    for (const t of templates) await this.dropTemplate(t);
    if (Number(user.face_login_consent) === 1) {
      // Recorded as a system change (no actor id); the face.delete_all entry names who asked.
      await this.identity.updateMe({ ...SYSTEM_ACTOR, id: userId }, { faceLoginConsent: false });
    }
    await this.identity.audit(actor, 'face.delete_all', 'user', userId, { templates: templates.length });
    this.galleries.changed(userId);
    return templates.length;
  }

  // ---- the profile photo as a template -----------------------------------------------------

  /**
   * With consent, the profile photo is one more template; without it (or after the photo
   * changed) the template made from it goes away. A photo without a usable face is skipped.
   */
  async syncProfileTemplate(user: UserRow): Promise<void> {
    const consent = Number(user.face_login_consent) === 1 && Number(user.disabled) === 0;
    const existing = (await this.repo.listByUser(user.id)).filter((t) => t.source === 'profile');
    const wanted = consent ? user.profile_blob_id : null;
    let changed = false;
    for (const t of existing) {
      if (t.source_blob_id !== wanted) {
        await this.dropTemplate(t);
        changed = true;
      }
    }
    if (wanted && !existing.some((t) => t.source_blob_id === wanted)) {
      try {
        const image = await this.blobs.getBuffer(wanted);
        const { faces } = await this.vision.engine.embedFaces(image, { tiling: 'off', maxFaces: 10 });
        const face = this.pickEnrollmentFace(faces);
        const t = Date.now();
        await this.repo.insertTemplate({
          id: newId(t),
          user_id: user.id,
          source_blob_id: wanted,
          embedding: encodeDescriptor(face.descriptor),
          model: face.model,
          quality: face.quality.score,
          created_by: null,
          created_at: t,
          source: 'profile',
          box: JSON.stringify(face.box),
        });
        changed = true;
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        this.logger?.info({ userId: user.id, reason: err.code }, 'profile photo not usable as a face template');
      }
    }
    if (changed) this.galleries.changed(user.id);
  }

  /** Brings profile templates of consenting users (and of users who withdrew) up to date. */
  async syncProfileTemplates(limit = 25): Promise<number> {
    const users = await this.repo.listConsentingUsers();
    const profile = await this.repo.listProfileTemplates();
    const consenting = new Map(users.map((u) => [u.id, u.profile_blob_id]));
    const stale = new Set<string>();
    for (const t of profile) if (consenting.get(t.user_id) !== t.source_blob_id) stale.add(t.user_id);
    for (const u of users) {
      if (u.profile_blob_id && !profile.some((t) => t.user_id === u.id && t.source_blob_id === u.profile_blob_id)) {
        stale.add(u.id);
      }
    }
    let n = 0;
    for (const id of stale) {
      if (n >= limit) break;
      const user = await this.identity.getUser(SYSTEM_ACTOR, id).catch(() => undefined);
      if (user) await this.syncProfileTemplate(user);
      n++;
    }
    return n;
  }

  findUserIdByCodeOrUsername(name: string) {
    return this.repo.findUserIdByCodeOrUsername(name);
  }

  // ---- face sign-in ------------------------------------------------------------------------

  async faceLogin(image: Buffer, meta: RequestMeta): Promise<FaceLoginResult> {
    const d = await this.limiter.hit(
      `face-login:ip:${meta.ip ?? 'unknown'}`,
      this.config.faces.loginRateLimitPerIp,
      this.config.loginRateLimit.windowMs,
    );
    if (!d.allowed) {
      throw new AppError('too_many_attempts', 429, 'Too many sign-in attempts; try again later', {
        retryAfterSeconds: Math.ceil(d.retryAfterMs / 1000),
      });
    }
    const fail = async (code: string, message: string, details: Record<string, unknown> = {}) => {
      await this.identity.audit(null, 'auth.face_login_failed', null, null, { reason: code, ...details }, meta.ip);
      return new AppError(code, 401, message, details);
    };

    const engine = this.vision.engine;
    // Sign-in is interactive: its tasks go ahead of batch work in the worker queue, and the
    // liveness check of the largest face runs on another worker while the face is described.
    const [{ faces }, firstLive] = await Promise.all([
      engine.embedFaces(image, { tiling: 'off', maxFaces: 1, priority: 'high' }),
      engine.checkLiveness(image, { priority: 'high' }),
    ]);
    const face = faces[0];
    if (!face) throw await fail('no_face', 'No face was found in the picture');
    // Both models pick the largest face; if they did not pick the same one, check that face.
    const live =
      firstLive.box && overlapOfSmaller(firstLive.box, face.box) >= 0.5
        ? firstLive
        : await engine.checkLiveness(image, { box: face.box, priority: 'high' });
    const { loginMinAntispoof, loginMinLiveness } = this.config.faces;
    if (live.antispoof < loginMinAntispoof || live.liveness < loginMinLiveness) {
      throw await fail('liveness_failed', 'The picture does not look like a live face; use the camera in good light', {
        antispoof: live.antispoof,
        liveness: live.liveness,
      });
    }

    const gallery = await this.galleries.login(() => this.syncProfileTemplates());
    const [m] = gallery.matchMany([face.descriptor], {
      threshold: this.config.faces.matchThreshold,
      margin: this.config.faces.matchMargin,
    });
    if (!m?.known)
      throw await fail('face_not_recognized', 'The face does not match anyone who can sign in with a face');

    // The gallery may lag a withdrawal by an instant; the account itself has the last word.
    const user = await this.identity.getUser(SYSTEM_ACTOR, m.identity).catch(() => undefined);
    if (!user || Number(user.disabled) === 1 || Number(user.face_login_consent) !== 1) {
      throw await fail('face_not_recognized', 'The face does not match anyone who can sign in with a face');
    }
    return {
      user,
      distance: Math.round(m.distance * 1000) / 1000,
      confidence: Math.round(m.confidence * 1000) / 1000,
      antispoof: live.antispoof,
      liveness: live.liveness,
    };
  }

  close(): void {
    this.galleries.close();
  }
}
