import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { VisionEngine } from '../../vision/engine.ts';
import { FFMPEG_BIN } from '../../vision/video.ts';

/**
 * Synthetic classrooms built from real face photos, for tests and benchmarks: a video in which
 * people sit down at known times, and a still frame holding many students at once. Nothing here
 * runs in production; it lives beside the pipeline it exercises.
 */

/** A square crop centred on the largest face of a photo, the face about 40% of its width. */
export async function faceTile(engine: VisionEngine, photo: Buffer, size: number): Promise<Buffer> {
  const { faces } = await engine.detectFaces(photo, { tiling: 'off', maxFaces: 1 });
  if (!faces.length) throw new Error('no face in the tile photo');
  const [x, y, w, h] = faces[0].box;
  const img = sharp(photo).rotate();
  const meta = await img.metadata();
  const W = meta.autoOrient?.width ?? meta.width ?? 0;
  const H = meta.autoOrient?.height ?? meta.height ?? 0;
  const side = Math.min(Math.round(Math.max(w, h) * 2.5), W, H);
  const cx = x + w / 2;
  const cy = y + h / 2;
  const left = Math.max(0, Math.min(W - side, Math.round(cx - side / 2)));
  const top = Math.max(0, Math.min(H - side, Math.round(cy - side / 2)));
  return sharp(photo)
    .rotate()
    .extract({ left, top, width: side, height: side })
    .resize(size, size)
    .jpeg({ quality: 92 })
    .toBuffer();
}

export interface Entrant {
  /** Who this is (for checking results). */
  identity: string;
  /** The face tile shown (see faceTile). */
  tile: Buffer;
  /** Seconds from the start of the video when the person appears. */
  enterAtS: number;
}

export interface ClassVideoOptions {
  durationS: number;
  width?: number;
  height?: number;
  fps?: number;
  entrants: Entrant[];
  /** Optional backdrop photo, scaled to cover the frame. */
  background?: Buffer;
}

export interface Seat {
  identity: string;
  box: [number, number, number, number];
  enterAtS: number;
}

function run(bin: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const err: string[] = [];
    child.stderr.on('data', (c: Buffer) => {
      err.push(c.toString());
      if (err.length > 40) err.shift();
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${bin} exited with ${code}: ${err.join('').slice(-800)}`)),
    );
  });
}

/** Seats in rows across the frame, one per entrant. */
function seating(n: number, width: number, height: number): { x: number; y: number; size: number }[] {
  const cols = Math.max(1, Math.ceil(Math.sqrt((n * width) / height)));
  const rows = Math.ceil(n / cols);
  const size = Math.floor(Math.min(width / cols, height / rows) * 0.92);
  const gapX = (width - cols * size) / (cols + 1);
  const gapY = (height - rows * size) / (rows + 1);
  return Array.from({ length: n }, (_, i) => {
    const c = i % cols;
    const r = Math.floor(i / cols);
    return { x: Math.round(gapX + c * (size + gapX)), y: Math.round(gapY + r * (size + gapY)), size };
  });
}

/**
 * Encodes an H.264 MP4 of a room in which each entrant appears in their seat at their time and
 * stays. Returns where everyone sits.
 */
export async function buildClassVideo(out: string, o: ClassVideoOptions): Promise<Seat[]> {
  const width = o.width ?? 1280;
  const height = o.height ?? 720;
  const fps = o.fps ?? 25;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-class-'));
  try {
    const seats = seating(o.entrants.length, width, height);
    const bg = o.background
      ? await sharp(o.background)
          .rotate()
          .resize(width, height, { fit: 'cover' })
          .blur(6)
          .modulate({ brightness: 0.8 })
          .png()
          .toBuffer()
      : await sharp({ create: { width, height, channels: 3, background: '#4a5560' } })
          .png()
          .toBuffer();
    fs.writeFileSync(path.join(dir, 'bg.png'), bg);
    const inputs = ['-loop', '1', '-framerate', String(fps), '-i', path.join(dir, 'bg.png')];
    const chain: string[] = [];
    let last = '0:v';
    for (const [i, e] of o.entrants.entries()) {
      const file = path.join(dir, `p${i}.jpg`);
      fs.writeFileSync(file, await sharp(e.tile).resize(seats[i].size, seats[i].size).jpeg({ quality: 92 }).toBuffer());
      // A still photo needs one frame a second: overlay holds it, and decoding 25 copies a
      // second of every face would be most of the encoding time.
      inputs.push('-loop', '1', '-framerate', '1', '-i', file);
      const next = `v${i}`;
      chain.push(`[${last}][${i + 1}:v]overlay=${seats[i].x}:${seats[i].y}:enable='gte(t,${e.enterAtS})'[${next}]`);
      last = next;
    }
    const filter = chain.length ? `${chain.join(';')};[${last}]format=yuv420p[out]` : '[0:v]format=yuv420p[out]';
    await run(FFMPEG_BIN, [
      '-hide_banner',
      '-nostdin',
      '-y',
      ...inputs,
      '-filter_complex',
      filter,
      '-map',
      '[out]',
      '-t',
      String(o.durationS),
      '-r',
      String(fps),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'stillimage',
      '-movflags',
      '+faststart',
      out,
    ]);
    return o.entrants.map((e, i) => ({
      identity: e.identity,
      box: [seats[i].x, seats[i].y, seats[i].size, seats[i].size],
      enterAtS: e.enterAtS,
    }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A still classroom frame: the tiles in rows (repeating when fewer tiles than seats), as a JPEG. */
export async function buildClassFrame(
  tiles: Buffer[],
  seatsWanted: number,
  o: { width?: number; height?: number; background?: Buffer } = {},
): Promise<{ jpeg: Buffer; seats: { tile: number; box: [number, number, number, number] }[] }> {
  const width = o.width ?? 1920;
  const height = o.height ?? 1080;
  const seats = seating(seatsWanted, width, height);
  const base = o.background
    ? sharp(o.background).rotate().resize(width, height, { fit: 'cover' }).blur(6)
    : sharp({ create: { width, height, channels: 3, background: '#4a5560' } });
  const layers = await Promise.all(
    seats.map(async (s, i) => ({
      input: await sharp(tiles[i % tiles.length])
        .resize(s.size, s.size)
        .toBuffer(),
      left: s.x,
      top: s.y,
    })),
  );
  const jpeg = await base.composite(layers).jpeg({ quality: 90 }).toBuffer();
  return {
    jpeg,
    seats: seats.map((s, i) => ({ tile: i % tiles.length, box: [s.x, s.y, s.size, s.size] })),
  };
}
