import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Insertable } from 'kysely';
import sharp from 'sharp';
import type { Config } from '../../config.ts';
import type { BlobStore } from '../../platform/blobs/index.ts';
import type { Db } from '../../platform/db/database.ts';
import type { ObservationsTable } from '../../platform/db/tables/attendance.ts';
import { AppError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { Logger } from '../../platform/logger.ts';
import { PermanentJobError, type RunningJob } from '../../platform/queue/index.ts';
import type { Box, DetectedPerson, EmbeddedFace, FaceMatch } from '../../vision/engine.ts';
import type { Gallery } from '../../vision/gallery.ts';
import type { Vision } from '../../vision/index.ts';
import { probeVideo, sampleFrames } from '../../vision/video.ts';
import type { AcademicsService, ClassSessionRow } from '../academics/academics.service.ts';
import type { FacesService } from '../faces/faces.service.ts';
import type { AttendanceRows } from './attendance-rows.ts';
import type { AttendanceRepository, CaptureRow } from './attendance.repository.ts';
import type { CaptureLedger, CaptureLedgerRun, FramePrediction } from './capture-ledger.ts';
import { iou, Tracker } from './tracker.ts';

export const CAPTURE_QUEUE = 'attendance-captures';

export interface CaptureJob {
  captureId: string;
}

export interface FaceResult {
  faceIndex: number;
  box: Box;
  trackId: string;
  studentId: string | null;
  confidence: number;
  distance: number | null;
  /** Matched in this frame (true) or carried over from its track (false). */
  identified: boolean;
  quality: number;
  handRaised: boolean;
  facing: string | null;
}

export interface FrameResult {
  index: number;
  offsetMs: number;
  at: number;
  width: number;
  height: number;
  faces: FaceResult[];
  people: number;
  /** What the prediction ledger records of this frame; null for a still frame, which ran no model. */
  prediction: FramePrediction | null;
}

interface Run {
  capture: CaptureRow;
  session: ClassSessionRow;
  gallery: Gallery;
  tracker: Tracker;
  priority: 'high' | 'normal';
  /** Whether pose (hands, facing) runs on the frames of this capture. */
  pose: boolean;
  ledger: CaptureLedgerRun;
}

export interface ProcessorDeps {
  repo: AttendanceRepository;
  db: Db;
  rows: AttendanceRows;
  academics: AcademicsService;
  faces: FacesService;
  vision: Vision;
  blobs: BlobStore;
  config: Config;
  logger: Logger;
  /** The prediction ledger every analysed frame is written to. */
  ledger: CaptureLedger;
  /** Told after every change a watcher should see (progress, rows). */
  changed: (capture: CaptureRow, what: 'progress' | 'rows' | 'status') => void;
}

const EVIDENCE_SIDE = 256;
/** Longest side of the frames sampled from a video. */
const VIDEO_FRAME_SIDE = 1280;

export const galleryName = (offeringId: string) => `offering:${offeringId}`;

/** A frame decoded once to pixels, so that many crops do not decode it many times. */
export interface DecodedFrame {
  data: Buffer;
  info: { width: number; height: number; channels: 1 | 2 | 3 | 4 };
}

export async function decodeFrame(jpeg: Buffer): Promise<DecodedFrame> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { data, info: { width: info.width, height: info.height, channels: info.channels } };
}

/** A face crop for evidence and review: the box with a margin, at most 256 px. */
export async function cropFace(
  frame: Buffer | DecodedFrame,
  box: Box,
  size: { width: number; height: number },
): Promise<Buffer> {
  const [x, y, w, h] = box;
  const m = 0.35;
  const left = Math.max(0, Math.floor(x - w * m));
  const top = Math.max(0, Math.floor(y - h * m));
  const right = Math.min(size.width, Math.ceil(x + w * (1 + m)));
  const bottom = Math.min(size.height, Math.ceil(y + h * (1 + m)));
  const img = Buffer.isBuffer(frame) ? sharp(frame) : sharp(frame.data, { raw: frame.info });
  return img
    .extract({ left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) })
    .resize(EVIDENCE_SIDE, EVIDENCE_SIDE, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 88 })
    .toBuffer();
}

/** Which person (pose) a face belongs to: the person box that holds the face centre, nearest the top. */
function personOf(face: Box, people: DetectedPerson[]): DetectedPerson | null {
  const cx = face[0] + face[2] / 2;
  const cy = face[1] + face[3] / 2;
  let best: DetectedPerson | null = null;
  let bestD = Infinity;
  for (const p of people) {
    const [x, y, w, h] = p.box;
    if (cx < x || cx > x + w || cy < y - face[3] || cy > y + h) continue;
    const nose = p.keypoints.find((k) => k.part === 'nose' && k.score > 0.2);
    const d = nose ? Math.hypot(nose.position[0] - cx, nose.position[1] - cy) : Math.abs(y - cy) + face[3];
    if (d < bestD) {
      bestD = d;
      best = p;
    }
  }
  return best && bestD < Math.max(face[2], face[3]) * 2.5 ? best : null;
}

/** Not facing the front from the face itself when the pose says nothing. */
function facingOfFace(f: { quality: { pose: { yaw: number } } }): string | null {
  const yaw = f.quality.pose.yaw;
  if (yaw > 0.55) return 'right';
  if (yaw < -0.55) return 'left';
  return 'camera';
}

/**
 * Turns a capture into observations. Each frame: detect faces; continue tracks; match the faces
 * of new or unconfirmed tracks against the gallery of the offering's enrolled students; find
 * hands and facing from pose; write the frame and its observations in one transaction. Frames
 * already written by an earlier run are skipped, so a retried or taken-over job picks up where
 * the last one stopped and never writes a row twice.
 */
export class CaptureProcessor {
  constructor(private readonly d: ProcessorDeps) {}

  /** The queue handler of CAPTURE_QUEUE. */
  async handle(job: RunningJob<CaptureJob>): Promise<void> {
    const { repo } = this.d;
    const c = await repo.findCapture(job.data.captureId);
    if (!c || c.status === 'done' || c.status === 'failed') return;
    if (!(await repo.startCapture(c.id, Date.now()))) return;
    const started = (await repo.findCapture(c.id))!;
    this.d.changed(started, 'status');
    try {
      await this.process(started, job.signal);
    } catch (err) {
      if (job.signal.aborted) throw err;
      const permanent = err instanceof PermanentJobError || (err instanceof AppError && err.status < 500);
      const reason = describe(err);
      if (permanent || job.lastAttempt) {
        await this.fail(started, reason.code, reason.message);
        throw new PermanentJobError(reason.message, reason.code);
      }
      this.d.logger.warn({ err, captureId: c.id, attempt: job.attempt }, 'capture failed; it will be retried');
      await repo.updateCapture(c.id, { status: 'queued', error_code: reason.code, error: reason.message });
      this.d.changed((await repo.findCapture(c.id))!, 'status');
      throw err;
    }
  }

  /** Marks a capture failed for good (also when its workers kept dying). */
  async fail(c: CaptureRow, code: string, message: string): Promise<void> {
    await this.d.repo.updateCapture(c.id, {
      status: 'failed',
      error_code: code.slice(0, 64),
      error: message.slice(0, 1000),
      finished_at: Date.now(),
    });
    await this.d.ledger.close(c, { status: 'failed', error: message });
    const row = await this.d.repo.findCapture(c.id);
    if (row) this.d.changed(row, 'status');
  }

  private async begin(c: CaptureRow, priority: Run['priority']): Promise<Run> {
    const session = await this.d.academics.findSession(c.session_id);
    if (!session) throw new PermanentJobError('The class session no longer exists', 'session_gone');
    const students = await this.d.academics.listEnrolledStudents(c.offering_id);
    const gallery = await this.d.faces.galleries.forUsers(
      galleryName(c.offering_id),
      students.map((s) => s.student_id),
    );
    const ledger = await this.d.ledger.open(c, galleryName(c.offering_id), VIDEO_FRAME_SIDE);
    return { capture: c, session, gallery, tracker: new Tracker(), priority, pose: true, ledger };
  }

  async process(c: CaptureRow, signal: AbortSignal): Promise<void> {
    const run = await this.begin(c, 'normal');
    if (c.kind === 'video') await this.video(run, signal);
    else await this.still(run);
    if ((await this.d.repo.countObservations(c.id)) === 0) {
      // Most likely the wrong file or a camera pointed elsewhere: said plainly, not a silent zero.
      throw new PermanentJobError(
        c.kind === 'video' ? 'No faces were seen anywhere in the video' : 'No faces were found in the photo',
        'no_faces',
      );
    }
    await this.finish(run);
  }

  /**
   * One live frame (webcam or IP camera), analysed now rather than queued: the teacher's screen
   * waits for its boxes. Consecutive frames of a session share a tracker, like a video.
   */
  async processLive(c: CaptureRow, tracker: Tracker, frameNo: number): Promise<FrameResult> {
    await this.d.repo.startCapture(c.id, Date.now());
    const run = { ...(await this.begin(c, 'high')), tracker };
    const jpeg = await this.d.blobs.getBuffer(c.blob_id!);
    const meta = await sharp(jpeg).metadata();
    const frame = await this.analyze(run, { index: 0, offsetMs: 0, jpeg, trackerFrame: frameNo }, true);
    await this.writeFrame(
      run,
      frame,
      { blobId: c.blob_id!, sha256: sha256(jpeg) },
      { width: meta.width ?? 0, height: meta.height ?? 0 },
    );
    tracker.prune(frameNo);
    await this.finish(run);
    return frame;
  }

  private async still(run: Run): Promise<void> {
    const c = run.capture;
    if (!c.blob_id) throw new PermanentJobError('The photo was deleted before it was analysed', 'capture_purged');
    const jpeg = await this.d.blobs.getBuffer(c.blob_id);
    if (Number(c.frames_done) > 0) return;
    const frame = await this.analyze(run, { index: 0, offsetMs: 0, jpeg, trackerFrame: 0 }, true);
    await this.writeFrame(
      run,
      frame,
      { blobId: c.blob_id, sha256: sha256(jpeg) },
      { width: frame.width, height: frame.height },
    );
  }

  private async video(run: Run, signal: AbortSignal): Promise<void> {
    const c = run.capture;
    const cfg = this.d.config.attendance;
    if (!c.blob_id) throw new PermanentJobError('The video was deleted before it was analysed', 'capture_purged');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-video-'));
    const file = path.join(dir, 'input');
    try {
      // Streamed to disk, never held in memory: MP4 and MOV need a seekable file.
      await pipeline(await this.d.blobs.get(c.blob_id), fs.createWriteStream(file));
      const info = await probeVideo(file);
      if (info.durationMs > cfg.videoMaxDurationMs) {
        throw new PermanentJobError(
          `The video lasts ${Math.round(info.durationMs / 60_000)} min; at most ${Math.round(cfg.videoMaxDurationMs / 60_000)} min can be analysed`,
          'video_too_long',
        );
      }
      await this.d.repo.updateCapture(c.id, { duration_ms: info.durationMs, width: info.width, height: info.height });
      const start = Number(c.frames_done);
      if (start > 0) {
        // A resumed job: the tracks of the last frames written carry on.
        run.tracker.restore(await this.d.repo.listObservationsOfFrames(c.id, Math.max(0, start - 3), start - 1));
      }
      const frames = sampleFrames(file, {
        maxIntervalMs: cfg.sampleMaxIntervalMs,
        minIntervalMs: cfg.sampleMinIntervalMs,
        sceneThreshold: cfg.sceneThreshold,
        maxSide: VIDEO_FRAME_SIDE,
        startIndex: start,
        signal,
      });
      // Detection of the next frames runs while this one is tracked and written: the pool has
      // one worker per core, and tracking only needs the frames in order.
      const ahead = Math.max(1, this.d.vision.pool.size);
      const pending: {
        frame: { index: number; offsetMs: number; jpeg: Buffer };
        detected: Promise<Detected>;
        still: boolean;
      }[] = [];
      let lastProgress = 0;
      let last: { thumb: Buffer; offsetMs: number; detected: Promise<Detected> } | null = null;
      const step = async () => {
        const p = pending.shift()!;
        const det = await p.detected;
        const result = await this.track(run, p.frame, det, det.embedded, p.frame.index, p.still);
        const blob = await this.d.blobs.put(p.frame.jpeg, { contentType: 'image/jpeg' });
        const wrote = await this.writeFrame(
          run,
          result,
          { blobId: blob.id, sha256: blob.sha256 },
          { width: det.width, height: det.height },
        );
        if (!wrote) await this.d.blobs.delete(blob.id).catch(() => {});
        const now = Date.now();
        if (now - lastProgress > 1000) {
          lastProgress = now;
          const progress =
            info.durationMs > 0 ? Math.min(99, Math.floor((p.frame.offsetMs / info.durationMs) * 100)) : 50;
          await this.d.repo.updateCapture(c.id, { progress });
          this.d.changed({ ...run.capture, progress, frames_done: p.frame.index + 1 }, 'progress');
        }
      };
      for await (const frame of frames) {
        if (signal.aborted) break;
        const thumb = await stillThumb(frame.jpeg);
        // A frame no different from the last one analysed (a still room between two scene
        // changes) shows the same faces in the same places: the last detections stand for it.
        const still: boolean = !!last && cfg.stillDiff > 0 && meanAbsDiff(thumb, last.thumb) < cfg.stillDiff;
        // A frame taken for a scene change rather than the interval probably shows someone new:
        // embedding it at once saves detecting it twice.
        const changed = !!last && frame.offsetMs - last.offsetMs < cfg.sampleMaxIntervalMs - 150;
        const detected: Promise<Detected> =
          still && last ? last.detected : this.detect(run, frame.jpeg, !last || changed);
        pending.push({ frame, detected, still });
        last = { thumb, offsetMs: frame.offsetMs, detected };
        if (pending.length >= ahead) await step();
      }
      while (pending.length) await step();
      if (signal.aborted) throw new AppError('aborted', 503, 'Stopped by shutdown');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Faces (with descriptors when `embed`) and poses of a frame, on the worker pool. */
  private async detect(run: Run, jpeg: Buffer, embed = false): Promise<Detected> {
    const engine = this.d.vision.engine;
    const pose = run.pose ? engine.detectPose(jpeg) : Promise.resolve({ people: [] as DetectedPerson[] });
    if (embed) {
      const [faces, p] = await Promise.all([timed(engine.embedFaces(jpeg, { priority: run.priority })), pose]);
      return {
        width: faces.size.width,
        height: faces.size.height,
        faces: faces.faces,
        people: p.people,
        embedded: faces.faces,
        ms: faces.ms,
      };
    }
    const [faces, p] = await Promise.all([timed(engine.detectFaces(jpeg, { priority: run.priority })), pose]);
    return { width: faces.size.width, height: faces.size.height, faces: faces.faces, people: p.people, ms: faces.ms };
  }

  /**
   * A frame of a single image: every face embedded and matched at once (a photo has no
   * neighbouring frames to lend identities).
   */
  private async analyze(
    run: Run,
    frame: { index: number; offsetMs: number; jpeg: Buffer; trackerFrame: number },
    embedAll: boolean,
  ): Promise<FrameResult> {
    const engine = this.d.vision.engine;
    const [emb, pose] = await Promise.all([
      timed(engine.embedFaces(frame.jpeg, { priority: run.priority })),
      run.pose ? engine.detectPose(frame.jpeg) : Promise.resolve({ people: [] as DetectedPerson[] }),
    ]);
    const det: Detected = {
      width: emb.size.width,
      height: emb.size.height,
      faces: emb.faces,
      people: pose.people,
      ms: emb.ms,
    };
    return this.track(run, { ...frame, index: frame.index }, det, embedAll ? emb.faces : undefined, frame.trackerFrame);
  }

  /**
   * Continues tracks with the faces of a frame, embeds what needs an identity, and resolves who
   * everyone is. `embedded` are the frame's faces with descriptors when they are already known.
   */
  private async track(
    run: Run,
    frame: { index: number; offsetMs: number; jpeg: Buffer },
    det: Detected,
    embedded?: EmbeddedFace[],
    trackerFrame = frame.index,
    still = false,
  ): Promise<FrameResult> {
    const t0 = performance.now();
    const { tracker, gallery } = run;
    const boxes = det.faces.map((f) => f.box);
    const assoc = tracker.associate(trackerFrame, boxes);
    // A still frame carries the last frame's identities over: nothing new to match.
    const need = assoc.map((a) => !still && tracker.needsEmbedding(a.trackNo, trackerFrame));
    if (still) embedded = undefined;
    let descriptors: (EmbeddedFace | null)[] = det.faces.map(() => null);
    if (embedded) {
      descriptors = embedded;
    } else if (need.some(Boolean)) {
      // Detection found a face that needs an identity: the frame is embedded once more. Frames
      // whose faces all continue identified tracks (most of a class) skip descriptors entirely.
      descriptors = await this.embedFrame(run, frame.jpeg, boxes);
    }
    // One matching pass over every face that has a descriptor: a person appears once per frame.
    const toMatch = descriptors
      .map((d, i) => ({ d, i }))
      .filter((x): x is { d: EmbeddedFace; i: number } => x.d !== null && (embedded !== undefined || need[x.i]));
    const matches = new Map<number, FaceMatch>();
    if (toMatch.length && gallery.size > 0) {
      const ms = gallery.matchMany(
        toMatch.map((x) => x.d.descriptor),
        { threshold: this.d.config.faces.matchThreshold, margin: this.d.config.faces.matchMargin },
      );
      toMatch.forEach((x, k) => matches.set(x.i, ms[k]));
    } else {
      for (const x of toMatch) matches.set(x.i, unknownMatch());
    }
    for (const [i, m] of matches) {
      tracker.vote(
        assoc[i].trackNo,
        trackerFrame,
        {
          studentId: m.known ? m.identity : null,
          confidence: m.confidence,
          distance: Number.isFinite(m.distance) ? m.distance : null,
        },
        m.nearest && Number.isFinite(m.distance) ? { studentId: m.nearest, distance: m.distance } : null,
      );
    }
    const faces: FaceResult[] = det.faces.map((f, i) => {
      const id = tracker.identity(assoc[i].trackNo);
      const m = matches.get(i);
      const person = personOf(f.box, det.people);
      return {
        faceIndex: i,
        box: f.box,
        trackId: assoc[i].trackNo,
        studentId: id?.studentId ?? null,
        confidence: round3(id ? id.confidence : m ? m.confidence : 0),
        distance: m && Number.isFinite(m.distance) ? round3(m.distance) : (id?.distance ?? null),
        identified: m !== undefined,
        quality: f.quality.score,
        handRaised: person?.handRaised ?? false,
        facing: person && person.facing !== 'unknown' ? person.facing : facingOfFace(f),
      };
    });
    // Two tracks claiming one student in the same frame: the more confident keeps the name.
    const byStudent = new Map<string, FaceResult>();
    for (const f of faces) {
      if (!f.studentId) continue;
      const other = byStudent.get(f.studentId);
      if (!other) byStudent.set(f.studentId, f);
      else if (f.confidence > other.confidence) {
        other.studentId = null;
        byStudent.set(f.studentId, f);
      } else f.studentId = null;
    }
    const prediction: FramePrediction | null = still
      ? null
      : {
          identified: embedded ? 'all' : 'new-tracks',
          durationMs: det.ms + (performance.now() - t0),
          output: {
            size: { width: det.width, height: det.height },
            gallery: galleryName(run.capture.offering_id),
            faces: det.faces.map((f, i) => ({
              box: f.box,
              score: f.score,
              quality: f.quality.score,
              track: assoc[i].trackNo,
              match: matches.get(i) ?? null,
              studentId: faces[i].studentId,
            })),
          },
        };
    return {
      index: frame.index,
      offsetMs: frame.offsetMs,
      at: Number(run.capture.captured_at) + frame.offsetMs,
      width: det.width,
      height: det.height,
      faces,
      people: det.people.length,
      prediction,
    };
  }

  /** Descriptors for the detected boxes, from one embedding pass over the whole frame. */
  private async embedFrame(run: Run, jpeg: Buffer, boxes: Box[]): Promise<(EmbeddedFace | null)[]> {
    const { faces } = await this.d.vision.engine.embedFaces(jpeg, { priority: run.priority });
    return boxes.map((b) => {
      let best: EmbeddedFace | null = null;
      let bestIou = 0.5;
      for (const f of faces) {
        const v = iou(b, f.box);
        if (v > bestIou) {
          bestIou = v;
          best = f;
        }
      }
      return best;
    });
  }

  /**
   * Writes a frame, its observations and its ledger row in one transaction; false when an earlier
   * run already wrote it, and then none of them is written again. `input` is the image the model
   * saw: the photo or live frame itself, or the JPEG sampled from a video (the frame's blob).
   */
  private async writeFrame(
    run: Run,
    frame: FrameResult,
    input: { blobId: string; sha256: string },
    size: { width: number; height: number },
  ): Promise<boolean> {
    const c = run.capture;
    const rows: Insertable<ObservationsTable>[] = frame.faces.map((f) => ({
      id: newId(),
      capture_id: c.id,
      session_id: c.session_id,
      frame_index: frame.index,
      face_index: f.faceIndex,
      track_id: f.trackId,
      at: frame.at,
      box: JSON.stringify(f.box),
      student_id: f.studentId,
      distance: f.distance,
      confidence: f.confidence,
      quality: f.quality,
      identified: f.identified ? 1 : 0,
      hand_raised: f.handRaised ? 1 : 0,
      facing: f.facing,
      crop_blob_id: null,
    }));
    return this.d.db.kysely.transaction().execute(async (trx) => {
      const repo = this.d.repo.withExecutor(trx);
      const fresh = await repo.insertFrameIfAbsent({
        id: newId(),
        capture_id: c.id,
        frame_index: frame.index,
        offset_ms: frame.offsetMs,
        at: frame.at,
        blob_id: input.blobId,
        width: size.width || frame.width,
        height: size.height || frame.height,
        faces: frame.faces.length,
        people: frame.people,
      });
      if (fresh) {
        await repo.insertObservations(rows);
        if (frame.prediction) await this.d.ledger.record(run.ledger, frame, frame.prediction, input, trx);
      }
      await repo.updateCapture(c.id, { frames_done: frame.index + 1 });
      return fresh;
    });
  }

  /**
   * After the last frame: an evidence crop for each track's best face, unknown faces for tracks
   * nobody was matched to, the attendance rows and the actions timeline, and status done.
   */
  private async finish(run: Run): Promise<void> {
    const { repo, blobs } = this.d;
    const c = run.capture;
    // A track is one person: its final identity holds for all its faces, including the early
    // ones taken before it was recognized (far away, turned aside).
    for (const t of run.tracker.all()) {
      const id = run.tracker.identity(t.no);
      if (!id) continue;
      await repo.propagateTrackIdentity(t.no, id.studentId);
      const unknown = await repo.findUnknownFaceByTrack(t.no);
      if (unknown?.status === 'open') {
        await repo.resolveUnknownFace(unknown.id, {
          status: 'assigned',
          student_id: id.studentId,
          resolved_at: Date.now(),
        });
      }
    }
    const observations = await repo.listObservationsOfCapture(c.id);
    const byTrack = new Map<string, typeof observations>();
    for (const o of observations) {
      const list = byTrack.get(o.track_id) ?? [];
      list.push(o);
      byTrack.set(o.track_id, list);
    }
    // One decoded frame at a time (tracks in order of their best frame): a long video's frames
    // are never all held as pixels together.
    let cached: { index: number; frame: { pixels: DecodedFrame; width: number; height: number } | null } | null = null;
    const frameOf = async (index: number) => {
      if (cached?.index !== index) {
        const f = await repo.findFrame(c.id, index);
        const pixels = f?.blob_id ? await decodeFrame(await blobs.getBuffer(f.blob_id)) : null;
        cached = { index, frame: pixels ? { pixels, width: pixels.info.width, height: pixels.info.height } : null };
      }
      return cached.frame;
    };
    const bestOf = (obs: typeof observations) => {
      const known = obs.filter((o) => o.student_id);
      return (known.length ? known : obs).reduce((a, b) => (score(b) > score(a) ? b : a));
    };
    const tracks = [...byTrack].sort((a, b) => bestOf(a[1]).frame_index - bestOf(b[1]).frame_index);
    for (const [trackId, obs] of tracks) {
      const known = obs.filter((o) => o.student_id);
      const best = bestOf(obs);
      let cropId = obs.find((o) => o.crop_blob_id)?.crop_blob_id ?? null;
      if (!cropId) {
        const f = await frameOf(best.frame_index);
        if (f) {
          const blob = await blobs.put(await cropFace(f.pixels, JSON.parse(best.box) as Box, f), {
            contentType: 'image/jpeg',
          });
          await repo.setObservationCrop(best.id, blob.id);
          cropId = blob.id;
        }
      }
      if (!known.length) {
        const track = run.tracker.get(trackId);
        const existing = await repo.findUnknownFaceByTrack(trackId);
        const all = existing ? await repo.listObservationsOfTrack(trackId) : obs;
        await repo.upsertUnknownFace({
          id: newId(),
          session_id: c.session_id,
          capture_id: c.id,
          track_id: trackId,
          first_seen_at: Math.min(...all.map((o) => Number(o.at))),
          last_seen_at: Math.max(...all.map((o) => Number(o.at))),
          observations: all.length,
          box: best.box,
          quality: Number(best.quality),
          crop_blob_id: existing?.crop_blob_id ?? cropId,
          nearest_student_id: track?.nearest?.studentId ?? existing?.nearest_student_id ?? null,
          nearest_distance: track?.nearest ? round3(track.nearest.distance) : (existing?.nearest_distance ?? null),
          student_id: null,
          template_id: null,
          resolved_by: null,
          resolved_at: null,
        });
      }
    }
    await this.d.rows.recompute(c.session_id);
    await this.d.ledger.close(c, { status: 'done' });
    const facesSeen = observations.length;
    const first = c.kind !== 'video' && !c.width ? await repo.findFrame(c.id, 0) : undefined;
    await repo.updateCapture(c.id, {
      status: 'done',
      progress: 100,
      faces_seen: facesSeen,
      finished_at: Date.now(),
      error: null,
      error_code: null,
      ...(first && { width: Number(first.width), height: Number(first.height) }),
    });
    const done = (await repo.findCapture(c.id))!;
    this.d.changed(done, 'rows');
    this.d.changed(done, 'status');
  }
}

interface Detected {
  width: number;
  height: number;
  faces: { box: Box; score: number; quality: { score: number; pose: { yaw: number } } }[];
  people: DetectedPerson[];
  /** The same faces with descriptors, when the frame was embedded outright. */
  embedded?: EmbeddedFace[];
  /** Wall time of the face pass. */
  ms: number;
}

async function timed<T extends object>(p: Promise<T>): Promise<T & { ms: number }> {
  const t0 = performance.now();
  const r = await p;
  return { ...r, ms: performance.now() - t0 };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** 64×36 grey thumbnail: enough to tell a still room from one where something moved. */
async function stillThumb(jpeg: Buffer): Promise<Buffer> {
  return sharp(jpeg).greyscale().resize(64, 36, { fit: 'fill' }).raw().toBuffer();
}

/** Mean absolute difference of two thumbnails, 0–255. */
export function meanAbsDiff(a: Buffer, b: Buffer): number {
  if (a.length !== b.length) return 255;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
const score = (o: { confidence: number; quality: number }) => Number(o.confidence) * 2 + Number(o.quality);

function unknownMatch(): FaceMatch {
  return { identity: 'unknown', known: false, distance: Infinity, confidence: 0, nearest: null, secondDistance: null };
}

function describe(err: unknown): { code: string; message: string } {
  if (err instanceof PermanentJobError) return { code: err.code, message: err.message };
  if (err instanceof AppError) return { code: err.code, message: err.message };
  return { code: 'processing_error', message: err instanceof Error ? err.message : String(err) };
}
