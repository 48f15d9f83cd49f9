import sharp, { type Metadata, type Sharp } from 'sharp';
import { AppError } from './errors.ts';

export interface ImageInfo {
  format: string;
  width: number;
  height: number;
}

const SUPPORTED = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif']);

sharp.cache(false);

const tooLarge = (detail: string) => new AppError('image_too_large', 413, detail);
const isPixelLimit = (err: unknown) => /pixel limit/i.test((err as Error)?.message ?? '');

/**
 * Decodes only the header and refuses what the product will not process: non-images, formats
 * outside the list, and images whose pixel count would exhaust memory when decoded (bombs).
 * A header costs nothing to read whatever it claims, so the pixel limit is checked here on the
 * declared dimensions (with a message that names them) rather than left to the decoder.
 */
export async function probeImage(input: Buffer, maxPixels: number): Promise<ImageInfo> {
  if (input.length === 0) throw new AppError('empty_file', 400, 'The file is empty');
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch (err) {
    if (isPixelLimit(err)) throw tooLarge('The image has more pixels than allowed');
    const message = (err as Error).message ?? '';
    // "corrupt header" means a known format whose header is damaged; anything else is not an image.
    if (/corrupt header/i.test(message)) {
      throw new AppError('corrupt_image', 400, `The image header is damaged: ${message.split('\n')[0]}`);
    }
    throw new AppError('unsupported_media_type', 415, 'The file is not an image in a supported format');
  }
  if (!meta.format || !SUPPORTED.has(meta.format)) {
    throw new AppError('unsupported_media_type', 415, `Unsupported image format ${meta.format ?? 'unknown'}`);
  }
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  if (!width || !height) throw new AppError('corrupt_image', 400, 'The image has no dimensions');
  if (width * height > maxPixels) {
    throw tooLarge(`The image is ${width}×${height}; the limit is ${maxPixels.toLocaleString('en')} pixels`);
  }
  return { format: meta.format, width, height };
}

/** A decoded pipeline with EXIF rotation applied; full decode errors become 400s. */
export function openImage(input: Buffer, maxPixels: number): Sharp {
  return sharp(input, { limitInputPixels: maxPixels, failOn: 'error' }).rotate();
}

export async function renderJpeg(img: Sharp, maxSide: number, quality = 85): Promise<Buffer> {
  try {
    return await img
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality, mozjpeg: false })
      .toBuffer();
  } catch (err) {
    if (isPixelLimit(err)) throw tooLarge('The image has more pixels than allowed');
    // failOn 'error' includes truncation: a cut-off JPEG decodes only at 'none', so it lands here.
    throw new AppError(
      'corrupt_image',
      400,
      `The image could not be decoded: ${(err as Error).message.split('\n')[0]}`,
    );
  }
}

/** Validates, rotates and re-encodes an upload; returns the normalized image and a thumbnail. */
export async function normalizeImage(
  input: Buffer,
  maxPixels: number,
  sizes: { full: number; thumb: number } = { full: 2048, thumb: 256 },
): Promise<{ info: ImageInfo; full: Buffer; thumb: Buffer }> {
  const info = await probeImage(input, maxPixels);
  const full = await renderJpeg(openImage(input, maxPixels), sizes.full, 90);
  const thumb = await renderJpeg(sharp(full), sizes.thumb, 80);
  return { info, full, thumb };
}
