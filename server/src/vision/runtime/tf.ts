import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as FaceApiModule from '@vladmandic/face-api';

/**
 * TensorFlow.js set-up for a worker process. Only worker processes import this: it loads
 * native/WASM code and owns a large heap.
 */

const require = createRequire(import.meta.url);

export type FaceApi = typeof FaceApiModule;
/** The full tfjs API (face-api's bundled typings cover only the ops it uses itself). */
export type Tf = typeof TfCore;

export interface TfRuntime {
  faceapi: FaceApi;
  tf: Tf;
  backend: 'tensorflow' | 'wasm';
  wasmDir: string;
}

let runtime: Promise<TfRuntime> | undefined;

/**
 * Picks the back end once per process: the native TensorFlow binding when it is installed (it
 * needs a download at install time, so it is optional), otherwise WASM from the installed
 * package. Nothing is fetched at run time.
 */
export function initTf(preferred: 'auto' | 'wasm' = 'auto'): Promise<TfRuntime> {
  runtime ??= (async () => {
    let native = false;
    if (preferred === 'auto') {
      // A variable module name keeps bundlers and the type checker from requiring the package.
      const nativeName = '@tensorflow/tfjs-node';
      try {
        await import(nativeName);
        native = true;
      } catch {
        native = false;
      }
    }
    // The WASM build of face-api shares @tensorflow/tfjs with human, so both libraries run on
    // one engine and one back end in this process.
    const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    const tf = faceapi.tf as unknown as Tf;
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(p: string): void };
    const wasmDir = `${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`;
    wasm.setWasmPaths(wasmDir);
    registerFileLoader(tf);
    let backend: TfRuntime['backend'] = 'wasm';
    if (native && (await tf.setBackend('tensorflow'))) backend = 'tensorflow';
    else if (!(await tf.setBackend('wasm'))) throw new Error('the TensorFlow WASM back end could not start');
    await tf.ready();
    return { faceapi, tf, backend, wasmDir };
  })();
  return runtime;
}

/**
 * tfjs has no file:// loader outside tfjs-node; human loads its graph models through URLs, and
 * without this it fails silently, leaving models unloaded.
 */
function registerFileLoader(tf: Tf): void {
  tf.io.registerLoadRouter(((url: string | string[]) => {
    const u = Array.isArray(url) ? url[0] : url;
    if (typeof u !== 'string' || !u.startsWith('file://')) return null;
    const file = decodeURIComponent(u.slice('file://'.length));
    return {
      load: async () => {
        const json = JSON.parse(await fs.readFile(file, 'utf8')) as {
          modelTopology?: unknown;
          format?: string;
          generatedBy?: string;
          convertedBy?: string | null;
          signature?: unknown;
          userDefinedMetadata?: Record<string, unknown>;
          modelInitializer?: unknown;
          weightsManifest: { paths: string[]; weights: unknown[] }[];
        };
        const dir = path.dirname(file);
        const specs: unknown[] = [];
        const shards: Buffer[] = [];
        for (const group of json.weightsManifest) {
          specs.push(...group.weights);
          for (const p of group.paths) shards.push(await fs.readFile(path.join(dir, p)));
        }
        const all = Buffer.concat(shards);
        return {
          modelTopology: json.modelTopology as object,
          format: json.format,
          generatedBy: json.generatedBy,
          convertedBy: json.convertedBy ?? undefined,
          signature: json.signature as object,
          userDefinedMetadata: json.userDefinedMetadata,
          modelInitializer: json.modelInitializer as object,
          weightSpecs: specs as never,
          weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        };
      },
    };
  }) as Parameters<Tf['io']['registerLoadRouter']>[0]);
}
