import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config.ts';
import { AppError } from '../../platform/errors.ts';
import { galleryFromFolder } from '../../vision/evaluate.ts';
import { createVision, type Vision } from '../../vision/index.ts';
import { addOcrModel } from './ocr-model.ts';

/** One prediction, shaped like a row of the prediction ledger. */
export interface PredictionRecord {
  model: string;
  version: string;
  weightsSha256: string | null;
  params: Record<string, unknown>;
  file: string;
  inputSha256: string;
  ms: number;
  output: unknown;
}

/**
 * Every model the server offers, run by this process's own vision workers, with no database:
 * what `aula analyze` uses without `--server`. Build it once to run several models.
 */
export interface LocalModels {
  vision: Vision;
  close(): Promise<void>;
}

export function createLocalModels(config: Config, opts: { workers?: number } = {}): LocalModels {
  const vision = createVision(config, undefined, opts);
  const ocr = addOcrModel(vision.registry, config);
  return {
    vision,
    close: async () => {
      await ocr.close();
      await vision.close();
    },
  };
}

export interface LocalAnalyzeOptions {
  model: string;
  params: Record<string, unknown>;
  files: string[];
  /**
   * A folder of `<identity>/*.jpg` (the `aula faces eval` layout) enrolled as the gallery that
   * face identification searches; the gallery is named after the folder unless a `gallery`
   * parameter names it.
   */
  galleryDir?: string;
  /** Called once per file, in order, as soon as its prediction is ready. */
  write: (record: PredictionRecord) => void;
  /** Notes that are not results (skipped gallery photos). */
  warn?: (line: string) => void;
}

/** Runs one model over files; the first unreadable file or failed prediction stops the run. */
export async function analyzeLocally(models: LocalModels, o: LocalAnalyzeOptions): Promise<void> {
  const { registry, engine } = models.vision;
  const def = registry.get(o.model);
  let params = o.params;
  let galleryDir: string | undefined;
  if (o.galleryDir !== undefined) {
    galleryDir = path.resolve(o.galleryDir);
    const st = await fs.stat(galleryDir).catch(() => undefined);
    if (!st?.isDirectory()) throw new AppError('not_a_directory', 404, `No folder at ${o.galleryDir}`);
    params = { gallery: path.basename(galleryDir).slice(0, 100), ...params };
  }
  // Bad parameters are refused before any model loads.
  registry.parseParams(def.name, params);
  if (galleryDir !== undefined) {
    const { gallery, problems } = await galleryFromFolder(engine, galleryDir, String(params.gallery));
    engine.galleries.set(gallery);
    for (const p of problems) o.warn?.(`gallery: ${p}`);
  } else if (typeof params.gallery === 'string' && !engine.galleries.get(params.gallery)) {
    throw new AppError(
      'gallery_not_found',
      404,
      `No face gallery named ${params.gallery} here: run with --gallery DIR (DIR/<identity>/*.jpg), or with --server to use the server's galleries`,
    );
  }
  const weightsSha256 = await registry.weightsSha256(def.name);
  for (const file of o.files) {
    const data = await fs.readFile(file).catch(() => {
      throw new AppError('file_not_found', 404, `No file at ${file}`);
    });
    const t0 = performance.now();
    const output = await registry.run(engine, def.name, data, params);
    o.write({
      model: def.name,
      version: def.version,
      weightsSha256,
      params,
      file: path.resolve(file),
      inputSha256: createHash('sha256').update(data).digest('hex'),
      ms: Math.round(performance.now() - t0),
      output,
    });
  }
}
