import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { notFound } from '../errors.ts';
import { assertBlobId, BlobTooLargeError, newBlobId } from './blob-ids.ts';
import type { BlobInfo, BlobStore, PutOptions } from './blob-store.ts';
import type { S3BlobUrl } from './blob-url.ts';
import { Metered } from './metered.ts';
import { storeFailure, withTimeout } from './store-errors.ts';

const ID = /^[0-9a-hjkmnp-tv-z]{26}$/;
// Multipart part size: memory per upload is bounded by partSize × queueSize whatever the file size.
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

type SdkError = Error & { $metadata?: { httpStatusCode?: number }; Code?: string };
const isNotFound = (err: unknown) => {
  const e = err as SdkError;
  return e?.$metadata?.httpStatusCode === 404 || e?.name === 'NoSuchKey' || e?.name === 'NotFound';
};

/** Objects in an S3 or S3-compatible bucket; contentType and sha256 live in the object's metadata. */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private ensured: Promise<void> | undefined;

  constructor(private readonly opts: S3BlobUrl) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix;
    this.client = new S3Client({
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      forcePathStyle: opts.forcePathStyle,
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      maxAttempts: opts.maxAttempts,
      // Socket inactivity rather than total time, so long video transfers are not cut off while
      // a dead or black-holed endpoint still fails promptly.
      requestHandler: { connectionTimeout: opts.connectTimeoutMs, socketTimeout: opts.timeoutMs },
      // S3-compatible servers (MinIO, Ceph, test servers) often reject the SDK's newer default
      // checksum trailers; our own sha256 already covers integrity.
      ...(opts.endpoint
        ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }
        : {}),
    });
  }

  private key(id: string): string {
    assertBlobId(id);
    return this.prefix + id;
  }

  /** Creates the bucket once, on first use, when the URL asks for it. */
  private ready(): Promise<void> {
    if (!this.opts.create) return Promise.resolve();
    this.ensured ??= (async () => {
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        try {
          await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
        } catch (createErr) {
          const name = (createErr as SdkError).name;
          if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw createErr;
        }
      }
    })().catch((err: unknown) => {
      this.ensured = undefined;
      throw err;
    });
    return this.ensured;
  }

  async put(body: Readable | Buffer, opts: PutOptions): Promise<BlobInfo> {
    const id = newBlobId();
    const Key = this.key(id);
    if (Buffer.isBuffer(body)) {
      if (opts.maxBytes !== undefined && body.length > opts.maxBytes) throw new BlobTooLargeError(opts.maxBytes);
      const sha256 = createHash('sha256').update(body).digest('hex');
      try {
        await this.ready();
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: body,
            ContentLength: body.length,
            ContentType: opts.contentType,
            Metadata: { sha256 },
          }),
        );
      } catch (err) {
        throw storeFailure('s3', 'put', err);
      }
      return { id, size: body.length, contentType: opts.contentType, sha256 };
    }

    const meter = new Metered(opts.maxBytes);
    // pipeline() destroys the source when the meter fails (size limit), so nothing keeps reading.
    // Remember why the stream failed (size limit, client gone): the SDK may report only its own
    // follow-up error, e.g. from aborting the upload.
    let streamError: unknown;
    meter.once('error', (err) => (streamError = err));
    pipeline(body, meter, () => {});
    try {
      await this.ready();
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key, Body: meter, ContentType: opts.contentType },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
      });
      await upload.done();
      const sha256 = meter.digest();
      // The hash is known only after the last byte, and S3 metadata is fixed at creation: a
      // server-side copy onto itself records it without moving the bytes through this process.
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key,
          CopySource: `${this.bucket}/${Key}`,
          MetadataDirective: 'REPLACE',
          ContentType: opts.contentType,
          Metadata: { sha256 },
        }),
      );
      return { id, size: meter.bytesSeen, contentType: opts.contentType, sha256 };
    } catch (err) {
      meter.destroy();
      // A failed multipart upload is aborted by Upload; a single-request one may have landed.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })).catch(() => {});
      throw storeFailure('s3', 'put', streamError ?? err);
    }
  }

  async get(id: string): Promise<Readable> {
    const Key = this.key(id);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      const stream = res.Body;
      if (stream instanceof Readable) return stream;
      throw new Error('S3 response has no readable body');
    } catch (err) {
      if (isNotFound(err)) throw notFound('Blob');
      throw storeFailure('s3', 'get', err);
    }
  }

  async getBuffer(id: string): Promise<Buffer> {
    const Key = this.key(id);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      if (!res.Body) throw new Error('S3 response has no body');
      return Buffer.from(await res.Body.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) throw notFound('Blob');
      throw storeFailure('s3', 'get', err);
    }
  }

  async head(id: string): Promise<BlobInfo | null> {
    const Key = this.key(id);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return {
        id,
        size: res.ContentLength ?? 0,
        contentType: res.ContentType ?? 'application/octet-stream',
        sha256: res.Metadata?.sha256 ?? '',
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw storeFailure('s3', 'head', err);
    }
  }

  async delete(id: string): Promise<void> {
    const Key = this.key(id);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw storeFailure('s3', 'delete', err);
    }
  }

  async signedUrl(id: string, expiresInSeconds = 300): Promise<string | null> {
    const Key = this.key(id);
    // Presigning is local computation: no request reaches the store.
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key }), {
      expiresIn: expiresInSeconds,
    });
  }

  async *list(): AsyncIterable<string> {
    await this.ready();
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: 1000 },
      { Bucket: this.bucket, ...(this.prefix ? { Prefix: this.prefix } : {}) },
    );
    for await (const page of pages) {
      for (const obj of page.Contents ?? []) {
        const id = obj.Key?.slice(this.prefix.length);
        // Other objects may share the bucket; only ids this store could have written count.
        if (id && ID.test(id)) yield id;
      }
    }
  }

  async check(): Promise<void> {
    const probe = async () => {
      await this.ready();
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    };
    try {
      await withTimeout(probe(), this.opts.connectTimeoutMs + this.opts.timeoutMs, 'S3 readiness check');
    } catch (err) {
      if (isNotFound(err)) {
        throw new Error(`S3 bucket ${this.bucket} does not exist (add create=true to create it)`, { cause: err });
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
