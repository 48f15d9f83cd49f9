import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../config.ts';
import { AppError } from '../platform/errors.ts';
import { grabFrame } from '../vision/video.ts';

export interface CameraOptions {
  session: string;
  /** rtsp://… (a stream) or http(s)://…/snapshot.jpg (a still per request). */
  url: string;
  everyMs: number;
  /** The Aula server, e.g. http://aula.school.example:8000 */
  target: string;
  token: string;
  /** Stop after this many frames (default: run until stopped). */
  count?: number;
  timeoutMs: number;
  /** Give up after this many failed grabs in a row. */
  maxFailures: number;
  signal?: AbortSignal;
}

export interface CameraFrameReport {
  at: string;
  faces: number;
  names: string[];
}

const isImage = (type: string | null) => !!type && /^image\/(jpeg|png|webp)/i.test(type);

/** One still from the camera: an HTTP snapshot when the URL serves an image, else a frame through ffmpeg. */
export async function grabStill(url: string, timeoutMs: number): Promise<Buffer> {
  if (/^https?:\/\//i.test(url)) {
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new AppError('camera_unreachable', 502, `The camera at ${url} does not answer (${(err as Error).message})`);
    }
    if (!res.ok) throw new AppError('camera_unreachable', 502, `The camera answered ${res.status} ${res.statusText}`);
    const type = res.headers.get('content-type');
    if (isImage(type)) return Buffer.from(await res.arrayBuffer());
    // An MJPEG or video URL: ffmpeg takes one frame of it.
    await res.body?.cancel();
  }
  return grabFrame(url, { timeoutMs });
}

async function postFrame(o: CameraOptions, jpeg: Buffer): Promise<CameraFrameReport> {
  const form = new FormData();
  form.set('source', 'camera');
  form.set('frame', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'frame.jpg');
  const res = await fetch(`${o.target.replace(/\/$/, '')}/api/v1/sessions/${encodeURIComponent(o.session)}/frames`, {
    method: 'POST',
    headers: { authorization: `Bearer ${o.token}` },
    body: form,
    signal: AbortSignal.timeout(Math.max(30_000, o.timeoutMs)),
  });
  const body = (await res.json().catch(() => ({}))) as {
    code?: string;
    detail?: string;
    frame?: { at: string; faces: { name: string | null }[] };
  };
  if (!res.ok)
    throw new AppError(body.code ?? 'server_error', res.status, body.detail ?? `The server answered ${res.status}`);
  const faces = body.frame?.faces ?? [];
  return {
    at: body.frame?.at ?? new Date().toISOString(),
    faces: faces.length,
    names: faces.flatMap((f) => (f.name ? [f.name] : [])),
  };
}

/**
 * Pushes a frame every interval until stopped (or `count` frames). A camera that fails to answer
 * is retried at the next interval and given up on after `maxFailures` failures in a row; the
 * server refusing a frame (closed session, revoked token, wrong teacher) stops at once.
 */
export async function runCamera(o: CameraOptions, log: (line: string) => void): Promise<CameraFrameReport[]> {
  const sent: CameraFrameReport[] = [];
  let failures = 0;
  for (let n = 0; o.count === undefined || n < o.count; n++) {
    const t0 = Date.now();
    try {
      const jpeg = await grabStill(o.url, o.timeoutMs);
      const r = await postFrame(o, jpeg);
      failures = 0;
      sent.push(r);
      log(`${r.at}  ${r.faces} face(s)${r.names.length ? `: ${r.names.join(', ')}` : ''}`);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      if (err.code !== 'camera_unreachable' && err.status >= 400 && err.status < 500) throw err;
      failures++;
      log(`frame skipped: ${err.message}`);
      if (failures >= o.maxFailures) {
        throw new AppError(
          'camera_unreachable',
          502,
          `Giving up after ${failures} failed frames in a row: ${err.message}`,
        );
      }
    }
    if (o.count !== undefined && n + 1 >= o.count) break;
    const wait = Math.max(0, o.everyMs - (Date.now() - t0));
    if (o.signal?.aborted) break;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, wait);
      o.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
    if (o.signal?.aborted) break;
  }
  return sent;
}

const cameraUrl = (v: string) => {
  if (!/^(rtsps?|https?):\/\//i.test(v)) throw new InvalidArgumentError('must be an rtsp://, http:// or https:// URL');
  return v;
};

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};

const duration = (v: string) => {
  try {
    return parseDuration(v);
  } catch {
    throw new InvalidArgumentError('must be a duration such as 10s, 500ms or 1m');
  }
};

/** `aula camera`: a fixed room camera (RTSP stream or HTTP snapshot URL) taking attendance. */
export function registerCameraCommand(program: Command): void {
  program
    .command('camera')
    .description('send frames of an IP camera to a class session, every interval, with an API token')
    .requiredOption('--session <id>', 'class session id')
    .requiredOption('--url <url>', 'rtsp://… stream or http://…/snapshot.jpg', cameraUrl)
    .option('--every <duration>', 'interval between frames', duration, 10_000)
    .option('--target <url>', 'the Aula server', 'http://localhost:8000')
    .requiredOption('--token <token>', 'API token with the attendance:capture scope')
    .option('--count <n>', 'stop after n frames', positiveInt)
    .option('--timeout <duration>', 'how long to wait for the camera', duration, 10_000)
    .option('--max-failures <n>', 'give up after this many failed frames in a row', positiveInt, 3)
    .action(
      async (o: {
        session: string;
        url: string;
        every: number;
        target: string;
        token: string;
        count?: number;
        timeout: number;
        maxFailures: number;
      }) => {
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        process.once('SIGTERM', () => abort.abort());
        await runCamera(
          {
            session: o.session,
            url: o.url,
            everyMs: o.every,
            target: o.target,
            token: o.token,
            count: o.count,
            timeoutMs: o.timeout,
            maxFailures: o.maxFailures,
            signal: abort.signal,
          },
          (line) => console.log(line),
        );
      },
    );
}
