import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { notFound } from '../errors.ts';
import { ID_PATTERN } from '../ids.ts';
import { assertBlobId, newBlobId } from './blob-ids.ts';
import type { BlobInfo, BlobStore, PutOptions } from './blob-store.ts';
import { Metered } from './metered.ts';
import { storeFailure } from './store-errors.ts';

/** Blobs as files under one folder, fanned out by id prefix; metadata in a sidecar JSON file. */
export class FileBlobStore implements BlobStore {
  readonly kind = 'file' as const;

  constructor(private readonly root: string) {
    fs.mkdirSync(root, { recursive: true });
  }

  private pathOf(id: string): string {
    assertBlobId(id);
    return path.join(this.root, id.slice(-2), id);
  }

  async put(body: Readable | Buffer, opts: PutOptions): Promise<BlobInfo> {
    const id = newBlobId();
    const file = this.pathOf(id);
    const tmp = `${file}.part`;
    const meter = new Metered(opts.maxBytes);
    let sink: fs.WriteStream | undefined;
    try {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
      sink = fs.createWriteStream(tmp);
      await pipeline(source, meter, sink);
      const info: BlobInfo = { id, size: meter.bytesSeen, contentType: opts.contentType, sha256: meter.digest() };
      await fsp.writeFile(`${file}.json`, JSON.stringify(info));
      await fsp.rename(tmp, file);
      return info;
    } catch (err) {
      // A write stream destroyed before its file finished opening still creates the file once
      // the open completes, so wait for it to close before removing the partial upload.
      if (sink && !sink.closed) await new Promise<void>((resolve) => sink!.once('close', () => resolve()));
      await fsp.rm(tmp, { force: true }).catch(() => {});
      await fsp.rm(`${file}.json`, { force: true }).catch(() => {});
      throw storeFailure('file', 'put', err);
    }
  }

  async get(id: string): Promise<Readable> {
    const file = this.pathOf(id);
    try {
      await fsp.access(file);
    } catch {
      throw notFound('Blob');
    }
    return fs.createReadStream(file);
  }

  async getBuffer(id: string): Promise<Buffer> {
    try {
      return await fsp.readFile(this.pathOf(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound('Blob');
      throw err;
    }
  }

  async head(id: string): Promise<BlobInfo | null> {
    try {
      return JSON.parse(await fsp.readFile(`${this.pathOf(id)}.json`, 'utf8')) as BlobInfo;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    const file = this.pathOf(id);
    await fsp.rm(file, { force: true });
    await fsp.rm(`${file}.json`, { force: true });
  }

  async signedUrl(id: string): Promise<string | null> {
    assertBlobId(id);
    return null;
  }

  async *list(): AsyncIterable<string> {
    for (const dir of await fsp.readdir(this.root)) {
      const entries = await fsp.readdir(path.join(this.root, dir)).catch(() => [] as string[]);
      for (const f of entries) if (ID_PATTERN.test(f)) yield f;
    }
  }

  async check(): Promise<void> {
    const st = await fsp.stat(this.root);
    if (!st.isDirectory()) throw new Error(`Blob folder ${this.root} is not a directory`);
    await fsp.access(this.root, fs.constants.W_OK);
  }

  async close(): Promise<void> {}
}
