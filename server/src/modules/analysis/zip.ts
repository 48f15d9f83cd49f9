import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { AppError } from '../../platform/errors.ts';

export interface ZipLimits {
  /** Entries in the central directory (directories included). */
  maxEntries: number;
  /** Sum of the uncompressed sizes of the files. */
  maxTotalBytes: number;
  /** Largest uncompressed/compressed ratio of one entry (ordinary images compress ~1:1). */
  maxRatio: number;
  /** Largest single file; bigger ones become a per-file error. */
  maxEntryBytes: number;
}

export interface ZipMember {
  name: string;
  size: number;
  /** The bytes, or the reason this member is not used. */
  data?: Buffer;
  error?: { code: string; message: string };
}

/** Entries that are not content: folders, macOS resource forks, hidden files. */
function isNoise(name: string): boolean {
  if (name.endsWith('/')) return true;
  if (name.startsWith('__MACOSX/')) return true;
  const base = name.split('/').pop() ?? '';
  return base.startsWith('.') || base === 'Thumbs.db' || base === 'desktop.ini';
}

/** Ratios are only meaningful past a size: a tiny blank file may compress 1000:1 harmlessly. */
const RATIO_FLOOR_BYTES = 1024 * 1024;

const STORED = 0;
const DEFLATED = 8;

/**
 * Reads the central directory first and refuses the whole archive, before inflating anything,
 * when it is hostile or unusable: too many entries, too much declared data, a compression ratio
 * that only a bomb has, paths that climb out (`../`, absolute, drive letters, backslashes) or
 * encrypted entries. The files are then inflated one at a time with the sizes enforced on the
 * actual stream, so an archive that lies about its sizes is stopped as it inflates.
 */
export async function extractZip(buf: Buffer, limits: ZipLimits): Promise<ZipMember[]> {
  let zip: ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(buf, {
      lazyEntries: true,
      // Names are decoded and checked here, so one bad name is reported as such (not as a crash).
      decodeStrings: false,
      validateEntrySizes: true,
    });
  } catch (err) {
    throw new AppError('invalid_zip', 400, `The archive cannot be read: ${(err as Error).message}`);
  }
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw new AppError(
        'zip_too_many_entries',
        400,
        `The archive has ${zip.entryCount} entries; at most ${limits.maxEntries} are allowed`,
        {
          entries: zip.entryCount,
          maxEntries: limits.maxEntries,
        },
      );
    }
    const entries = await readDirectory(zip);
    const files: { entry: Entry; name: string }[] = [];
    let total = 0;
    for (const entry of entries) {
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      const unsafe = unsafePath(name);
      if (unsafe) {
        throw new AppError(
          'zip_unsafe_path',
          400,
          `The archive contains an unsafe path: ${JSON.stringify(name.slice(0, 200))} (${unsafe})`,
          {
            entry: name.slice(0, 200),
          },
        );
      }
      if (entry.isEncrypted()) {
        throw new AppError(
          'zip_encrypted',
          400,
          `The archive is encrypted (${name.slice(0, 200)}); upload an archive without a password`,
        );
      }
      if (isNoise(name)) continue;
      total += entry.uncompressedSize;
      if (total > limits.maxTotalBytes) {
        throw new AppError('zip_too_large', 400, `The archive expands to more than ${limits.maxTotalBytes} bytes`, {
          maxTotalBytes: limits.maxTotalBytes,
        });
      }
      if (
        entry.uncompressedSize > RATIO_FLOOR_BYTES &&
        entry.uncompressedSize / Math.max(1, entry.compressedSize) > limits.maxRatio
      ) {
        throw new AppError(
          'zip_bomb',
          400,
          `${name.slice(0, 200)} expands ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))} times; this archive looks like a decompression bomb`,
          {
            entry: name.slice(0, 200),
          },
        );
      }
      files.push({ entry, name });
    }

    const out: ZipMember[] = [];
    let inflated = 0;
    for (const { entry, name } of files) {
      const size = entry.uncompressedSize;
      if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
        out.push({
          name,
          size,
          error: {
            code: 'unsupported_compression',
            message: `Compression method ${entry.compressionMethod} is not supported`,
          },
        });
        continue;
      }
      if (size === 0) {
        out.push({ name, size, error: { code: 'empty_file', message: 'The file is empty' } });
        continue;
      }
      if (size > limits.maxEntryBytes) {
        out.push({
          name,
          size,
          error: { code: 'file_too_large', message: `The file is ${size} bytes; the limit is ${limits.maxEntryBytes}` },
        });
        continue;
      }
      const data = await inflate(zip, entry, name, limits.maxTotalBytes - inflated);
      inflated += data.length;
      out.push({ name, size: data.length, data });
    }
    return out;
  } finally {
    zip.close();
  }
}

function readDirectory(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (e: Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', (err: Error) =>
      reject(new AppError('invalid_zip', 400, `The archive is damaged: ${err.message}`)),
    );
    zip.readEntry();
  });
}

async function inflate(zip: ZipFile, entry: Entry, name: string, budget: number): Promise<Buffer> {
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (err) {
    throw new AppError('invalid_zip', 400, `${name.slice(0, 200)} cannot be read: ${(err as Error).message}`);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > budget) {
        stream.destroy();
        throw new AppError('zip_too_large', 400, 'The archive expands to more data than allowed');
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    const message = (err as Error).message;
    // yauzl checks the real stream against the declared size: more bytes than declared is a bomb.
    if (/too many bytes/i.test(message)) {
      throw new AppError(
        'zip_bomb',
        400,
        `${name.slice(0, 200)} inflates to more than it declares; this archive looks like a decompression bomb`,
        {
          entry: name.slice(0, 200),
        },
      );
    }
    throw new AppError('invalid_zip', 400, `${name.slice(0, 200)} is damaged: ${message}`);
  }
  return Buffer.concat(chunks, n);
}

/** Why a member name is unsafe to use as a path, or null when it is a plain relative path. */
export function unsafePath(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (name.includes('\0')) return 'NUL in name';
  if (name.includes('\\')) return 'backslash in name';
  if (name.startsWith('/')) return 'absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'drive letter';
  if (name.split('/').some((part) => part === '..')) return 'parent directory reference';
  return null;
}
