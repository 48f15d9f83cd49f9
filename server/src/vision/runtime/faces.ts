import type { Box, Point } from '../engine.ts';
import type { Tile } from '../geometry.ts';
import { NETWORKS, networkDir, type VisionModelDirs } from '../model-files.ts';
import type { DecodedImage } from './image.ts';
import type { NetworkStatus } from './status.ts';
import type { TfRuntime } from './tf.ts';

export interface RawFace {
  box: Box;
  score: number;
}

export interface FaceDetail {
  box: Box;
  landmarks: Point[];
  sharpness: number;
  pose: { yaw: number; pitch: number; roll: number };
  descriptor: number[] | null;
}

type Landmarks68 = { positions: { x: number; y: number }[] };

const mean = (pts: { x: number; y: number }[]) => ({
  x: pts.reduce((s, p) => s + p.x, 0) / pts.length,
  y: pts.reduce((s, p) => s + p.y, 0) / pts.length,
});
const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/** face-api (SSD MobileNet v1, 68-point landmarks, 128-d ResNet descriptor) in a worker. */
export class FaceRuntime {
  constructor(
    private readonly rt: TfRuntime,
    private readonly dirs: VisionModelDirs,
  ) {}

  async load(): Promise<NetworkStatus[]> {
    const { nets } = this.rt.faceapi;
    const plan = [
      [NETWORKS.ssd, nets.ssdMobilenetv1],
      [NETWORKS.landmarks, nets.faceLandmark68Net],
      [NETWORKS.recognition, nets.faceRecognitionNet],
    ] as const;
    const out: NetworkStatus[] = [];
    for (const [net, model] of plan) {
      const t0 = Date.now();
      try {
        await model.loadFromDisk(networkDir(net, this.dirs));
        if (!model.isLoaded) throw new Error('weights did not load');
        out.push({ id: net.id, ok: true, loadMs: Date.now() - t0 });
      } catch (err) {
        out.push({ id: net.id, ok: false, error: (err as Error).message.split('\n')[0], loadMs: Date.now() - t0 });
      }
    }
    return out;
  }

  /** SSD detections in one region (or the whole frame), in original-image pixels. */
  async detect(img: DecodedImage, region: Tile | undefined, minConfidence: number, maxResults: number) {
    const { faceapi, tf } = this.rt;
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
      const dets = await faceapi.detectAllFaces(
        input,
        new faceapi.SsdMobilenetv1Options({ minConfidence, maxResults }),
      );
      return dets.map((d): RawFace => ({
        box: [(d.box.x + ox) * s, (d.box.y + oy) * s, d.box.width * s, d.box.height * s],
        score: d.score,
      }));
    } finally {
      if (input !== img.tensor) input.dispose();
    }
  }

  /**
   * Landmarks, quality measures and (optionally) the descriptor of each given face box. Follows
   * face-api's own pipeline: landmarks on the detection crop, descriptor on the dlib-aligned crop.
   */
  async describe(img: DecodedImage, boxes: Box[], withDescriptor: boolean): Promise<FaceDetail[]> {
    const { faceapi } = this.rt;
    const s = img.scale;
    // The same tensor under face-api's bundled typings.
    const image = img.tensor as unknown as FaceApiTensor;
    const [h, w] = img.tensor.shape;
    const items = await Promise.all(
      boxes.map(async (b) => {
        const rect = new faceapi.Rect(b[0] / s, b[1] / s, b[2] / s, b[3] / s);
        const [crop] = await faceapi.extractFaceTensors(image, [rect]);
        return { b, crop, clipped: rect.clipAtImageBorders(w, h) };
      }),
    );
    const present = items.filter((i) => i.crop !== undefined);
    // One batched pass of the landmark net over every face is cheaper than one pass per face.
    let landmarks: FaceApiLandmarks[] = [];
    try {
      if (present.length) {
        landmarks = (await faceapi.nets.faceLandmark68Net.detectLandmarks(
          present.map((i) => i.crop),
        )) as FaceApiLandmarks[];
      }
    } finally {
      for (const i of present) i.crop.dispose();
    }
    const out: FaceDetail[] = [];
    let k = 0;
    for (const { b, crop, clipped } of items) {
      if (!crop) {
        // A box wholly outside the decoded frame: keep the slot so results stay aligned.
        out.push({ box: b, landmarks: [], sharpness: 0, pose: { yaw: 0, pitch: 0, roll: 0 }, descriptor: null });
        continue;
      }
      const lm = landmarks[k++].shiftBy<FaceApiLandmarks>(clipped.x, clipped.y);
      const detail: FaceDetail = {
        box: b,
        landmarks: fivePoints(lm).map((p): Point => [p.x * s, p.y * s]),
        sharpness: this.sharpness(img, clipped),
        pose: poseOf(lm),
        descriptor: null,
      };
      if (withDescriptor) {
        // Descriptors stay one face at a time: batching them measured slower on WASM.
        const aligned = lm.align(null, { useDlibAlignment: true });
        const [chip] = await faceapi.extractFaceTensors(image, [aligned]);
        try {
          const d = (await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(chip)) as Float32Array;
          detail.descriptor = Array.from(d);
        } finally {
          chip.dispose();
        }
      }
      out.push(detail);
    }
    return out;
  }

  /** Variance of the Laplacian of the grey face at 112×112: low means blurred. */
  private sharpness(img: DecodedImage, r: { x: number; y: number; width: number; height: number }): number {
    const { tf } = this.rt;
    if (r.width < 2 || r.height < 2) return 0;
    const v = tf.tidy(() => {
      const crop = tf.cast(tf.slice3d(img.tensor, [r.y, r.x, 0], [r.height, r.width, 3]), 'float32');
      const small = tf.image.resizeBilinear(crop, [112, 112]);
      const grey = tf.reshape(tf.mean(small, 2), [1, 112, 112, 1]);
      const kernel = tf.tensor4d([0, 1, 0, 1, -4, 1, 0, 1, 0], [3, 3, 1, 1]);
      const lap = tf.conv2d(grey as never, kernel, 1, 'valid');
      return tf.moments(lap).variance;
    });
    const value = v.dataSync()[0];
    v.dispose();
    return value;
  }
}

type FaceApiTensor = Parameters<TfRuntime['faceapi']['extractFaceTensors']>[0];
type FaceApiLandmarks = InstanceType<TfRuntime['faceapi']['FaceLandmarks68']>;

/** Left eye, right eye, nose tip, left and right mouth corners (image left/right). */
function fivePoints(lm: Landmarks68) {
  const p = lm.positions;
  return [mean(p.slice(36, 42)), mean(p.slice(42, 48)), p[30], p[48], p[54]];
}

/**
 * Head pose from landmark geometry. yaw: balance of nose-to-jaw distances (−1..1); pitch: where
 * the nose tip sits between the eyes and the mouth, relative to a frontal face (−1..1); roll:
 * angle of the eye line in degrees.
 */
function poseOf(lm: Landmarks68): FaceDetail['pose'] {
  const p = lm.positions;
  const nose = p[30];
  const a = Math.max(0, nose.x - p[0].x);
  const b = Math.max(0, p[16].x - nose.x);
  const yaw = a + b > 0 ? (b - a) / (a + b) : 0;
  const le = mean(p.slice(36, 42));
  const re = mean(p.slice(42, 48));
  const roll = (Math.atan2(re.y - le.y, re.x - le.x) * 180) / Math.PI;
  const eyes = { x: (le.x + re.x) / 2, y: (le.y + re.y) / 2 };
  const mouth = mean([p[48], p[54]]);
  const span = mouth.y - eyes.y;
  const ratio = span > 0 ? (nose.y - eyes.y) / span : 0.6;
  const pitch = clamp((ratio - 0.6) / 0.4, -1, 1);
  return { yaw: round3(yaw), pitch: round3(pitch), roll: round3(roll) };
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
