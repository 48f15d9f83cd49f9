import type { Box, DetectedObject, DetectedPerson, FaceAttributes, ImageSize, LivenessResult } from './engine.ts';
import type { Tile } from './geometry.ts';
import type { VisionModelDirs } from './model-files.ts';
import type { FaceDetail, RawFace } from './runtime/faces.ts';
import type { NetworkStatus } from './runtime/status.ts';

/** Messages between the pool (main process) and a vision worker process. */

export interface WorkerSettings {
  dirs: VisionModelDirs;
  maxPixels: number;
  /** Longest side, in pixels, an image is decoded to for inference. */
  maxSide: number;
  backend: 'auto' | 'wasm';
}

/** An image travels as its encoded bytes with a key; a worker decodes each key once. */
export interface ImageRef {
  key: string;
  bytes: Uint8Array;
}

export interface WorkerOps {
  'faces.detect': {
    args: { image: ImageRef; region?: Tile; minConfidence: number; maxResults: number };
    result: { size: ImageSize; faces: RawFace[] };
  };
  'faces.describe': {
    args: { image: ImageRef; boxes: Box[]; descriptors: boolean };
    result: { size: ImageSize; faces: FaceDetail[] };
  };
  'pose.detect': {
    args: { image: ImageRef; region?: Tile; minConfidence: number };
    result: { size: ImageSize; people: DetectedPerson[] };
  };
  'objects.detect': {
    args: { image: ImageRef; minConfidence: number; maxResults: number };
    result: { size: ImageSize; objects: DetectedObject[] };
  };
  'liveness.check': {
    args: { image: ImageRef; box?: Box };
    result: LivenessResult;
  };
  'faces.attributes': {
    args: { image: ImageRef; maxFaces: number };
    result: { size: ImageSize; faces: FaceAttributes[] };
  };
}

export type OpName = keyof WorkerOps;

export type ToWorker =
  { type: 'init'; settings: WorkerSettings } | { type: 'task'; id: number; op: OpName; args: unknown };

export interface WorkerErrorPayload {
  code: string;
  status: number;
  message: string;
  details?: Record<string, unknown>;
}

export type FromWorker =
  | { type: 'ready'; backend: string; networks: NetworkStatus[]; rssBytes: number }
  | { type: 'result'; id: number; ok: true; value: unknown; ms: number; cpuMs: number }
  | { type: 'result'; id: number; ok: false; error: WorkerErrorPayload; ms: number; cpuMs: number };
