import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../platform/errors.ts';

/**
 * Video for the vision pipeline, through the ffmpeg and ffprobe binaries. Videos are read from a
 * file (an upload is streamed from the blob store to a temporary file first: MP4 and MOV keep
 * their index at the end, which a pipe cannot seek to); frames come out of ffmpeg one JPEG at a
 * time and are handed on as the consumer asks for them, so neither the video nor its frames are
 * ever held in memory as a whole.
 */

export const FFMPEG_BIN = 'ffmpeg';
export const FFPROBE_BIN = 'ffprobe';

export interface VideoInfo {
  durationMs: number;
  width: number;
  height: number;
  codec: string;
  fps: number | null;
}

export interface SampleOptions {
  /** A frame at least this often (ms), whatever the scene does. */
  maxIntervalMs: number;
  /** On a scene change, a frame as soon as this long after the previous one (ms). */
  minIntervalMs: number;
  /** ffmpeg scene score (0..1) counted as a change. */
  sceneThreshold: number;
  /** Frames are scaled down to fit this many pixels on their longer side. */
  maxSide?: number;
  /** Frames before this index are decoded but not returned (a resumed job). */
  startIndex?: number;
  signal?: AbortSignal;
}

export interface SampledFrame {
  index: number;
  /** Position in the video, ms from its start. */
  offsetMs: number;
  jpeg: Buffer;
}

/** Containers the product takes as video, by their first bytes. */
export type VideoContainer = 'mp4' | 'mov' | 'webm' | 'mkv';

/** Recognizes MP4/MOV (ISO base media) and WebM/Matroska from the first 12+ bytes. */
export function sniffVideo(head: Buffer): VideoContainer | null {
  if (head.length >= 12) {
    const box = head.toString('latin1', 4, 8);
    if (box === 'ftyp') return head.toString('latin1', 8, 10) === 'qt' ? 'mov' : 'mp4';
    if (box === 'moov' || box === 'mdat' || box === 'wide' || box === 'free' || box === 'skip') return 'mov';
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) {
    return head.includes(Buffer.from('webm')) ? 'webm' : 'mkv';
  }
  return null;
}

/**
 * Passes a stream through, refusing it with 415 when its first bytes are not a known video
 * container: an upload that is plainly not a video stops before it fills the blob store.
 */
export class VideoSniffer extends Transform {
  private head: Buffer | null = Buffer.alloc(0);
  container: VideoContainer | null = null;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.head === null) return cb(null, chunk);
    this.head = Buffer.concat([this.head, chunk]);
    if (this.head.length < 64) return cb();
    this.decide(cb);
  }

  override _flush(cb: TransformCallback): void {
    if (this.head === null) return cb();
    if (this.head.length === 0) return cb(new AppError('empty_file', 400, 'The video is empty'));
    this.decide(cb);
  }

  private decide(cb: TransformCallback): void {
    const head = this.head!;
    this.container = sniffVideo(head);
    this.head = null;
    if (!this.container) {
      return cb(new AppError('unsupported_video', 415, 'The file is not an MP4, MOV or WebM video'));
    }
    cb(null, head);
  }
}

function videoError(stderr: string[], fallback: string): AppError {
  const text = stderr.join('\n');
  if (
    /Invalid data found|moov atom not found|could not find codec|EBML header parsing failed|Unknown input format/i.test(
      text,
    )
  ) {
    return new AppError('corrupt_video', 422, 'The video cannot be read: it is damaged or not a video');
  }
  if (/no video stream|does not contain any stream|Output file #0 does not contain/i.test(text)) {
    return new AppError('no_video_stream', 422, 'The file holds no video');
  }
  return new AppError('video_failed', 422, `${fallback}: ${stderr.slice(-3).join(' ').slice(0, 300)}`);
}

/** Duration, size and codec of a video file; damaged or non-video files give a 422 with the reason. */
export async function probeVideo(file: string): Promise<VideoInfo> {
  const out: Buffer[] = [];
  const err: string[] = [];
  const child = spawn(
    FFPROBE_BIN,
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '-select_streams', 'v:0', file],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.on('data', (c: Buffer) => out.push(c));
  createInterface({ input: child.stderr }).on('line', (l) => err.push(l));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw new AppError('ffmpeg_missing', 503, 'ffprobe is not installed on this server');
    throw e;
  });
  if (code !== 0) throw videoError(err, 'The video cannot be read');
  let parsed: {
    streams?: { codec_name?: string; width?: number; height?: number; avg_frame_rate?: string; duration?: string }[];
    format?: { duration?: string };
  };
  try {
    parsed = JSON.parse(Buffer.concat(out).toString('utf8'));
  } catch {
    throw new AppError('corrupt_video', 422, 'The video cannot be read');
  }
  const s = parsed.streams?.[0];
  if (!s || !s.width || !s.height) throw new AppError('no_video_stream', 422, 'The file holds no video');
  const duration = Number(parsed.format?.duration ?? s.duration ?? NaN);
  const [num, den] = (s.avg_frame_rate ?? '0/0').split('/').map(Number);
  return {
    durationMs: Number.isFinite(duration) ? Math.round(duration * 1000) : 0,
    width: s.width,
    height: s.height,
    codec: s.codec_name ?? 'unknown',
    fps: den ? num / den : null,
  };
}

/**
 * The ffmpeg `select` expression of adaptive sampling: the first frame; then a frame whenever the
 * scene score passes the threshold, no sooner than the minimum interval after the last one; and
 * in any case one every maximum interval. A still room costs one frame per maximum interval,
 * people coming in are caught within the minimum interval.
 */
export function selectExpression(o: Pick<SampleOptions, 'maxIntervalMs' | 'minIntervalMs' | 'sceneThreshold'>): string {
  const max = (o.maxIntervalMs / 1000).toFixed(3);
  const min = (o.minIntervalMs / 1000).toFixed(3);
  return `isnan(prev_selected_t)+gte(t-prev_selected_t\\,${max})+gt(scene\\,${o.sceneThreshold})*gte(t-prev_selected_t\\,${min})`;
}

/** Frames per second the scene detector looks at; positions are exact to 1/SCENE_FPS s. */
export const SCENE_FPS = 5;

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

/**
 * Samples frames from a video file adaptively (see selectExpression) and yields them as JPEGs
 * with their position in the video. ffmpeg waits while the consumer works on a frame (the pipe
 * fills and blocks it), so memory stays at a few frames whatever the video's length.
 */
export async function* sampleFrames(file: string, opts: SampleOptions): AsyncGenerator<SampledFrame> {
  const maxSide = opts.maxSide ?? 1280;
  const filters = [
    // Scene scores need no more than a few frames a second, and computing them on every decoded
    // frame of a 25–60 fps video is most of the sampling cost.
    `fps=${SCENE_FPS}`,
    `select='${selectExpression(opts)}'`,
    `scale='min(iw,${maxSide})':'min(ih,${maxSide})':force_original_aspect_ratio=decrease`,
    'showinfo',
  ].join(',');
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'info',
    '-threads',
    '0',
    '-i',
    file,
    '-an',
    '-sn',
    '-dn',
    '-vf',
    filters,
    '-fps_mode',
    'vfr',
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
    '-q:v',
    '3',
    'pipe:1',
  ];
  const child = spawn(FFMPEG_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const abort = () => child.kill('SIGKILL');
  opts.signal?.addEventListener('abort', abort, { once: true });

  const times: number[] = [];
  const stderrTail: string[] = [];
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  createInterface({ input: child.stderr }).on('line', (line) => {
    const m = /showinfo.*\bpts_time:\s*(-?[\d.]+)/.exec(line);
    if (m) {
      times.push(Math.max(0, Math.round(Number(m[1]) * 1000)));
      notify();
    } else {
      stderrTail.push(line);
      if (stderrTail.length > 30) stderrTail.shift();
    }
  });
  let spawnError: NodeJS.ErrnoException | null = null;
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (e) => {
      spawnError = e;
      resolve();
    });
    child.once('close', (code) => {
      exitCode = code;
      notify();
      resolve();
    });
  });

  const timeOf = async (i: number): Promise<number> => {
    while (times.length <= i) {
      if (exitCode !== undefined) break;
      await new Promise<void>((r) => (wake = r));
    }
    if (times.length <= i) throw videoError(stderrTail, 'The video ended unexpectedly');
    return times[i];
  };

  let index = 0;
  const start = opts.startIndex ?? 0;
  try {
    let buf: Buffer = Buffer.alloc(0);
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        const s = buf.indexOf(SOI);
        if (s < 0) break;
        const e = buf.indexOf(EOI, s + 2);
        if (e < 0) {
          if (s > 0) buf = buf.subarray(s);
          break;
        }
        const jpeg = Buffer.from(buf.subarray(s, e + 2));
        buf = buf.subarray(e + 2);
        const offsetMs = await timeOf(index);
        if (index >= start) yield { index, offsetMs, jpeg };
        index++;
      }
    }
    await exited;
    if (spawnError) {
      const err = spawnError as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') throw new AppError('ffmpeg_missing', 503, 'ffmpeg is not installed on this server');
      throw err;
    }
    if (opts.signal?.aborted) throw new AppError('aborted', 503, 'Video sampling was stopped');
    if (exitCode !== 0) throw videoError(stderrTail, 'The video could not be decoded');
    if (index === 0) throw new AppError('no_frames', 422, 'The video has no frames that could be decoded');
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    if (exitCode === undefined) child.kill('SIGKILL');
  }
}

/** One frame grabbed from a live stream or a video URL (RTSP, HTTP), as a JPEG. */
export async function grabFrame(url: string, opts: { timeoutMs: number; maxSide?: number }): Promise<Buffer> {
  const rtsp = /^rtsps?:\/\//i.test(url);
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...(rtsp ? ['-rtsp_transport', 'tcp'] : []),
    '-rw_timeout',
    String(opts.timeoutMs * 1000),
    '-i',
    url,
    '-frames:v',
    '1',
    '-vf',
    `scale='min(iw,${opts.maxSide ?? 1920})':'min(ih,${opts.maxSide ?? 1920})':force_original_aspect_ratio=decrease`,
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
    '-q:v',
    '3',
    'pipe:1',
  ];
  const child = spawn(FFMPEG_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: string[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  createInterface({ input: child.stderr }).on('line', (l) => err.push(l));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs + 2000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => clearTimeout(timer));
  const jpeg = Buffer.concat(out);
  if (code !== 0 || jpeg.length === 0) {
    throw new AppError(
      'camera_unreachable',
      502,
      `No frame from the camera: ${err.slice(-2).join(' ') || 'timed out'}`,
    );
  }
  return jpeg;
}
