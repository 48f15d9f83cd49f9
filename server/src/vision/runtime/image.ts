import sharp from 'sharp';
import { AppError } from '../../platform/errors.ts';
import type { Tf } from './tf.ts';

type Tensor3D = ReturnType<Tf['tensor3d']>;

export interface DecodedImage {
  tensor: Tensor3D;
  /** Size of the original (EXIF-rotated) image. */
  width: number;
  height: number;
  /** Original pixels per decoded pixel (≥ 1: huge images are processed downscaled). */
  scale: number;
}

/**
 * Decodes images for inference and keeps the last few, so the tiles and faces of one request
 * that land on the same worker decode it once.
 */
export class ImageCache {
  private readonly entries = new Map<string, Promise<DecodedImage>>();

  constructor(
    private readonly tf: Tf,
    private readonly maxPixels: number,
    private readonly maxSide: number,
    private readonly capacity = 2,
  ) {}

  get(key: string, bytes: Uint8Array): Promise<DecodedImage> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const p = this.decode(bytes);
    this.entries.set(key, p);
    p.catch(() => this.entries.delete(key));
    while (this.entries.size > this.capacity) {
      const [oldKey, old] = this.entries.entries().next().value as [string, Promise<DecodedImage>];
      this.entries.delete(oldKey);
      void old.then((d) => d.tensor.dispose()).catch(() => {});
    }
    return p;
  }

  private async decode(bytes: Uint8Array): Promise<DecodedImage> {
    const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      const { data, info } = await sharp(input, { limitInputPixels: this.maxPixels, failOn: 'error' })
        .rotate()
        .resize(this.maxSide, this.maxSide, { fit: 'inside', withoutEnlargement: true })
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true });
      const meta = await sharp(input, { limitInputPixels: this.maxPixels }).metadata();
      const width = meta.autoOrient?.width ?? meta.width ?? info.width;
      const height = meta.autoOrient?.height ?? meta.height ?? info.height;
      if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels`);
      const tensor = this.tf.tensor3d(
        new Uint8Array(data.buffer, data.byteOffset, data.length),
        [info.height, info.width, 3],
        'int32',
      );
      return { tensor, width, height, scale: width / info.width };
    } catch (err) {
      throw new AppError(
        'corrupt_image',
        400,
        `The image could not be decoded: ${(err as Error).message.split('\n')[0]}`,
      );
    }
  }

  clear(): void {
    for (const p of this.entries.values()) void p.then((d) => d.tensor.dispose()).catch(() => {});
    this.entries.clear();
  }
}
