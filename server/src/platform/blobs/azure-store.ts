import { createHash, randomUUID } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import {
  AnonymousCredential,
  BlobSASPermissions,
  BlobServiceClient,
  StorageSharedKeyCredential,
  type BlockBlobClient,
  type ContainerClient,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { notFound } from '../errors.ts';
import { assertBlobId, BlobTooLargeError, newBlobId } from './blob-ids.ts';
import type { BlobInfo, BlobStore, PutOptions } from './blob-store.ts';
import type { AzureBlobUrl } from './blob-url.ts';
import { Metered } from './metered.ts';
import { storeFailure } from './store-errors.ts';

const ID = /^[0-9a-hjkmnp-tv-z]{26}$/;
// Block size and parallel blocks of a streamed upload: memory stays at a few blocks per upload.
const BLOCK_SIZE = 4 * 1024 * 1024;
const CONCURRENCY = 2;

const statusOf = (err: unknown) => (err as { statusCode?: number })?.statusCode;

/**
 * The SDK's per-try timeout only asks the service to give up; nothing on this side stops waiting
 * for an endpoint that accepts connections and never answers. Every call therefore carries an
 * abort signal that fires after a stretch without progress (transfers restart the clock).
 */
function idleDeadline(ms: number) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new Error(`no response for ${ms} ms`)), ms);
  return {
    signal: ctl.signal,
    touch: () => void timer.refresh(),
    abort: () => ctl.abort(new Error('cancelled')),
    done: () => clearTimeout(timer),
  };
}

/** Block blobs in one Azure Storage container; the sha256 lives in the blob's metadata. */
export class AzureBlobStore implements BlobStore {
  readonly kind = 'azure' as const;
  private readonly container: ContainerClient;
  private readonly sharedKey: boolean;
  private readonly prefix: string;
  private ensured: Promise<void> | undefined;
  private readonly deadlineMs: number;

  constructor(private readonly opts: AzureBlobUrl) {
    this.prefix = opts.prefix;
    this.deadlineMs = opts.timeoutMs * opts.maxAttempts + 2000 * (opts.maxAttempts - 1);
    const pipelineOptions: StoragePipelineOptions = {
      // Short, bounded retries: an API request should fail in seconds, not minutes, when the
      // store is gone (the SDK default backs off up to two minutes).
      retryOptions: {
        maxTries: opts.maxAttempts,
        tryTimeoutInMs: opts.timeoutMs,
        retryDelayInMs: 200,
        maxRetryDelayInMs: 2000,
      },
    };
    let service: BlobServiceClient;
    const auth = opts.auth;
    if (auth.type === 'connectionString') {
      service = BlobServiceClient.fromConnectionString(auth.connectionString, pipelineOptions);
    } else if (auth.type === 'sharedKey') {
      service = new BlobServiceClient(
        auth.endpoint,
        new StorageSharedKeyCredential(auth.account, auth.key),
        pipelineOptions,
      );
    } else {
      service = new BlobServiceClient(`${auth.endpoint}?${auth.sas}`, new AnonymousCredential(), pipelineOptions);
    }
    // Only an account key can sign a SAS; with a SAS or other credential the API proxies instead.
    this.sharedKey = service.credential instanceof StorageSharedKeyCredential;
    this.container = service.getContainerClient(opts.container);
  }

  private async call<T>(fn: (abortSignal: AbortSignal, touch: () => void) => Promise<T>): Promise<T> {
    const deadline = idleDeadline(this.deadlineMs);
    try {
      return await fn(deadline.signal, deadline.touch);
    } catch (err) {
      // Cancels requests still in flight (other blocks of a failed upload).
      deadline.abort();
      throw err;
    } finally {
      deadline.done();
    }
  }

  /**
   * Streams into staged blocks and commits them. The SDK's uploadStream does not pass the abort
   * signal on to its block requests, so a dead endpoint would hang it; this does, and memory
   * stays at a few blocks whatever the size.
   */
  private async uploadBlocks(
    client: BlockBlobClient,
    source: Readable,
    blobHTTPHeaders: { blobContentType: string },
    metadataAtEnd: () => Record<string, string>,
    abortSignal: AbortSignal,
    touch: () => void,
  ): Promise<void> {
    const prefix = randomUUID();
    const blockIds: string[] = [];
    const running = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    const stage = async (body: Buffer) => {
      const blockId = Buffer.from(`${prefix}-${String(blockIds.length).padStart(6, '0')}`).toString('base64');
      blockIds.push(blockId);
      const task: Promise<void> = client.stageBlock(blockId, body, body.length, { abortSignal }).then(
        () => {
          running.delete(task);
          touch();
        },
        (err: unknown) => {
          running.delete(task);
          failure ??= { err };
        },
      );
      running.add(task);
      if (running.size >= CONCURRENCY) await Promise.race(running);
      if (failure) throw failure.err;
    };
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    for await (const chunk of source) {
      // A slow uploader is not a dead store: incoming bytes count as progress.
      touch();
      pending.push(chunk as Buffer);
      pendingBytes += (chunk as Buffer).length;
      while (pendingBytes >= BLOCK_SIZE) {
        const all = Buffer.concat(pending);
        await stage(all.subarray(0, BLOCK_SIZE));
        pending = [all.subarray(BLOCK_SIZE)];
        pendingBytes = all.length - BLOCK_SIZE;
      }
    }
    if (pendingBytes > 0) await stage(Buffer.concat(pending));
    await Promise.all(running);
    if (failure) throw failure.err;
    // The hash is complete once the source has ended, so it is committed with the blob itself.
    await client.commitBlockList(blockIds, { blobHTTPHeaders, metadata: metadataAtEnd(), abortSignal });
  }

  private blob(id: string) {
    assertBlobId(id);
    return this.container.getBlockBlobClient(this.prefix + id);
  }

  private ready(): Promise<void> {
    if (!this.opts.create) return Promise.resolve();
    this.ensured ??= this.call((abortSignal) => this.container.createIfNotExists({ abortSignal }))
      .then(() => undefined)
      .catch((err: unknown) => {
        this.ensured = undefined;
        throw err;
      });
    return this.ensured;
  }

  async put(body: Readable | Buffer, opts: PutOptions): Promise<BlobInfo> {
    const id = newBlobId();
    const client = this.blob(id);
    const blobHTTPHeaders = { blobContentType: opts.contentType };
    if (Buffer.isBuffer(body)) {
      if (opts.maxBytes !== undefined && body.length > opts.maxBytes) throw new BlobTooLargeError(opts.maxBytes);
      const sha256 = createHash('sha256').update(body).digest('hex');
      try {
        await this.ready();
        await this.call((abortSignal, touch) =>
          client.uploadData(body, { blobHTTPHeaders, metadata: { sha256 }, abortSignal, onProgress: touch }),
        );
      } catch (err) {
        throw storeFailure('azure', 'put', err);
      }
      return { id, size: body.length, contentType: opts.contentType, sha256 };
    }

    const meter = new Metered(opts.maxBytes);
    // Remember why the stream failed (size limit, client gone): the SDK may report only its own
    // follow-up error, e.g. from aborting the upload.
    let streamError: unknown;
    meter.once('error', (err) => (streamError = err));
    pipeline(body, meter, () => {});
    try {
      await this.ready();
      let sha256 = '';
      const metadataAtEnd = () => ({ sha256: (sha256 = meter.digest()) });
      await this.call((abortSignal, touch) =>
        this.uploadBlocks(client, meter, blobHTTPHeaders, metadataAtEnd, abortSignal, touch),
      );
      return { id, size: meter.bytesSeen, contentType: opts.contentType, sha256 };
    } catch (err) {
      meter.destroy();
      // Blocks staged before a failure stay uncommitted: invisible to get/head/list, and
      // discarded by the service. A blob that was committed is removed.
      await this.call((abortSignal) => client.deleteIfExists({ abortSignal })).catch(() => {});
      throw storeFailure('azure', 'put', streamError ?? err);
    }
  }

  async get(id: string): Promise<Readable> {
    const client = this.blob(id);
    try {
      // Only waiting for the response is bounded; a long download then streams at the reader's pace.
      const res = await this.call((abortSignal) => client.download(0, undefined, { abortSignal }));
      const stream = res.readableStreamBody;
      if (!stream) throw new Error('Azure response has no readable body');
      return stream instanceof Readable ? stream : new Readable().wrap(stream);
    } catch (err) {
      if (statusOf(err) === 404) throw notFound('Blob');
      throw storeFailure('azure', 'get', err);
    }
  }

  async getBuffer(id: string): Promise<Buffer> {
    const client = this.blob(id);
    try {
      return await this.call((abortSignal, touch) =>
        client.downloadToBuffer(0, undefined, { abortSignal, onProgress: touch }),
      );
    } catch (err) {
      if (statusOf(err) === 404) throw notFound('Blob');
      throw storeFailure('azure', 'get', err);
    }
  }

  async head(id: string): Promise<BlobInfo | null> {
    const client = this.blob(id);
    try {
      const p = await this.call((abortSignal) => client.getProperties({ abortSignal }));
      return {
        id,
        size: p.contentLength ?? 0,
        contentType: p.contentType ?? 'application/octet-stream',
        sha256: p.metadata?.sha256 ?? '',
      };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw storeFailure('azure', 'head', err);
    }
  }

  async delete(id: string): Promise<void> {
    const client = this.blob(id);
    try {
      await this.call((abortSignal) => client.deleteIfExists({ abortSignal }));
    } catch (err) {
      throw storeFailure('azure', 'delete', err);
    }
  }

  async signedUrl(id: string, expiresInSeconds = 300): Promise<string | null> {
    const client = this.blob(id);
    if (!this.sharedKey) return null;
    const now = Date.now();
    return client.generateSasUrl({
      permissions: BlobSASPermissions.parse('r'),
      // A little slack for clock skew between this server and the storage service.
      startsOn: new Date(now - 5 * 60_000),
      expiresOn: new Date(now + expiresInSeconds * 1000),
    });
  }

  async *list(): AsyncIterable<string> {
    await this.ready();
    for await (const item of this.container.listBlobsFlat(this.prefix ? { prefix: this.prefix } : {})) {
      const id = item.name.slice(this.prefix.length);
      if (ID.test(id)) yield id;
    }
  }

  async check(): Promise<void> {
    try {
      await this.ready();
      // Listing one name needs only list permission, so a container SAS can pass the check too.
      await this.call((abortSignal) =>
        this.container
          .listBlobsFlat({ abortSignal, ...(this.prefix ? { prefix: this.prefix } : {}) })
          .byPage({ maxPageSize: 1 })
          .next(),
      );
    } catch (err) {
      if (statusOf(err) === 404) {
        throw new Error(`Azure container ${this.opts.container} does not exist (add create=true to create it)`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  async close(): Promise<void> {}
}
