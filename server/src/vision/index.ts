import type { Config } from '../config.ts';
import type { Logger } from '../platform/logger.ts';
import { defaultModelDirs, type VisionModelDirs } from './model-files.ts';
import { PoolEngine } from './pool-engine.ts';
import { VisionPool } from './pool.ts';
import { ModelRegistry, registerBuiltInModels } from './registry.ts';

export type { VisionEngine } from './engine.ts';

/** Everything vision the rest of the product needs, built once per process. */
export interface Vision {
  engine: PoolEngine;
  registry: ModelRegistry;
  pool: VisionPool;
  dirs: VisionModelDirs;
  /** For /health/ready: fails while models load and names any model that failed to load. */
  readiness: { name: string; check(): Promise<void> };
  /** Starts the workers now (servers do this at start-up; otherwise the first task does). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function modelDirs(config: Config): VisionModelDirs {
  const d = defaultModelDirs();
  return { faceApi: config.vision.faceApiModelDir ?? d.faceApi, human: config.vision.humanModelDir ?? d.human };
}

export function createVision(config: Config, logger?: Logger, opts: { workers?: number } = {}): Vision {
  const dirs = modelDirs(config);
  const pool = new VisionPool({
    size: opts.workers ?? config.vision.workers,
    taskTimeoutMs: config.vision.taskTimeoutMs,
    settings: {
      dirs,
      maxPixels: config.imageMaxPixels,
      maxSide: config.vision.maxSide,
      backend: config.vision.backend,
    },
    ...(logger && { logger }),
  });
  const engine = new PoolEngine(pool, {
    maxPixels: config.imageMaxPixels,
    detectMinConfidence: config.vision.detectMinConfidence,
    tileSize: config.vision.tileSize,
    matchThreshold: config.faces.matchThreshold,
    matchMargin: config.faces.matchMargin,
  });
  const registry = new ModelRegistry(dirs, () => pool.status().failed);
  registerBuiltInModels(registry, {
    detectMinConfidence: config.vision.detectMinConfidence,
    matchThreshold: config.faces.matchThreshold,
    matchMargin: config.faces.matchMargin,
  });
  return {
    engine,
    registry,
    pool,
    dirs,
    readiness: {
      name: 'vision',
      check: async () => {
        const s = pool.status();
        // Workers start with the server; a process that never needed them is not unready.
        if (!s.started) return;
        if (s.failed.length) {
          throw new Error(`models failed to load: ${s.failed.map((f) => `${f.id} (${f.error})`).join('; ')}`);
        }
        if (s.ready === 0) throw new Error(s.starting ? 'vision models are loading' : 'no vision worker is running');
      },
    },
    start: () => pool.start(),
    close: () => pool.close(),
  };
}
