import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createWorker, type Worker } from 'tesseract.js';
import { AppError } from '../platform/errors.ts';
import { openImage, probeImage } from '../platform/images.ts';
import type { Box, ImageSize } from './engine.ts';

const require = createRequire(import.meta.url);

/** Languages whose data ships with the product (the @tesseract.js-data packages). */
export const OCR_LANGUAGES = ['eng', 'spa'] as const;
export type OcrLanguage = (typeof OCR_LANGUAGES)[number];
/** What a recognition may ask for: one language or both (either order; the first is preferred). */
export const OCR_LANG_SETS = ['eng', 'spa', 'eng+spa', 'spa+eng'] as const;
export type OcrLangSet = (typeof OCR_LANG_SETS)[number];

/** The LSTM "best_int" data is what tesseract.js uses by default; it is bundled, never downloaded. */
const DATA_VARIANT = '4.0.0_best_int';
const TESSERACT_VERSION = (require('tesseract.js/package.json') as { version: string }).version;
export const OCR_MODEL_VERSION = TESSERACT_VERSION;

export interface OcrLine {
  text: string;
  /** 0..100, as tesseract reports it. */
  confidence: number;
  /** [x, y, width, height] in pixels of the original image (after EXIF rotation). */
  box: Box;
}

export interface OcrResult {
  size: ImageSize;
  lang: OcrLangSet;
  text: string;
  confidence: number;
  lines: OcrLine[];
}

export interface OcrOptions {
  /** Where the language data is kept; filled from the bundled packages on first use. */
  langDir: string;
  maxPixels: number;
  /** Longest side the image is scaled to before recognition. */
  maxSide?: number;
  timeoutMs?: number;
}

function bundledDataFile(lang: OcrLanguage): string {
  const pkg = path.dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`));
  return path.join(pkg, DATA_VARIANT, `${lang}.traineddata.gz`);
}

/**
 * Text recognition with tesseract.js, fully offline: the language data is copied from the bundled
 * packages into one folder (tesseract.js reads every language from a single `langPath`) and the
 * WASM core comes from node_modules. Each language set gets one worker thread, created on first
 * use; calls to a worker are serialized.
 */
export class OcrEngine {
  private readonly workers = new Map<OcrLangSet, Promise<Worker>>();
  private readonly chains = new Map<OcrLangSet, Promise<unknown>>();
  private prepared: Promise<void> | undefined;
  private hash: Promise<string> | undefined;
  private closed = false;

  constructor(private readonly opts: OcrOptions) {}

  get version(): string {
    return OCR_MODEL_VERSION;
  }

  /** The language file of the folder, or null when it is missing (or empty) and will be copied. */
  private async installedDataFile(lang: OcrLanguage): Promise<string | null> {
    const target = path.join(this.opts.langDir, `${lang}.traineddata.gz`);
    const exists = await fs.stat(target).then(
      (s) => s.size > 0,
      () => false,
    );
    return exists ? target : null;
  }

  /** Copies missing language files into the language folder (atomically, so a crash leaves none half-written). */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await fs.mkdir(this.opts.langDir, { recursive: true });
      for (const lang of OCR_LANGUAGES) {
        if (await this.installedDataFile(lang)) continue;
        const target = path.join(this.opts.langDir, `${lang}.traineddata.gz`);
        const tmp = `${target}.${process.pid}.tmp`;
        await fs.copyFile(bundledDataFile(lang), tmp);
        await fs.rename(tmp, target);
      }
    })().catch((err: unknown) => {
      this.prepared = undefined;
      throw new AppError('ocr_unavailable', 503, `OCR language data could not be prepared: ${(err as Error).message}`);
    });
    return this.prepared;
  }

  /**
   * sha256 over the language data files in use, in a fixed order: the OCR model's "weights". A
   * file not yet copied into the folder is hashed where it will be copied from, so listing the
   * model writes nothing.
   */
  weightsSha256(): Promise<string> {
    this.hash ??= (async () => {
      const h = createHash('sha256');
      for (const lang of OCR_LANGUAGES) {
        h.update(`${lang}.traineddata.gz`);
        h.update(await fs.readFile((await this.installedDataFile(lang)) ?? bundledDataFile(lang)));
      }
      return h.digest('hex');
    })().catch((err: unknown) => {
      this.hash = undefined;
      throw err;
    });
    return this.hash;
  }

  private worker(lang: OcrLangSet): Promise<Worker> {
    let w = this.workers.get(lang);
    if (!w) {
      w = (async () => {
        await this.prepare();
        return createWorker(lang.split('+'), 1, {
          langPath: this.opts.langDir,
          gzip: true,
          // Never write a decompressed copy into the working directory.
          cacheMethod: 'none',
          logger: () => {},
          errorHandler: () => {},
        });
      })();
      this.workers.set(lang, w);
      w.catch(() => this.workers.delete(lang));
    }
    return w;
  }

  /** Greyscale PNG for tesseract, small images enlarged (tesseract wants text around 30 px tall). */
  private async prepareImage(image: Buffer): Promise<{ png: Buffer; size: ImageSize; scale: number }> {
    const info = await probeImage(image, this.opts.maxPixels);
    const maxSide = this.opts.maxSide ?? 3000;
    const long = Math.max(info.width, info.height);
    const scale = long > maxSide ? maxSide / long : long < 1000 ? 2 : 1;
    try {
      const png = await openImage(image, this.opts.maxPixels)
        .resize(Math.round(info.width * scale), Math.round(info.height * scale), { fit: 'fill' })
        .greyscale()
        .png({ compressionLevel: 1 })
        .toBuffer();
      return { png, size: { width: info.width, height: info.height }, scale };
    } catch (err) {
      throw new AppError(
        'corrupt_image',
        400,
        `The image could not be decoded: ${(err as Error).message.split('\n')[0]}`,
      );
    }
  }

  async recognize(image: Buffer, opts: { lang?: OcrLangSet; minConfidence?: number } = {}): Promise<OcrResult> {
    if (this.closed) throw new AppError('ocr_unavailable', 503, 'OCR is shutting down');
    const lang = opts.lang ?? 'spa+eng';
    const { png, size, scale } = await this.prepareImage(image);
    const run = async () => {
      const worker = await this.worker(lang);
      const timeoutMs = this.opts.timeoutMs ?? 120_000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // A stuck worker is replaced; the next call starts a fresh one.
          this.workers.delete(lang);
          void worker.terminate().catch(() => {});
          reject(new AppError('ocr_timeout', 503, `Text recognition took longer than ${timeoutMs} ms`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([worker.recognize(png, {}, { text: true, blocks: true }), timeout]);
      } finally {
        clearTimeout(timer);
      }
    };
    const prev = this.chains.get(lang) ?? Promise.resolve();
    const next = prev.then(run, run);
    this.chains.set(
      lang,
      next.catch(() => {}),
    );
    const r = await next;
    const minConfidence = opts.minConfidence ?? 0;
    const lines: OcrLine[] = [];
    for (const block of r.data.blocks ?? []) {
      for (const para of block.paragraphs) {
        for (const line of para.lines) {
          const text = line.text.replace(/\s+$/, '');
          if (!text || line.confidence < minConfidence) continue;
          const b = line.bbox;
          lines.push({
            text,
            confidence: Math.round(line.confidence * 10) / 10,
            box: [
              Math.round(b.x0 / scale),
              Math.round(b.y0 / scale),
              Math.round((b.x1 - b.x0) / scale),
              Math.round((b.y1 - b.y0) / scale),
            ],
          });
        }
      }
    }
    const text = minConfidence > 0 ? lines.map((l) => l.text).join('\n') : r.data.text.replace(/\s+$/, '');
    return { size, lang, text, confidence: Math.round(r.data.confidence * 10) / 10, lines };
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(all.map((w) => w.then((x) => x.terminate()).catch(() => {})));
  }
}

/**
 * Whether a picture looks like a page of text (a scan, a screenshot, a photographed sheet): a
 * mostly light, nearly colourless image with some dark ink and few mid tones. Cheap (a 512 px
 * luminance histogram); used to decide whether to run OCR on upload.
 */
export async function looksLikeDocument(image: Buffer, maxPixels: number): Promise<boolean> {
  await probeImage(image, maxPixels);
  const { data, info } = await openImage(image, maxPixels)
    .resize(512, 512, { fit: 'inside' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  let light = 0;
  let dark = 0;
  let mid = 0;
  let chroma = 0;
  for (let i = 0; i < n; i++) {
    const o = i * info.channels;
    const r = data[o];
    const g = info.channels >= 3 ? data[o + 1] : r;
    const b = info.channels >= 3 ? data[o + 2] : r;
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    if (y >= 170) light++;
    else if (y <= 120) dark++;
    else mid++;
    chroma += Math.max(r, g, b) - Math.min(r, g, b);
  }
  const lightShare = light / n;
  const darkShare = dark / n;
  const midShare = mid / n;
  const meanChroma = chroma / n;
  return lightShare >= 0.6 && darkShare >= 0.003 && darkShare <= 0.4 && midShare <= 0.25 && meanChroma <= 15;
}
