import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import { gifBomb, pngBomb, webpBomb } from './image-fixtures.ts';
import { normalizeImage, openImage, probeImage, renderJpeg } from './images.ts';

const DATA = path.resolve(import.meta.dirname, '../../../../shared/data');
const FACE = path.join(DATA, 'faces/gallery/obama/1.jpg');
const MAX_PIXELS = 50_000_000;

async function appError(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('image intake', () => {
  it('accepts a real photo and re-encodes it within the requested sizes', async () => {
    const input = fs.readFileSync(FACE);
    const { info, full, thumb } = await normalizeImage(input, MAX_PIXELS, { full: 512, thumb: 96 });
    expect(info).toEqual({ format: 'jpeg', width: 910, height: 1137 });
    const f = await sharp(full).metadata();
    const t = await sharp(thumb).metadata();
    expect(f).toMatchObject({ format: 'jpeg', height: 512 });
    expect(f.width).toBe(Math.round((910 * 512) / 1137));
    expect(t).toMatchObject({ format: 'jpeg', height: 96 });
  });

  it('refuses an empty file with 400 empty_file', async () => {
    const err = await appError(probeImage(Buffer.alloc(0), MAX_PIXELS));
    expect([err.status, err.code]).toEqual([400, 'empty_file']);
  });

  it('refuses text renamed to .jpg, and SVG, with 415', async () => {
    const text = await appError(normalizeImage(Buffer.from('name,score\nana,10\n'), MAX_PIXELS));
    expect([text.status, text.code]).toEqual([415, 'unsupported_media_type']);
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    const err = await appError(normalizeImage(svg, MAX_PIXELS));
    expect([err.status, err.code]).toEqual([415, 'unsupported_media_type']);
    expect(err.message).toContain('svg');
  });

  it('refuses a truncated JPEG with 400 corrupt_image (failOn "error" includes truncation)', async () => {
    const input = fs.readFileSync(FACE);
    const truncated = input.subarray(0, Math.floor(input.length / 2));
    // The header is intact, so only decoding can notice, and only at a failOn level above 'none'.
    await expect(sharp(truncated, { failOn: 'none' }).jpeg().toBuffer()).resolves.toBeInstanceOf(Buffer);
    await expect(probeImage(truncated, MAX_PIXELS)).resolves.toMatchObject({ width: 910, height: 1137 });
    const err = await appError(normalizeImage(truncated, MAX_PIXELS));
    expect([err.status, err.code]).toEqual([400, 'corrupt_image']);
    expect(err.message).toMatch(/premature end/i);
  });

  it('refuses a damaged header with 400 corrupt_image', async () => {
    const webp = await webpBomb(16384); // 14 bits cannot hold 16384: the header is inconsistent
    const err = await appError(probeImage(webp, MAX_PIXELS));
    expect([err.status, err.code]).toEqual([400, 'corrupt_image']);
  });

  it('refuses a 50,000×50,000 PNG bomb with 413 from its header, and the decoder refuses it too', async () => {
    const bomb = pngBomb(50_000, 50_000);
    expect(bomb.length).toBeLessThan(1024);
    const err = await appError(normalizeImage(bomb, MAX_PIXELS));
    expect([err.status, err.code]).toEqual([413, 'image_too_large']);
    expect(err.message).toContain('50000×50000');
    // Even a caller that skips the probe cannot make the decoder allocate it.
    const direct = await appError(renderJpeg(openImage(bomb, MAX_PIXELS), 256));
    expect([direct.status, direct.code]).toEqual([413, 'image_too_large']);
  });

  it('refuses GIF and WebP headers that claim huge dimensions with 413', async () => {
    const gif = await appError(normalizeImage(gifBomb(), MAX_PIXELS));
    expect([gif.status, gif.code]).toEqual([413, 'image_too_large']);
    expect(gif.message).toContain('65535×65535');
    const webp = await appError(normalizeImage(await webpBomb(10_000), MAX_PIXELS));
    expect([webp.status, webp.code]).toEqual([413, 'image_too_large']);
    expect(webp.message).toContain('10000×10000');
  });

  it('applies EXIF rotation to the dimensions and the pixels', async () => {
    // Stored landscape, left half red and right half blue, tagged "rotate 90° clockwise to view".
    const raw = Buffer.alloc(300 * 100 * 3);
    for (let y = 0; y < 100; y++) {
      for (let x = 0; x < 300; x++) {
        const o = (y * 300 + x) * 3;
        if (x < 150) raw[o] = 255;
        else raw[o + 2] = 255;
      }
    }
    const tagged = await sharp(raw, { raw: { width: 300, height: 100, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(tagged).metadata()).orientation).toBe(6);

    expect(await probeImage(tagged, MAX_PIXELS)).toEqual({ format: 'jpeg', width: 100, height: 300 });
    const { full } = await normalizeImage(tagged, MAX_PIXELS);
    const meta = await sharp(full).metadata();
    expect([meta.width, meta.height]).toEqual([100, 300]);
    expect(meta.orientation ?? 1).toBe(1);
    // Rotating clockwise brings the left (red) half to the top.
    const { data } = await sharp(full).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...data.subarray((y * 100 + x) * 3, (y * 100 + x) * 3 + 3)];
    const [r1, , b1] = at(50, 40);
    const [r2, , b2] = at(50, 260);
    expect(r1).toBeGreaterThan(200);
    expect(b1).toBeLessThan(60);
    expect(b2).toBeGreaterThan(200);
    expect(r2).toBeLessThan(60);
  });
});
