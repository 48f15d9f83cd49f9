import { randomBytes } from 'node:crypto';
import { AppError } from '../platform/errors.ts';
import { probeImage } from '../platform/images.ts';
import type {
  Box,
  DetectOptions,
  DetectedFace,
  DetectedObject,
  DetectedPerson,
  EmbeddedFace,
  FaceAttributes,
  FaceMatch,
  FaceQuality,
  ImageSize,
  LivenessResult,
  MatchOptions,
  ObjectOptions,
  PoseOptions,
  VisionEngine,
} from './engine.ts';
import { GalleryStore } from './gallery.ts';
import { nms, roundBox, type Tile, tilePlan } from './geometry.ts';
import { FACE_API_VERSION } from './model-files.ts';
import type { Priority, VisionPool } from './pool.ts';
import type { ImageRef } from './protocol.ts';
import type { FaceDetail, RawFace } from './runtime/faces.ts';

/** The embedding model id stored with every template; descriptors of other ids never mix. */
export const FACE_EMBEDDING_MODEL = `face-api/face_recognition@${FACE_API_VERSION}`;

/** SSD MobileNet v1 sees every frame at 512×512. */
const DETECTOR_INPUT = 512;
/** Below this width at detector scale, faces start to be missed: the frame is worth tiling. */
const SMALL_FACE_AT_DETECTOR = 24;
const SSD_MAX_RESULTS = 100;
/** movenet-multipose returns at most this many people per frame. */
const POSE_MAX_PEOPLE = 6;

export interface EngineSettings {
  maxPixels: number;
  detectMinConfidence: number;
  tileSize: number;
  matchThreshold: number;
  matchMargin: number;
}

const clamp01 = (v: number) => Math.max(0, Math.min(1, v));
const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** Summary quality of a face: detector confidence discounted by small size, blur and pose. */
export function qualityOf(score: number, box: Box, d: FaceDetail): FaceQuality {
  const size = Math.round(Math.min(box[2], box[3]));
  const sizeF = clamp01((size - 24) / (96 - 24));
  const sharpF = clamp01(d.sharpness / 60);
  const poseF = 1 - clamp01(Math.max(Math.abs(d.pose.yaw), Math.abs(d.pose.pitch) * 0.8, Math.abs(d.pose.roll) / 45));
  return {
    size,
    sharpness: Math.round(d.sharpness * 10) / 10,
    pose: d.pose,
    score: round3(score * (0.5 + 0.5 * sizeF) * (0.6 + 0.4 * sharpF) * (0.5 + 0.5 * poseF)),
  };
}

/**
 * The engine used by the product: inference on the worker pool, matching in this process (a
 * gallery scan is microseconds; shipping galleries to workers would cost more than it saves).
 */
export class PoolEngine implements VisionEngine {
  readonly galleries = new GalleryStore();

  constructor(
    private readonly pool: VisionPool,
    private readonly settings: EngineSettings,
  ) {}

  private async ref(image: Buffer): Promise<{ ref: ImageRef; size: ImageSize }> {
    const info = await probeImage(image, this.settings.maxPixels);
    return {
      ref: { key: randomBytes(12).toString('hex'), bytes: image },
      size: { width: info.width, height: info.height },
    };
  }

  /** Detector boxes over the whole frame, plus overlapping tiles when the frame needs them. */
  private async rawFaces(ref: ImageRef, size: ImageSize, opts: DetectOptions, priority: Priority): Promise<RawFace[]> {
    const minConfidence = opts.minConfidence ?? this.settings.detectMinConfidence;
    const tiling = opts.tiling ?? 'auto';
    const full = await this.pool.run(
      'faces.detect',
      { image: ref, minConfidence, maxResults: SSD_MAX_RESULTS },
      { priority },
    );
    let faces = full.faces;
    const longSide = Math.max(size.width, size.height);
    if (
      tiling !== 'off' &&
      longSide > this.settings.tileSize * 1.25 &&
      (tiling === 'on' || this.wantsTiles(faces, longSide))
    ) {
      const tiles = tilePlan(size.width, size.height, this.settings.tileSize, 0.25, 16);
      // Faces are seen larger in a tile, so real ones score higher there; a stricter floor keeps
      // texture in crowded backgrounds from turning into faces.
      const tileConfidence = Math.max(minConfidence, 0.5);
      const parts = await Promise.all(
        tiles.map((region) =>
          this.pool.run(
            'faces.detect',
            { image: ref, region, minConfidence: tileConfidence, maxResults: SSD_MAX_RESULTS },
            { priority },
          ),
        ),
      );
      // Every part of the frame was seen again at higher resolution, so a weak whole-frame box
      // that no tile confirmed is a shadow of a neighbouring face or background texture.
      faces = [...faces.filter((f) => f.score >= tileConfidence), ...parts.flatMap((p) => p.faces)];
    }
    faces = nms(faces, 0.35);
    faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
    if (opts.maxFaces !== undefined) faces = faces.slice(0, opts.maxFaces);
    return faces;
  }

  /** A crowd of small faces, or a detector at its result cap, means faces were probably missed. */
  private wantsTiles(faces: RawFace[], longSide: number): boolean {
    if (faces.length >= SSD_MAX_RESULTS * 0.9) return true;
    if (faces.length === 0) return longSide >= this.settings.tileSize * 2;
    const widths = faces.map((f) => f.box[2] * (DETECTOR_INPUT / longSide)).sort((a, b) => a - b);
    return widths[Math.floor(widths.length / 2)] < SMALL_FACE_AT_DETECTOR;
  }

  /** Landmarks and descriptors, spread over the workers in chunks. */
  private async describe(ref: ImageRef, faces: RawFace[], descriptors: boolean, priority: Priority) {
    if (faces.length === 0) return [];
    const chunks = Math.max(1, Math.min(this.pool.size, Math.ceil(faces.length / 4)));
    const per = Math.ceil(faces.length / chunks);
    const parts = await Promise.all(
      Array.from({ length: chunks }, (_, i) => faces.slice(i * per, (i + 1) * per)).map((chunk) =>
        this.pool.run('faces.describe', { image: ref, boxes: chunk.map((f) => f.box), descriptors }, { priority }),
      ),
    );
    const details = parts.flatMap((p) => p.faces);
    return faces.map((f, i) => ({ raw: f, detail: details[i] }));
  }

  async detectFaces(image: Buffer, opts: DetectOptions & { priority?: Priority } = {}) {
    const { ref, size } = await this.ref(image);
    const priority = opts.priority ?? 'normal';
    const raw = await this.rawFaces(ref, size, opts, priority);
    const described = await this.describe(ref, raw, false, priority);
    return { size, faces: described.map(({ raw: r, detail }) => toFace(r, detail)) };
  }

  async embedFaces(image: Buffer, opts: DetectOptions & { priority?: Priority } = {}) {
    const { ref, size } = await this.ref(image);
    const priority = opts.priority ?? 'normal';
    const raw = await this.rawFaces(ref, size, opts, priority);
    const described = await this.describe(ref, raw, true, priority);
    const faces: EmbeddedFace[] = described
      .filter(({ detail }) => detail.descriptor !== null)
      .map(({ raw: r, detail }) => ({
        ...toFace(r, detail),
        descriptor: (detail.descriptor ?? []).map((v) => Math.round(v * 1e6) / 1e6),
        model: FACE_EMBEDDING_MODEL,
      }));
    return { size, faces };
  }

  matchFaces(
    gallery: string,
    descriptors: { descriptor: number[]; model: string }[],
    opts: MatchOptions = {},
  ): FaceMatch[] {
    const g = this.galleries.get(gallery);
    if (!g) throw new AppError('gallery_not_found', 404, `No face gallery named ${gallery}`, { gallery });
    for (const d of descriptors) {
      if (d.model !== g.model) {
        throw new AppError('model_mismatch', 409, `Gallery ${gallery} holds ${g.model} templates, not ${d.model}`);
      }
    }
    return g.matchMany(
      descriptors.map((d) => d.descriptor),
      { threshold: opts.threshold ?? this.settings.matchThreshold, margin: opts.margin ?? this.settings.matchMargin },
    );
  }

  async detectPose(image: Buffer, opts: PoseOptions = {}): Promise<{ size: ImageSize; people: DetectedPerson[] }> {
    const { ref, size } = await this.ref(image);
    const minConfidence = opts.minConfidence ?? 0.2;
    const tiling = opts.tiling ?? 'auto';
    const whole: Tile = { x: 0, y: 0, width: size.width, height: size.height };
    const run = (region: Tile | undefined) =>
      this.pool.run('pose.detect', { image: ref, ...(region && { region }), minConfidence }).then((r) => r.people);
    // The pose model stops at six people per frame: a region that hits the cap is split in four
    // overlapping parts and each part is searched again, down to a useful size.
    const search = async (region: Tile, depth: number, force: boolean): Promise<DetectedPerson[]> => {
      const found = force ? [] : await run(region === whole ? undefined : region);
      const split = tiling !== 'off' && depth < 3 && Math.max(region.width, region.height) > 384;
      if (!split || (!force && found.length < POSE_MAX_PEOPLE)) return found;
      const parts = tilePlan(
        region.width,
        region.height,
        Math.round(Math.max(region.width, region.height) / 2) + 32,
        0.3,
        4,
      );
      const nested = await Promise.all(
        parts.map((t) =>
          search({ x: region.x + t.x, y: region.y + t.y, width: t.width, height: t.height }, depth + 1, false),
        ),
      );
      return [...found, ...nested.flat()];
    };
    const people = nms(await search(whole, 0, tiling === 'on'), 0.6);
    return { size, people: people.map((p) => ({ ...p, box: roundBox(p.box) })) };
  }

  async detectObjects(
    image: Buffer,
    opts: ObjectOptions = {},
  ): Promise<{ size: ImageSize; objects: DetectedObject[] }> {
    const { ref, size } = await this.ref(image);
    const r = await this.pool.run('objects.detect', {
      image: ref,
      minConfidence: opts.minConfidence ?? 0.25,
      maxResults: opts.maxResults ?? 20,
    });
    return { size, objects: r.objects.map((o) => ({ ...o, box: roundBox(o.box) })) };
  }

  async checkLiveness(image: Buffer, opts: { box?: Box; priority?: Priority } = {}): Promise<LivenessResult> {
    const { ref } = await this.ref(image);
    const r = await this.pool.run(
      'liveness.check',
      { image: ref, ...(opts.box && { box: opts.box }) },
      { priority: opts.priority ?? 'normal' },
    );
    return { ...r, box: r.box ? roundBox(r.box) : null };
  }

  async faceAttributes(
    image: Buffer,
    opts: { maxFaces?: number } = {},
  ): Promise<{ size: ImageSize; faces: FaceAttributes[] }> {
    const { ref, size } = await this.ref(image);
    const r = await this.pool.run('faces.attributes', { image: ref, maxFaces: opts.maxFaces ?? 20 });
    return { size, faces: r.faces.map((f) => ({ ...f, box: roundBox(f.box) })) };
  }
}

function toFace(r: RawFace, d: FaceDetail): DetectedFace {
  return {
    box: roundBox(r.box),
    score: round3(r.score),
    landmarks: d.landmarks.map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10]),
    quality: qualityOf(r.score, r.box, d),
  };
}
