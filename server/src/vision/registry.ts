import { z } from 'zod';
import { AppError } from '../platform/errors.ts';
import type { VisionEngine } from './engine.ts';
import {
  FACE_API_VERSION,
  HUMAN_MODELS_VERSION,
  hashNetworks,
  NETWORKS,
  type NetworkFiles,
  type VisionModelDirs,
} from './model-files.ts';

export type ModelTask =
  | 'face-detection'
  | 'face-embedding'
  | 'face-identification'
  | 'face-attributes'
  | 'object-detection'
  | 'pose'
  | 'liveness'
  | (string & {});

/**
 * One runnable model as users and the prediction ledger see it. `run` receives validated
 * parameters; a new model (another library, ONNX, a remote service) is added by registering a
 * definition, and every caller (the analysis lab, `aula analyze`, the API) picks it up by name.
 */
export interface ModelDefinition<P extends z.ZodType = z.ZodType> {
  name: string;
  task: ModelTask;
  version: string;
  description: string;
  /** The weight files, hashed for traceability; empty for models without local weights. */
  networks: readonly NetworkFiles[];
  /**
   * For weights that are not TensorFlow networks (OCR language data, for example): their sha256,
   * so that every model is listed and recorded with the exact weights it runs.
   */
  weightsSha256?: () => Promise<string>;
  parameters: P;
  run(engine: VisionEngine, image: Buffer, params: z.output<P>): Promise<unknown>;
}

export interface ModelInfo {
  name: string;
  task: ModelTask;
  version: string;
  description: string;
  /** sha256 over the weight files as found on disk; null when they cannot be read. */
  weightsSha256: string | null;
  /** Whether the weights are present and loaded (false also names the problem in `error`). */
  available: boolean;
  error?: string;
  parameters: unknown;
}

export class ModelRegistry {
  private readonly models = new Map<string, ModelDefinition>();
  private readonly hashes = new Map<string, Promise<string | null>>();

  constructor(
    private readonly dirs: VisionModelDirs,
    /** Load failures reported by the workers, by network id. */
    private readonly failedNetworks: () => { id: string; error: string }[] = () => [],
  ) {}

  register<P extends z.ZodType>(def: ModelDefinition<P>): void {
    if (this.models.has(def.name)) throw new Error(`model ${def.name} is already registered`);
    this.models.set(def.name, def);
  }

  names(): string[] {
    return [...this.models.keys()];
  }

  get(name: string): ModelDefinition {
    const m = this.models.get(name);
    if (!m) {
      throw new AppError('unknown_model', 404, `No model named ${name}; available: ${this.names().join(', ')}`, {
        available: this.names(),
      });
    }
    return m;
  }

  /** Weight hash of a model, computed once from the files (and cached). */
  weightsSha256(name: string): Promise<string | null> {
    const def = this.get(name);
    let h = this.hashes.get(name);
    if (!h) {
      h = def.weightsSha256
        ? def.weightsSha256().catch(() => null)
        : def.networks.length
          ? hashNetworks(def.networks, this.dirs).catch(() => null)
          : Promise.resolve(null);
      this.hashes.set(name, h);
      // A missing file may be restored; only successful hashes are kept.
      void h.then((v) => v === null && this.hashes.delete(name));
    }
    return h;
  }

  async info(name: string): Promise<ModelInfo> {
    const def = this.get(name);
    const sha = await this.weightsSha256(name);
    const failed = this.failedNetworks().filter((f) => def.networks.some((n) => n.id === f.id));
    const missing = (def.networks.length > 0 || def.weightsSha256 !== undefined) && sha === null;
    const error = failed.length
      ? failed.map((f) => `${f.id}: ${f.error}`).join('; ')
      : !missing
        ? undefined
        : def.networks.length > 0
          ? `weight files not found in ${def.networks[0].family === 'face-api' ? this.dirs.faceApi : this.dirs.human}`
          : `the weight files of ${def.name} cannot be read`;
    return {
      name: def.name,
      task: def.task,
      version: def.version,
      description: def.description,
      weightsSha256: sha,
      available: error === undefined,
      ...(error !== undefined && { error }),
      parameters: z.toJSONSchema(def.parameters, { io: 'input' }),
    };
  }

  list(): Promise<ModelInfo[]> {
    return Promise.all(this.names().map((n) => this.info(n)));
  }

  /** Validates parameters against the model's schema; unknown or bad ones are a 400. */
  parseParams(name: string, raw: Record<string, unknown>): unknown {
    const parsed = this.get(name).parameters.safeParse(raw);
    if (!parsed.success) {
      throw new AppError(
        'invalid_parameters',
        400,
        parsed.error.issues.map((i) => `${i.path.join('.') || '(parameters)'}: ${i.message}`).join('; '),
        { model: name, errors: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
      );
    }
    return parsed.data;
  }

  async run(engine: VisionEngine, name: string, image: Buffer, raw: Record<string, unknown> = {}): Promise<unknown> {
    const def = this.get(name);
    return def.run(engine, image, this.parseParams(name, raw));
  }
}

const tiling = z.enum(['auto', 'on', 'off']).default('auto').describe('tile large frames with many small faces');

/** The built-in models, with defaults taken from configuration. */
export function registerBuiltInModels(
  registry: ModelRegistry,
  defaults: { detectMinConfidence: number; matchThreshold: number; matchMargin: number },
): void {
  const minConfidence = z
    .number()
    .gt(0)
    .max(1)
    .default(defaults.detectMinConfidence)
    .describe('minimum detector confidence');
  const maxFaces = z.number().int().min(1).max(1000).optional().describe('keep at most this many faces, largest first');
  const faceParams = z.strictObject({ minConfidence, tiling, maxFaces });

  registry.register({
    name: 'face-detection',
    task: 'face-detection',
    version: FACE_API_VERSION,
    description:
      'Faces with boxes, five landmarks, detector score and quality (size, sharpness, pose). SSD MobileNet v1 and 68-point landmarks (face-api); large group photos are tiled.',
    networks: [NETWORKS.ssd, NETWORKS.landmarks],
    parameters: faceParams,
    run: (engine, image, p) =>
      engine.detectFaces(image, {
        minConfidence: p.minConfidence,
        tiling: p.tiling,
        ...(p.maxFaces && { maxFaces: p.maxFaces }),
      }),
  });

  registry.register({
    name: 'face-embedding',
    task: 'face-embedding',
    version: FACE_API_VERSION,
    description: 'Faces with a 128-dimension descriptor each (face-api ResNet-34), comparable by L2 distance.',
    networks: [NETWORKS.ssd, NETWORKS.landmarks, NETWORKS.recognition],
    parameters: faceParams,
    run: (engine, image, p) =>
      engine.embedFaces(image, {
        minConfidence: p.minConfidence,
        tiling: p.tiling,
        ...(p.maxFaces && { maxFaces: p.maxFaces }),
      }),
  });

  registry.register({
    name: 'face-identification',
    task: 'face-identification',
    version: FACE_API_VERSION,
    description:
      'Identifies each face against a named gallery (e.g. "login" or "offering:<id>"): the nearest enrolled person within the distance threshold and margin, otherwise "unknown".',
    networks: [NETWORKS.ssd, NETWORKS.landmarks, NETWORKS.recognition],
    parameters: z.strictObject({
      gallery: z.string().min(1).max(100).describe('gallery name'),
      threshold: z.number().gt(0).max(2).default(defaults.matchThreshold).describe('largest L2 distance accepted'),
      margin: z.number().min(0).max(1).default(defaults.matchMargin).describe('required lead over the second identity'),
      minConfidence,
      tiling,
    }),
    run: async (engine, image, p) => {
      const { size, faces } = await engine.embedFaces(image, { minConfidence: p.minConfidence, tiling: p.tiling });
      const matches = engine.matchFaces(p.gallery, faces, { threshold: p.threshold, margin: p.margin });
      return {
        size,
        gallery: p.gallery,
        faces: faces.map(({ descriptor: _d, ...f }, i) => ({ ...f, match: matches[i] })),
      };
    },
  });

  registry.register({
    name: 'face-attributes',
    task: 'face-attributes',
    version: HUMAN_MODELS_VERSION,
    description: 'Estimated age, gender and facial expression per face (human: BlazeFace, FaceRes, emotion).',
    networks: [NETWORKS.blazeface, NETWORKS.faceres, NETWORKS.emotion],
    parameters: z.strictObject({ maxFaces: z.number().int().min(1).max(100).default(20) }),
    run: (engine, image, p) => engine.faceAttributes(image, { maxFaces: p.maxFaces }),
  });

  registry.register({
    name: 'objects',
    task: 'object-detection',
    version: HUMAN_MODELS_VERSION,
    description: 'The 80 COCO object classes (person, laptop, cup, …) with boxes and scores (human: CenterNet).',
    networks: [NETWORKS.centernet],
    parameters: z.strictObject({
      minConfidence: z.number().gt(0).max(1).default(0.25),
      maxResults: z.number().int().min(1).max(100).default(20),
    }),
    run: (engine, image, p) => engine.detectObjects(image, p),
  });

  registry.register({
    name: 'pose',
    task: 'pose',
    version: HUMAN_MODELS_VERSION,
    description:
      'People with 17 body keypoints, raised hands, where they face, and gestures (human: MoveNet MultiPose; frames with more than six people are tiled).',
    networks: [NETWORKS.movenet],
    parameters: z.strictObject({
      minConfidence: z.number().gt(0).max(1).default(0.2),
      tiling: z.enum(['auto', 'on', 'off']).default('auto'),
    }),
    run: (engine, image, p) => engine.detectPose(image, p),
  });

  registry.register({
    name: 'liveness',
    task: 'liveness',
    version: HUMAN_MODELS_VERSION,
    description:
      'Anti-spoofing (real face versus photo or screen) and liveness scores of the largest face (human: antispoof, liveness).',
    networks: [NETWORKS.blazeface, NETWORKS.antispoof, NETWORKS.liveness],
    parameters: z.strictObject({}),
    run: (engine, image) => engine.checkLiveness(image),
  });
}
