/**
 * The vision engine as the rest of the product sees it. Callers pass encoded image bytes and get
 * plain JSON-able results; where and how the models run (worker processes, which library, which
 * back end) stays behind this interface, so a better model can replace one without touching them.
 */

/** [x, y, width, height] in pixels of the original image (after EXIF rotation). */
export type Box = [number, number, number, number];
export type Point = [number, number];

export interface FaceQuality {
  /** Shorter side of the face box, in pixels of the original image. */
  size: number;
  /** Sharpness: variance of the Laplacian of the face at 112 px, higher is sharper. */
  sharpness: number;
  /** Head pose estimated from landmarks: yaw and pitch in -1..1 (0 = frontal), roll in degrees. */
  pose: { yaw: number; pitch: number; roll: number };
  /** 0..1 summary used to rank faces and gate enrollment. */
  score: number;
}

export interface DetectedFace {
  box: Box;
  /** Detector confidence, 0..1. */
  score: number;
  /** Five points: left eye, right eye, nose tip, left and right mouth corners (image left/right). */
  landmarks: Point[];
  quality: FaceQuality;
}

export interface EmbeddedFace extends DetectedFace {
  descriptor: number[];
  /** name@version of the model that produced the descriptor; only equal ids are comparable. */
  model: string;
}

export interface DetectOptions {
  /** Minimum detector confidence (default from configuration). */
  minConfidence?: number;
  /** 'auto' tiles large frames that hold many small faces; 'on' always tiles; 'off' never. */
  tiling?: 'auto' | 'on' | 'off';
  /** At most this many faces, largest first. */
  maxFaces?: number;
}

export interface FaceMatch {
  /** The matched identity, or 'unknown' beyond the threshold or without a clear margin. */
  identity: string;
  known: boolean;
  /** L2 distance to the nearest template of the returned identity (or the nearest overall when unknown). */
  distance: number;
  /** 0..1: 1 at distance 0, 0.5 at the threshold, 0 at twice the threshold. */
  confidence: number;
  /** The nearest identity regardless of threshold, for diagnostics and evaluation. */
  nearest: string | null;
  /** Distance to the second-best identity (null when the gallery holds one identity). */
  secondDistance: number | null;
}

export interface MatchOptions {
  threshold?: number;
  margin?: number;
}

export interface PoseKeypoint {
  part: string;
  position: Point;
  score: number;
}

export type Facing = 'camera' | 'left' | 'right' | 'away' | 'unknown';

export interface DetectedPerson {
  box: Box;
  score: number;
  keypoints: PoseKeypoint[];
  handRaised: boolean;
  hands: { left: boolean; right: boolean };
  facing: Facing;
  /** Gestures reported by the pose model, e.g. "raise left hand", "i give up". */
  gestures: string[];
}

export interface PoseOptions {
  minConfidence?: number;
  tiling?: 'auto' | 'on' | 'off';
}

export interface DetectedObject {
  label: string;
  classId: number;
  score: number;
  box: Box;
}

export interface ObjectOptions {
  minConfidence?: number;
  maxResults?: number;
}

export interface LivenessResult {
  /** The face that was checked (the largest, or the one at the given box). */
  box: Box | null;
  /** Anti-spoof score: 0..1, high means a real face rather than a photo or a screen. */
  antispoof: number;
  /** Liveness score: 0..1. */
  liveness: number;
}

export interface FaceAttributes {
  box: Box;
  score: number;
  age: number | null;
  gender: 'male' | 'female' | 'unknown';
  genderScore: number | null;
  emotion: { emotion: string; score: number }[];
}

export interface ImageSize {
  width: number;
  height: number;
}

export interface VisionEngine {
  detectFaces(image: Buffer, opts?: DetectOptions): Promise<{ size: ImageSize; faces: DetectedFace[] }>;
  embedFaces(image: Buffer, opts?: DetectOptions): Promise<{ size: ImageSize; faces: EmbeddedFace[] }>;
  matchFaces(gallery: string, descriptors: { descriptor: number[]; model: string }[], opts?: MatchOptions): FaceMatch[];
  detectPose(image: Buffer, opts?: PoseOptions): Promise<{ size: ImageSize; people: DetectedPerson[] }>;
  detectObjects(image: Buffer, opts?: ObjectOptions): Promise<{ size: ImageSize; objects: DetectedObject[] }>;
  checkLiveness(image: Buffer, opts?: { box?: Box }): Promise<LivenessResult>;
  faceAttributes(image: Buffer, opts?: { maxFaces?: number }): Promise<{ size: ImageSize; faces: FaceAttributes[] }>;
}
