import type { Readable } from 'node:stream';
import type { Config } from '../../config.ts';
import type { BlobStore } from '../../platform/blobs/index.ts';
import type { Bus } from '../../platform/bus/bus.ts';
import type { Db } from '../../platform/db/database.ts';
import type { CaptureKind, CaptureSource } from '../../platform/db/tables/attendance.ts';
import { AppError, conflict, notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { normalizeImage } from '../../platform/images.ts';
import type { Logger } from '../../platform/logger.ts';
import type { JobQueue, QueueWorker } from '../../platform/queue/index.ts';
import { toIso } from '../../platform/time.ts';
import type { RoomRegistry } from '../../realtime/rooms.ts';
import type { Vision } from '../../vision/index.ts';
import { VideoSniffer } from '../../vision/video.ts';
import type { AcademicsService, ClassSessionRow, OfferingRow } from '../academics/academics.service.ts';
import type { AnalysisService } from '../analysis/analysis.service.ts';
import type { FacesService } from '../faces/faces.service.ts';
import { type Actor, requireActor, requireScope } from '../identity/actor.ts';
import type { IdentityService } from '../identity/identity.service.ts';
import { AttendanceRows } from './attendance-rows.ts';
import { AttendanceLive, CAPTURE_ROOM, EVENTS, SESSION_ROOM } from './attendance.live.ts';
import type { AttendanceRepository, CaptureRow, ObservationRow } from './attendance.repository.ts';
import type { CaptureOut, FaceOut, FrameOut } from './attendance.schemas.ts';
import { CaptureLedger } from './capture-ledger.ts';
import { CAPTURE_QUEUE, type CaptureJob, CaptureProcessor, type FrameResult } from './capture-processor.ts';
import { AttendanceReports } from './reports.ts';
import { RETENTION_QUEUE, Retention } from './retention.ts';
import { AttendanceReview } from './review.ts';
import { Tracker } from './tracker.ts';

export const toCaptureOut = (c: CaptureRow): CaptureOut => ({
  id: c.id,
  sessionId: c.session_id,
  offeringId: c.offering_id,
  kind: c.kind,
  source: c.source,
  status: c.status,
  progress: Number(c.progress),
  error: c.error ? { code: c.error_code ?? 'failed', message: c.error } : null,
  attempts: Number(c.attempts),
  filename: c.filename,
  contentType: c.content_type,
  sizeBytes: Number(c.size_bytes),
  capturedAt: toIso(c.captured_at)!,
  durationMs: c.duration_ms === null ? null : Number(c.duration_ms),
  width: c.width === null ? null : Number(c.width),
  height: c.height === null ? null : Number(c.height),
  framesDone: Number(c.frames_done),
  facesSeen: Number(c.faces_seen),
  available: c.blob_id !== null,
  createdAt: toIso(c.created_at)!,
  startedAt: toIso(c.started_at),
  finishedAt: toIso(c.finished_at),
});

export function toFaceOut(o: ObservationRow, names: Map<string, string>): FaceOut {
  const rejected = o.review === 'rejected';
  const studentId = rejected ? null : o.student_id;
  return {
    box: JSON.parse(o.box) as FaceOut['box'],
    trackId: o.track_id,
    studentId,
    name: studentId ? (names.get(studentId) ?? null) : null,
    known: studentId !== null,
    confidence: Number(o.confidence),
    distance: o.distance === null ? null : Number(o.distance),
    handRaised: Number(o.hand_raised) === 1,
    facing: o.facing,
    review: o.review,
  };
}

/** Videos the upload accepts, by file extension when the browser sends no useful type. */
const VIDEO_EXT = /\.(mp4|m4v|mov|webm|mkv)$/i;
const IMAGE_EXT = /\.(jpe?g|png|webp|gif|tiff?|avif|heic|heif)$/i;
/** Photos per upload request: each is normalized in memory before any is stored. */
export const MAX_PHOTOS_PER_UPLOAD = 20;
/** A live stream with no frame for this long starts over with fresh tracks. */
const LIVE_IDLE_MS = 120_000;

export interface AttendanceDeps {
  repo: AttendanceRepository;
  db: Db;
  academics: AcademicsService;
  faces: FacesService;
  identity: IdentityService;
  vision: Vision;
  blobs: BlobStore;
  queue: JobQueue;
  bus: Bus;
  config: Config;
  logger: Logger;
  /** The prediction ledger, where every analysed frame is recorded. */
  analysis: AnalysisService;
}

export type UploadKind = 'photo' | 'video';

/** What kind of capture a file is, from its type or, failing that, its name. */
export function uploadKind(mimetype: string, filename: string): UploadKind {
  if (mimetype.startsWith('video/') || VIDEO_EXT.test(filename)) return 'video';
  if (mimetype.startsWith('image/') || IMAGE_EXT.test(filename)) return 'photo';
  throw new AppError('unsupported_media_type', 415, 'Send photos (JPEG, PNG, WebP…) or a video (MP4, MOV, WebM)');
}

/**
 * Attendance from the classroom camera: captures in (photos, videos, live frames), analysis on
 * the job queue, live updates to the session's watchers, and the review, reports and retention
 * built on the results (see review.ts, reports.ts, retention.ts).
 */
export class AttendanceService {
  readonly rows: AttendanceRows;
  readonly processor: CaptureProcessor;
  readonly review: AttendanceReview;
  readonly reports: AttendanceReports;
  readonly retention: Retention;
  private readonly live: AttendanceLive;
  private readonly streams = new Map<string, { tracker: Tracker; frame: number; lastAt: number }>();

  constructor(private readonly d: AttendanceDeps) {
    const { config } = d;
    this.live = new AttendanceLive(d.bus);
    this.rows = new AttendanceRows(d.repo, d.db, d.academics, {
      gapMs: config.attendance.gapMs,
      facingAwayMs: config.attendance.facingAwayMs,
    });
    this.processor = new CaptureProcessor({
      repo: d.repo,
      db: d.db,
      rows: this.rows,
      academics: d.academics,
      faces: d.faces,
      vision: d.vision,
      blobs: d.blobs,
      config,
      logger: d.logger,
      ledger: new CaptureLedger({ analysis: d.analysis, blobs: d.blobs, config }),
      changed: (c, what) => this.changed(c, what),
    });
    this.review = new AttendanceReview(this, d);
    this.reports = new AttendanceReports(d.repo, d.academics, d.identity, config);
    this.retention = new Retention(d.repo, d.blobs, config, d.logger);
  }

  // ---- authorization -----------------------------------------------------------------------

  /**
   * The session, if the actor may take attendance in it: its offering's teacher or an admin, by
   * session or by a token with the attendance:capture scope. Closed sessions take no captures.
   */
  async assertCanCapture(
    actor: Actor | null,
    sessionId: string,
  ): Promise<{ session: ClassSessionRow; offering: OfferingRow }> {
    const a = requireScope(requireActor(actor), 'attendance:capture');
    const r = await this.d.academics.assertCanManageSession(a, sessionId);
    if (r.session.status === 'closed') {
      throw conflict('session_closed', 'This class session is closed; captures are no longer accepted');
    }
    return r;
  }

  /** The session, if the actor may see its attendance and captures: its teacher and admins. */
  async assertCanReview(
    actor: Actor | null,
    sessionId: string,
  ): Promise<{ session: ClassSessionRow; offering: OfferingRow }> {
    const a = requireScope(requireActor(actor), 'attendance:read');
    return this.d.academics.assertCanManageSession(a, sessionId);
  }

  /**
   * The session, if the actor may correct its attendance (set statuses, confirm or reject
   * matches, name unknown faces, close it): as for reviewing, and a token needs attendance:write,
   * so a read-only token cannot change a record.
   */
  async assertCanEdit(
    actor: Actor | null,
    sessionId: string,
  ): Promise<{ session: ClassSessionRow; offering: OfferingRow }> {
    const a = requireScope(requireActor(actor), 'attendance:write');
    return this.d.academics.assertCanManageSession(a, sessionId);
  }

  private async captureFor(actor: Actor | null, captureId: string): Promise<CaptureRow> {
    const c = await this.d.repo.findCapture(captureId);
    if (!c) throw notFound('Capture');
    await this.assertCanReview(actor, c.session_id);
    return c;
  }

  /** A session taking attendance is under way: a scheduled one opens. */
  private async ensureOpen(actor: Actor, session: ClassSessionRow): Promise<void> {
    if (session.status === 'scheduled') await this.d.academics.sessions.update(actor, session.id, { status: 'open' });
  }

  /**
   * When an upload was taken, unless the client says: now while the class is on (give or take
   * half an hour), otherwise the start of the session (photos or a recording uploaded later).
   */
  defaultCapturedAt(session: ClassSessionRow, now = Date.now()): number {
    const slack = 30 * 60_000;
    const start = Number(session.starts_at);
    const end = Number(session.ends_at);
    return now >= start - slack && now <= end + slack ? now : start;
  }

  // ---- captures in -------------------------------------------------------------------------

  /** Photos of the room: validated and normalized first, then stored and queued together. */
  async addPhotos(
    actor: Actor,
    sessionId: string,
    photos: { data: Buffer; filename: string }[],
    capturedAt?: number,
  ): Promise<CaptureRow[]> {
    const { session } = await this.assertCanCapture(actor, sessionId);
    if (photos.length > MAX_PHOTOS_PER_UPLOAD) {
      throw new AppError('too_many_files', 413, `At most ${MAX_PHOTOS_PER_UPLOAD} photos per upload`);
    }
    const normalized = [];
    for (const p of photos) {
      try {
        const { full } = await normalizeImage(p.data, this.d.config.imageMaxPixels, {
          full: this.d.config.vision.maxSide,
          thumb: 64,
        });
        normalized.push({ full, filename: p.filename });
      } catch (err) {
        if (err instanceof AppError) {
          throw new AppError(err.code, err.status, `${p.filename}: ${err.message}`, {
            ...err.details,
            file: p.filename,
          });
        }
        throw err;
      }
    }
    await this.ensureOpen(actor, session);
    const at = capturedAt ?? this.defaultCapturedAt(session);
    const rows: CaptureRow[] = [];
    for (const p of normalized) {
      const blob = await this.d.blobs.put(p.full, { contentType: 'image/jpeg' });
      rows.push(await this.insertCapture(actor, session, 'photo', 'upload', blob, p.filename, at, 'queued'));
    }
    for (const r of rows) await this.enqueue(r.id);
    return rows;
  }

  /** A recorded class: streamed into the blob store (never held in memory), then queued. */
  async addVideo(
    actor: Actor,
    sessionId: string,
    stream: Readable,
    filename: string,
    capturedAt?: number,
  ): Promise<CaptureRow> {
    const { session } = await this.assertCanCapture(actor, sessionId);
    const sniffer = new VideoSniffer();
    stream.on('error', (err) => sniffer.destroy(err));
    // The store attaches its pipeline after an await: an early refusal must not go unhandled
    // meanwhile (the pipeline still sees the stream's error).
    sniffer.on('error', () => {});
    const blob = await this.d.blobs.put(stream.pipe(sniffer), {
      contentType: 'video/*',
      maxBytes: this.d.config.videoUploadLimitBytes,
    });
    const contentType = { mp4: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', mkv: 'video/x-matroska' }[
      sniffer.container ?? 'mp4'
    ];
    await this.ensureOpen(actor, session);
    const row = await this.insertCapture(
      actor,
      session,
      'video',
      'upload',
      { ...blob, contentType },
      filename,
      capturedAt ?? Number(session.starts_at),
      'queued',
    );
    await this.enqueue(row.id);
    return row;
  }

  /**
   * One frame of a live camera (the teacher's webcam page, or `aula camera`), analysed at once:
   * the answer carries the boxes and names to draw over the video.
   */
  async addLiveFrame(
    actor: Actor,
    sessionId: string,
    image: Buffer,
    source: Extract<CaptureSource, 'webcam' | 'camera'>,
  ): Promise<{ capture: CaptureRow; frame: FrameOut }> {
    const { session } = await this.assertCanCapture(actor, sessionId);
    const { full } = await normalizeImage(image, this.d.config.imageMaxPixels, { full: 1920, thumb: 64 });
    await this.ensureOpen(actor, session);
    const blob = await this.d.blobs.put(full, { contentType: 'image/jpeg' });
    const capture = await this.insertCapture(actor, session, 'frame', source, blob, null, Date.now(), 'running');
    const stream = this.stream(sessionId);
    let result: FrameResult;
    try {
      result = await this.processor.processLive(capture, stream.tracker, stream.frame++);
    } catch (err) {
      const e =
        err instanceof AppError ? err : new AppError('processing_error', 500, 'The frame could not be analysed');
      await this.processor.fail(capture, e.code, e.message);
      throw err;
    }
    const names = await this.names(session.offering_id);
    const frame: FrameOut = {
      index: 0,
      offsetMs: 0,
      at: toIso(result.at)!,
      width: result.width,
      height: result.height,
      available: true,
      faces: result.faces.map((f) => ({
        box: f.box,
        trackId: f.trackId,
        studentId: f.studentId,
        name: f.studentId ? (names.get(f.studentId) ?? null) : null,
        known: f.studentId !== null,
        confidence: f.confidence,
        distance: f.distance,
        handRaised: f.handRaised,
        facing: f.facing,
        review: 'auto',
      })),
    };
    this.live.session(sessionId, EVENTS.frame, { captureId: capture.id, frame });
    return { capture: (await this.d.repo.findCapture(capture.id))!, frame };
  }

  private stream(sessionId: string) {
    const now = Date.now();
    for (const [k, s] of this.streams) if (now - s.lastAt > LIVE_IDLE_MS) this.streams.delete(k);
    let s = this.streams.get(sessionId);
    if (!s) this.streams.set(sessionId, (s = { tracker: new Tracker(), frame: 0, lastAt: now }));
    s.lastAt = now;
    return s;
  }

  private async insertCapture(
    actor: Actor,
    session: ClassSessionRow,
    kind: CaptureKind,
    source: CaptureSource,
    blob: { id: string; size: number; contentType: string },
    filename: string | null,
    capturedAt: number,
    status: 'queued' | 'running',
  ): Promise<CaptureRow> {
    const id = newId();
    try {
      await this.d.repo.insertCapture({
        id,
        session_id: session.id,
        offering_id: session.offering_id,
        kind,
        source,
        blob_id: blob.id,
        content_type: blob.contentType,
        size_bytes: blob.size,
        filename: filename ? filename.slice(0, 255) : null,
        captured_at: capturedAt,
        status,
        duration_ms: null,
        width: null,
        height: null,
        created_by: actor.via === 'system' ? null : actor.id,
        created_at: Date.now(),
        started_at: null,
        finished_at: null,
        purged_at: null,
        error: null,
        error_code: null,
      });
    } catch (err) {
      await this.d.blobs.delete(blob.id).catch(() => {});
      throw err;
    }
    const row = (await this.d.repo.findCapture(id))!;
    this.changed(row, 'status');
    return row;
  }

  private async enqueue(captureId: string): Promise<void> {
    await this.d.queue.add<CaptureJob>(CAPTURE_QUEUE, { captureId }, { jobId: captureId });
  }

  // ---- captures out ------------------------------------------------------------------------

  async listCaptures(
    actor: Actor | null,
    sessionId: string,
    f: { limit: number; offset: number; kind?: CaptureKind | undefined },
  ) {
    await this.assertCanReview(actor, sessionId);
    return this.d.repo.listCaptures(sessionId, f);
  }

  getCapture(actor: Actor | null, captureId: string): Promise<CaptureRow> {
    return this.captureFor(actor, captureId);
  }

  /** The analysed frames of a capture with every face, for the annotated-frame stepper. */
  async listFrames(
    actor: Actor | null,
    captureId: string,
    f: { limit: number; offset: number },
  ): Promise<{ items: FrameOut[]; total: number }> {
    const c = await this.captureFor(actor, captureId);
    const [frames, total] = await Promise.all([this.d.repo.listFrames(c.id, f), this.d.repo.countFrames(c.id)]);
    if (!frames.length) return { items: [], total };
    const obs = await this.d.repo.listObservationsOfFrames(
      c.id,
      Number(frames[0].frame_index),
      Number(frames[frames.length - 1].frame_index),
    );
    const names = await this.names(c.offering_id);
    return {
      total,
      items: frames.map((fr) => ({
        index: Number(fr.frame_index),
        offsetMs: Number(fr.offset_ms),
        at: toIso(fr.at)!,
        width: Number(fr.width),
        height: Number(fr.height),
        available: fr.blob_id !== null,
        faces: obs.filter((o) => Number(o.frame_index) === Number(fr.frame_index)).map((o) => toFaceOut(o, names)),
      })),
    };
  }

  /** The blob of one analysed frame (410 once retention deleted it). */
  async frameImage(actor: Actor | null, captureId: string, index: number): Promise<string> {
    const c = await this.captureFor(actor, captureId);
    const f = await this.d.repo.findFrame(c.id, index);
    if (!f) throw notFound('Frame');
    if (!f.blob_id) throw new AppError('capture_expired', 410, 'This frame was deleted after the retention period');
    return f.blob_id;
  }

  /** Student names of an offering, for labelling faces. */
  async names(offeringId: string): Promise<Map<string, string>> {
    return new Map((await this.d.academics.listEnrolledStudents(offeringId)).map((s) => [s.student_id, s.full_name]));
  }

  // ---- live updates ------------------------------------------------------------------------

  private changed(c: CaptureRow, what: 'progress' | 'rows' | 'status'): void {
    this.live.capture(c.id, toCaptureOut(c));
    if (what === 'rows') {
      void this.review
        .roster(null, c.session_id, { trusted: true })
        .then((r) => this.live.session(c.session_id, EVENTS.roster, r))
        .catch((err: unknown) => this.d.logger.warn({ err }, 'roster update not sent'));
    }
    if (what !== 'progress' || c.kind === 'video') {
      void this.d.repo
        .listCaptures(c.session_id, { limit: 20, offset: 0 })
        .then(({ items }) => this.live.session(c.session_id, EVENTS.captures, { items: items.map(toCaptureOut) }))
        .catch((err: unknown) => this.d.logger.warn({ err }, 'capture update not sent'));
    }
  }

  /** Publishes the roster after a review edit. */
  async publishRoster(sessionId: string): Promise<void> {
    this.live.session(sessionId, EVENTS.roster, await this.review.roster(null, sessionId, { trusted: true }));
  }

  /** Who may watch `session:<id>` and `capture:<id>`, and what they see on joining. */
  registerRooms(rooms: RoomRegistry): void {
    const may = async (actor: Actor, sessionId: string) => {
      try {
        await this.assertCanReview(actor, sessionId);
        return true;
      } catch (err) {
        if (err instanceof AppError && err.status < 500) return false;
        throw err;
      }
    };
    rooms.registerRoomAuthorizer(SESSION_ROOM, (actor, _room, key) => may(actor, key));
    rooms.registerRoomSnapshot(SESSION_ROOM, async (_room, key) => ({
      event: EVENTS.roster,
      payload: await this.review.roster(null, key, { trusted: true }),
    }));
    rooms.registerRoomAuthorizer(CAPTURE_ROOM, async (actor, _room, key) => {
      const c = await this.d.repo.findCapture(key);
      return c ? may(actor, c.session_id) : false;
    });
    rooms.registerRoomSnapshot(CAPTURE_ROOM, async (_room, key) => {
      const c = await this.d.repo.findCapture(key);
      return c ? { event: EVENTS.progress, payload: toCaptureOut(c) } : null;
    });
  }

  // ---- workers -----------------------------------------------------------------------------

  /**
   * Consumes the capture and retention queues in this process. Unfinished captures in SQL are
   * queued again first: with the in-process queue nothing else remembers them after a restart,
   * and with BullMQ the stable job ids make this a no-op for jobs still in Redis.
   */
  async startWorkers(): Promise<QueueWorker> {
    const { queue, config, logger } = this.d;
    const captures = queue.work<CaptureJob>(CAPTURE_QUEUE, (job) => this.processor.handle(job), {
      concurrency: config.attendance.concurrency,
      onFailed: async (job, err) => {
        const c = await this.d.repo.findCapture((job.data as CaptureJob).captureId);
        if (c && c.status !== 'failed' && c.status !== 'done')
          await this.processor.fail(c, 'processing_error', err.message);
      },
    });
    const retention = queue.work(RETENTION_QUEUE, async () => {
      const r = await this.retention.sweep();
      if (r.purged) logger.info(r, 'raw captures deleted after the retention period');
    });
    await queue.every(RETENTION_QUEUE, 'attendance-retention', config.attendance.retentionSweepMs, {});
    await this.requeueUnfinished();
    return {
      close: async () => {
        await Promise.all([captures.close(), retention.close()]);
      },
    };
  }

  async requeueUnfinished(): Promise<number> {
    const rows = await this.d.repo.listUnfinishedCaptures(10_000);
    for (const r of rows) await this.enqueue(r.id);
    if (rows.length) this.d.logger.info({ captures: rows.length }, 'unfinished captures queued again');
    return rows.length;
  }
}
