import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../platform/errors.ts';
import type { PoolEngine } from './pool-engine.ts';
import { Gallery } from './gallery.ts';

/**
 * Identification accuracy on a labelled folder, the layout of the shared test set:
 *   gallery/<identity>/*.jpg   enrollment photos, one folder per person
 *   probes/*                   photos to identify
 *   labels.json                { "probes": { "<file>": ["<identity>" | "unknown", …] } }
 * Labels list who is in a photo, not where, so faces and labels are compared as multisets.
 */

export const UNKNOWN_LABEL = 'unknown';
const IMAGE_EXT = /\.(jpe?g|png|webp|gif|tiff?|avif|heic|heif)$/i;

export interface EvalOptions {
  galleryDir: string;
  probesDir: string;
  labelsFile: string;
  threshold: number;
  margin: number;
  onProgress?: (line: string) => void;
}

export interface ProbeResult {
  file: string;
  labels: string[];
  /** Per face found: the decision, the distance to the nearest identity, and that identity. */
  predicted: { identity: string; distance: number; nearest: string | null; box: [number, number, number, number] }[];
  correct: number;
  falseAccepts: number;
  unknownRejected: number;
  ms: number;
}

export interface EvalReport {
  top1: number;
  knownFaces: number;
  unknownRejected: number;
  unknownFaces: number;
  falseAccepts: number;
  msPerImage: number;
  threshold: number;
  margin: number;
  galleryIdentities: number;
  galleryTemplates: number;
  galleryProblems: string[];
  probes: ProbeResult[];
}

/** Reads labels.json: `{ probes: { file: [..] } }` or a flat `{ file: [..] }`; a lone string is one label. */
export async function readLabels(file: string): Promise<Map<string, string[]>> {
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new AppError('invalid_labels', 400, `Cannot read labels from ${file}: ${(err as Error).message}`);
  }
  const root = (json as { probes?: unknown })?.probes ?? json;
  if (!root || typeof root !== 'object' || Array.isArray(root)) {
    throw new AppError('invalid_labels', 400, `${file} must map probe file names to lists of identities`);
  }
  const out = new Map<string, string[]>();
  for (const [name, v] of Object.entries(root as Record<string, unknown>)) {
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
      throw new AppError('invalid_labels', 400, `${file}: the labels of ${name} must be a list of names`);
    }
    out.set(name, list);
  }
  return out;
}

const countBy = (xs: string[]) => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};

/**
 * A private gallery from a folder of `<identity>/*.jpg`, never touching the product's stored
 * templates. Photos without a face are skipped and listed in `problems`.
 */
export async function galleryFromFolder(
  engine: PoolEngine,
  galleryDir: string,
  name: string,
  onProgress?: (line: string) => void,
): Promise<{ gallery: Gallery; problems: string[] }> {
  const identities = (await fs.readdir(galleryDir, { withFileTypes: true })).filter((d) => d.isDirectory());
  if (identities.length === 0) throw new AppError('empty_gallery', 400, `${galleryDir} has no identity folders`);
  let gallery: Gallery | undefined;
  const problems: string[] = [];
  for (const dir of identities) {
    const files = (await fs.readdir(path.join(galleryDir, dir.name))).filter((f) => IMAGE_EXT.test(f)).sort();
    for (const f of files) {
      const { faces } = await engine.embedFaces(await fs.readFile(path.join(galleryDir, dir.name, f)), {
        tiling: 'off',
      });
      // Enrollment photos show one person; the largest face is theirs.
      const face = faces[0];
      if (!face) {
        problems.push(`${dir.name}/${f}: no face`);
        continue;
      }
      gallery ??= new Gallery(name, face.model);
      gallery.add(`${dir.name}/${f}`, dir.name, face.descriptor);
      onProgress?.(`enrolled ${dir.name}/${f}${faces.length > 1 ? ` (largest of ${faces.length} faces)` : ''}`);
    }
  }
  if (!gallery) throw new AppError('empty_gallery', 400, 'No face could be enrolled from the gallery');
  return { gallery, problems };
}

export async function evaluateFaces(engine: PoolEngine, opts: EvalOptions): Promise<EvalReport> {
  const labels = await readLabels(opts.labelsFile);
  const { gallery, problems } = await galleryFromFolder(engine, opts.galleryDir, 'evaluation', opts.onProgress);

  const results: ProbeResult[] = [];
  let totalMs = 0;
  for (const [file, expected] of [...labels.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const full = path.join(opts.probesDir, file);
    const bytes = await fs.readFile(full).catch(() => undefined);
    if (!bytes) {
      problems.push(`${file}: listed in labels but not found in ${opts.probesDir}`);
      continue;
    }
    const t0 = performance.now();
    const { faces } = await engine.embedFaces(bytes);
    const ms = performance.now() - t0;
    totalMs += ms;
    const matches = gallery.matchMany(
      faces.map((f) => f.descriptor),
      { threshold: opts.threshold, margin: opts.margin },
    );
    const predicted = matches.map((m, i) => ({
      identity: m.identity,
      distance: Math.round(m.distance * 1000) / 1000,
      nearest: m.nearest,
      box: faces[i].box,
    }));
    const want = countBy(expected.filter((l) => l !== UNKNOWN_LABEL));
    const got = countBy(predicted.map((p) => p.identity).filter((l) => l !== UNKNOWN_LABEL));
    let correct = 0;
    let falseAccepts = 0;
    for (const [id, n] of got) {
      const ok = Math.min(n, want.get(id) ?? 0);
      correct += ok;
      falseAccepts += n - ok;
    }
    const unknownLabels = expected.filter((l) => l === UNKNOWN_LABEL).length;
    const predictedUnknown = predicted.filter((p) => p.identity === UNKNOWN_LABEL).length;
    const r: ProbeResult = {
      file,
      labels: expected,
      predicted,
      correct,
      falseAccepts,
      unknownRejected: Math.min(unknownLabels, predictedUnknown),
      ms: Math.round(ms),
    };
    results.push(r);
    opts.onProgress?.(
      `${file}: ${predicted.map((p) => `${p.identity} (${p.distance})`).join(', ') || 'no face'}  expected ${expected.join(', ')}`,
    );
  }

  const knownFaces = results.reduce((n, r) => n + r.labels.filter((l) => l !== UNKNOWN_LABEL).length, 0);
  const unknownFaces = results.reduce((n, r) => n + r.labels.filter((l) => l === UNKNOWN_LABEL).length, 0);
  const correct = results.reduce((n, r) => n + r.correct, 0);
  return {
    top1: knownFaces ? correct / knownFaces : 0,
    knownFaces,
    unknownRejected: results.reduce((n, r) => n + r.unknownRejected, 0),
    unknownFaces,
    falseAccepts: results.reduce((n, r) => n + r.falseAccepts, 0),
    msPerImage: results.length ? Math.round(totalMs / results.length) : 0,
    threshold: opts.threshold,
    margin: opts.margin,
    galleryIdentities: gallery.identityCount(),
    galleryTemplates: gallery.size,
    galleryProblems: problems,
    probes: results,
  };
}
