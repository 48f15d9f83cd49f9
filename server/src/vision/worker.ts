/**
 * A vision worker process (forked by the pool). It loads every model once, reports which loaded,
 * then answers tasks one at a time: WASM inference uses one core, so one process per core.
 */
import { AppError } from '../platform/errors.ts';
import type { FromWorker, ImageRef, OpName, ToWorker, WorkerOps, WorkerSettings } from './protocol.ts';
import { FaceRuntime } from './runtime/faces.ts';
import { HumanRuntime } from './runtime/human.ts';
import { ImageCache } from './runtime/image.ts';
import type { NetworkStatus } from './runtime/status.ts';
import { initTf } from './runtime/tf.ts';

interface State {
  faces: FaceRuntime;
  human: HumanRuntime;
  images: ImageCache;
  failed: Map<string, string>;
}

let state: State | undefined;
/** Set when the back end itself could not start: every task is answered with this. */
let fatal: string | undefined;
const backlog: Extract<ToWorker, { type: 'task' }>[] = [];
let busy = false;

function send(msg: FromWorker): void {
  process.send?.(msg);
}

async function init(settings: WorkerSettings): Promise<void> {
  const rt = await initTf(settings.backend);
  // The WASM runtime installs a handler that turns any unhandled rejection into a crash, and
  // human leaves stray rejections behind when a model file is missing. A failed model is already
  // reported by name; it must not also take the worker down in a restart loop.
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', (reason) => {
    console.error(`vision worker: unhandled rejection: ${(reason as Error)?.message ?? String(reason)}`);
  });
  const faces = new FaceRuntime(rt, settings.dirs);
  const human = new HumanRuntime(rt, settings.dirs);
  const networks: NetworkStatus[] = [...(await faces.load()), ...(await human.load())];
  const failed = new Map(networks.filter((n) => !n.ok).map((n) => [n.id, n.error ?? 'failed to load']));
  state = { faces, human, images: new ImageCache(rt.tf, settings.maxPixels, settings.maxSide), failed };
  send({ type: 'ready', backend: rt.backend, networks, rssBytes: process.memoryUsage().rss });
  void drain();
}

/** Refuses a task whose network failed to load, naming it, instead of answering "no faces". */
function need(s: State, ...ids: string[]): void {
  for (const id of ids) {
    const err = s.failed.get(id);
    if (err !== undefined) {
      throw new AppError('model_unavailable', 503, `The model ${id} is not loaded: ${err}`, { model: id });
    }
  }
}

const size = (d: { width: number; height: number }) => ({ width: d.width, height: d.height });

async function handle(s: State, op: OpName, rawArgs: unknown): Promise<unknown> {
  const image = (rawArgs as { image: ImageRef }).image;
  const decoded = () => s.images.get(image.key, image.bytes);
  switch (op) {
    case 'faces.detect': {
      const a = rawArgs as WorkerOps['faces.detect']['args'];
      need(s, 'face-api/ssd_mobilenetv1');
      const img = await decoded();
      return { size: size(img), faces: await s.faces.detect(img, a.region, a.minConfidence, a.maxResults) };
    }
    case 'faces.describe': {
      const a = rawArgs as WorkerOps['faces.describe']['args'];
      need(s, 'face-api/face_landmark_68', ...(a.descriptors ? ['face-api/face_recognition'] : []));
      const img = await decoded();
      return { size: size(img), faces: await s.faces.describe(img, a.boxes, a.descriptors) };
    }
    case 'pose.detect': {
      const a = rawArgs as WorkerOps['pose.detect']['args'];
      need(s, 'human/movenet-multipose');
      const img = await decoded();
      return { size: size(img), people: await s.human.pose(img, a.region, a.minConfidence) };
    }
    case 'objects.detect': {
      const a = rawArgs as WorkerOps['objects.detect']['args'];
      need(s, 'human/centernet');
      const img = await decoded();
      return { size: size(img), objects: await s.human.objects(img, a.minConfidence, a.maxResults) };
    }
    case 'liveness.check': {
      const a = rawArgs as WorkerOps['liveness.check']['args'];
      need(s, 'human/blazeface', 'human/antispoof', 'human/liveness');
      return s.human.liveness(await decoded(), a.box);
    }
    case 'faces.attributes': {
      const a = rawArgs as WorkerOps['faces.attributes']['args'];
      need(s, 'human/blazeface', 'human/faceres', 'human/emotion');
      const img = await decoded();
      return { size: size(img), faces: await s.human.attributes(img, a.maxFaces) };
    }
    default: {
      const never: never = op;
      throw new Error(`unknown operation ${String(never)}`);
    }
  }
}

async function drain(): Promise<void> {
  if (fatal !== undefined) {
    for (let task = backlog.shift(); task; task = backlog.shift()) {
      const error = { code: 'model_unavailable', status: 503, message: `The vision back end did not start: ${fatal}` };
      send({ type: 'result', id: task.id, ok: false, error, ms: 0, cpuMs: 0 });
    }
    return;
  }
  if (busy || !state) return;
  busy = true;
  try {
    for (let task = backlog.shift(); task; task = backlog.shift()) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const cpuMs = () => {
        const c = process.cpuUsage(c0);
        return (c.user + c.system) / 1000;
      };
      try {
        const value = await handle(state, task.op, task.args);
        send({ type: 'result', id: task.id, ok: true, value, ms: performance.now() - t0, cpuMs: cpuMs() });
      } catch (err) {
        const e =
          err instanceof AppError
            ? { code: err.code, status: err.status, message: err.message, ...(err.details && { details: err.details }) }
            : { code: 'vision_failed', status: 500, message: (err as Error).message?.split('\n')[0] ?? String(err) };
        send({ type: 'result', id: task.id, ok: false, error: e, ms: performance.now() - t0, cpuMs: cpuMs() });
      }
    }
  } finally {
    busy = false;
  }
}

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'init') {
    init(msg.settings).catch((err: unknown) => {
      // A worker that cannot even start its back end reports every network as failed.
      const message = (err as Error).message?.split('\n')[0] ?? String(err);
      fatal = message;
      send({
        type: 'ready',
        backend: 'none',
        networks: [{ id: 'tensorflow-backend', ok: false, error: message, loadMs: 0 }],
        rssBytes: process.memoryUsage().rss,
      });
      void drain();
    });
  } else if (msg.type === 'task') {
    backlog.push(msg);
    void drain();
  }
});

// The parent going away (even by kill -9) closes the IPC channel: never linger as an orphan.
process.on('disconnect', () => process.exit(0));
