import { createRequire } from 'node:module';
import path from 'node:path';
import type { Config, Human, Result } from '@vladmandic/human';
import type {
  Box,
  DetectedObject,
  DetectedPerson,
  FaceAttributes,
  Facing,
  LivenessResult,
  Point,
  PoseKeypoint,
} from '../engine.ts';
import { expandBox, type Tile } from '../geometry.ts';
import { NETWORKS, type NetworkFiles, type VisionModelDirs } from '../model-files.ts';
import type { DecodedImage } from './image.ts';
import type { NetworkStatus } from './status.ts';
import type { TfRuntime } from './tf.ts';

const require = createRequire(import.meta.url);

type HumanCtor = new (config?: Partial<Config>) => Human;

/** human's exports map hides its WASM build, so it is loaded by path next to the Node build. */
function loadHumanClass(): HumanCtor {
  const dist = path.dirname(require.resolve('@vladmandic/human'));
  return (require(path.join(dist, 'human.node-wasm.js')) as { Human: HumanCtor }).Human;
}

/** The networks this product uses; human names each model after its file. */
const HUMAN_NETWORKS: NetworkFiles[] = [
  NETWORKS.blazeface,
  NETWORKS.faceres,
  NETWORKS.emotion,
  NETWORKS.antispoof,
  NETWORKS.liveness,
  NETWORKS.movenet,
  NETWORKS.centernet,
];

const off = { enabled: false };

/** Every task starts from this and enables only what it needs; human merges configs per call. */
const NOTHING: Partial<Config> = {
  face: {
    enabled: false,
    detector: { enabled: false },
    mesh: off,
    iris: off,
    attention: off,
    description: off,
    emotion: off,
    antispoof: off,
    liveness: off,
    gear: off,
  },
  body: off,
  hand: off,
  object: off,
  gesture: off,
  segmentation: off,
};

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/** human (pose, gestures, COCO objects, anti-spoof, liveness, age/gender/emotion) in a worker. */
export class HumanRuntime {
  private human: Human | undefined;
  private loaded = new Set<string>();

  constructor(
    private readonly rt: TfRuntime,
    private readonly dirs: VisionModelDirs,
  ) {}

  async load(): Promise<NetworkStatus[]> {
    const t0 = Date.now();
    const Ctor = loadHumanClass();
    const base = `file://${this.dirs.human.endsWith('/') ? this.dirs.human : `${this.dirs.human}/`}`;
    const human = new Ctor({
      backend: this.rt.backend,
      wasmPath: this.rt.wasmDir,
      modelBasePath: base,
      debug: false,
      async: true,
      warmup: 'none',
      cacheSensitivity: 0,
      skipAllowed: false,
      validateModels: false,
      filter: { enabled: false },
      face: {
        enabled: true,
        detector: { enabled: true, modelPath: NETWORKS.blazeface.manifest, rotation: false },
        mesh: off,
        iris: off,
        attention: off,
        gear: off,
        description: { enabled: true, modelPath: NETWORKS.faceres.manifest },
        emotion: { enabled: true, modelPath: NETWORKS.emotion.manifest },
        antispoof: { enabled: true, modelPath: NETWORKS.antispoof.manifest },
        liveness: { enabled: true, modelPath: NETWORKS.liveness.manifest },
      },
      body: { enabled: true, modelPath: NETWORKS.movenet.manifest, maxDetected: 6 },
      hand: off,
      object: { enabled: true, modelPath: NETWORKS.centernet.manifest },
      gesture: { enabled: true },
      segmentation: off,
    });
    let failure: string | undefined;
    try {
      await human.init();
      await human.load();
    } catch (err) {
      failure = (err as Error).message.split('\n')[0];
    }
    // human logs and swallows load errors; only its own stats say whether a model is usable.
    const stats = human.models.stats().modelStats;
    const elapsed = Date.now() - t0;
    const out: NetworkStatus[] = [];
    for (const net of HUMAN_NETWORKS) {
      const name = net.manifest.replace(/\.json$/, '');
      const s = stats.find((m) => m.name === name);
      const ok = !!s?.loaded && (s.sizeLoadedWeights ?? 0) > 0;
      if (ok) this.loaded.add(net.id);
      out.push({
        id: net.id,
        ok,
        ...(ok ? {} : { error: failure ?? `model ${net.manifest} did not load from ${this.dirs.human}` }),
        loadMs: elapsed,
      });
    }
    this.human = human;
    return out;
  }

  private async run(img: DecodedImage, region: Tile | undefined, config: Partial<Config>) {
    const human = this.human;
    if (!human) throw new Error('human is not loaded');
    const { tf } = this.rt;
    const s = img.scale;
    const [h, w] = img.tensor.shape;
    let input = img.tensor;
    let ox = 0;
    let oy = 0;
    if (region) {
      ox = clamp(Math.floor(region.x / s), 0, w - 1);
      oy = clamp(Math.floor(region.y / s), 0, h - 1);
      const rw = clamp(Math.round(region.width / s), 1, w - ox);
      const rh = clamp(Math.round(region.height / s), 1, h - oy);
      input = tf.slice3d(img.tensor, [oy, ox, 0], [rh, rw, 3]);
    }
    try {
      // human merges each call's config into its own and keeps it, so every part is set each
      // time: what a task does not name is switched off, not left as the last task had it.
      const merged: Partial<Config> = { ...NOTHING, ...config, face: { ...NOTHING.face, ...config.face } };
      const r = await human.detect(input, merged);
      if (r.error) throw new Error(`human: ${r.error}`);
      const toBox = (b: [number, number, number, number]): Box => [
        (b[0] + ox) * s,
        (b[1] + oy) * s,
        b[2] * s,
        b[3] * s,
      ];
      const toPoint = (p: [number, number, number?]): Point => [(p[0] + ox) * s, (p[1] + oy) * s];
      return { r, toBox, toPoint };
    } finally {
      if (input !== img.tensor) input.dispose();
    }
  }

  async pose(img: DecodedImage, region: Tile | undefined, minConfidence: number): Promise<DetectedPerson[]> {
    const { r, toBox, toPoint } = await this.run(img, region, {
      body: { enabled: true, modelPath: NETWORKS.movenet.manifest, maxDetected: 6, minConfidence },
      gesture: { enabled: true },
    });
    return r.body.map((b, i) => {
      const keypoints: PoseKeypoint[] = b.keypoints.map((k) => ({
        part: k.part,
        position: toPoint(k.position),
        score: round3(k.score),
      }));
      const gestures = gesturesOf(r, i);
      const hands = raisedHands(keypoints, gestures);
      return {
        box: toBox(b.box),
        score: round3(b.score),
        keypoints,
        hands,
        handRaised: hands.left || hands.right,
        facing: facingOf(keypoints),
        gestures,
      };
    });
  }

  async objects(img: DecodedImage, minConfidence: number, maxResults: number): Promise<DetectedObject[]> {
    const { r, toBox } = await this.run(img, undefined, {
      object: {
        enabled: true,
        modelPath: NETWORKS.centernet.manifest,
        minConfidence,
        maxDetected: maxResults,
        iouThreshold: 0.4,
      },
    });
    return r.object.map((o) => ({ label: o.label, classId: o.class, score: round3(o.score), box: toBox(o.box) }));
  }

  /** Anti-spoof and liveness of the face at `box` (a crop around it), or of the largest face. */
  async liveness(img: DecodedImage, box: Box | undefined): Promise<LivenessResult> {
    const region = box ? expandTile(box, img) : undefined;
    const { r, toBox } = await this.run(img, region, {
      face: {
        enabled: true,
        detector: { enabled: true, modelPath: NETWORKS.blazeface.manifest, maxDetected: 3, minConfidence: 0.2 },
        antispoof: { enabled: true, modelPath: NETWORKS.antispoof.manifest },
        liveness: { enabled: true, modelPath: NETWORKS.liveness.manifest },
      },
    });
    const face = [...r.face].sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
    if (!face) return { box: null, antispoof: 0, liveness: 0 };
    return { box: toBox(face.box), antispoof: round3(face.real ?? 0), liveness: round3(face.live ?? 0) };
  }

  async attributes(img: DecodedImage, maxFaces: number): Promise<FaceAttributes[]> {
    const { r, toBox } = await this.run(img, undefined, {
      face: {
        enabled: true,
        detector: { enabled: true, modelPath: NETWORKS.blazeface.manifest, maxDetected: maxFaces, minConfidence: 0.3 },
        description: { enabled: true, modelPath: NETWORKS.faceres.manifest },
        emotion: { enabled: true, modelPath: NETWORKS.emotion.manifest },
      },
    });
    return r.face.map((f) => ({
      box: toBox(f.box),
      score: round3(f.score),
      age: typeof f.age === 'number' ? Math.round(f.age * 10) / 10 : null,
      gender: f.gender ?? 'unknown',
      genderScore: typeof f.genderScore === 'number' ? round3(f.genderScore) : null,
      emotion: (f.emotion ?? []).map((e) => ({ emotion: e.emotion, score: round3(e.score) })),
    }));
  }
}

function expandTile(box: Box, img: DecodedImage): Tile {
  const [x, y, width, height] = expandBox(box, 1.8, img.width, img.height);
  return { x, y, width, height };
}

function gesturesOf(r: Result, body: number): string[] {
  return r.gesture.filter((g) => 'body' in g && g.body === body).map((g) => g.gesture);
}

const SEEN = 0.25;

/**
 * An arm is raised when its wrist (or, when the wrist is hidden, its elbow) is above the
 * shoulder; the model's own gestures count too.
 */
function raisedHands(kp: PoseKeypoint[], gestures: string[]): { left: boolean; right: boolean } {
  const get = (part: string) => kp.find((k) => k.part === part && k.score >= SEEN);
  const arm = (side: 'left' | 'right') => {
    const shoulder = get(`${side}Shoulder`);
    if (!shoulder) return false;
    const wrist = get(`${side}Wrist`);
    if (wrist) return wrist.position[1] < shoulder.position[1];
    const elbow = get(`${side}Elbow`);
    return !!elbow && elbow.position[1] < shoulder.position[1];
  };
  const both = gestures.includes('i give up');
  return {
    left: both || gestures.includes('raise left hand') || arm('left'),
    right: both || gestures.includes('raise right hand') || arm('right'),
  };
}

/** Facing in image terms: 'left' means the person looks toward the left edge of the picture. */
function facingOf(kp: PoseKeypoint[]): Facing {
  const get = (part: string) => kp.find((k) => k.part === part && k.score >= 0.3);
  const nose = get('nose');
  const le = get('leftEye');
  const re = get('rightEye');
  const lear = get('leftEar');
  const rear = get('rightEar');
  if (!nose && !le && !re) return lear || rear || get('leftShoulder') || get('rightShoulder') ? 'away' : 'unknown';
  // A person's left ear shows alone when they turn to their right, which is the picture's left.
  if (lear && !rear && !(le && re)) return 'left';
  if (rear && !lear && !(le && re)) return 'right';
  if (nose && le && re) {
    const eyeSpan = Math.abs(le.position[0] - re.position[0]);
    const mid = (le.position[0] + re.position[0]) / 2;
    const off = eyeSpan > 0 ? (nose.position[0] - mid) / eyeSpan : 0;
    if (off > 0.45) return 'right';
    if (off < -0.45) return 'left';
    return 'camera';
  }
  return 'camera';
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
