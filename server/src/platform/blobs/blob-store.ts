import type { Readable } from 'node:stream';

export interface BlobInfo {
  id: string;
  size: number;
  contentType: string;
  sha256: string;
}

export interface PutOptions {
  contentType: string;
  /** Refuse (and remove) a stream that grows past this many bytes. */
  maxBytes?: number;
}

/**
 * Blob storage behind one interface. Keys are always ids generated here, never paths chosen by
 * a user, so a caller cannot reach outside the store.
 */
export interface BlobStore {
  readonly kind: 'file' | 's3' | 'azure';
  put(body: Readable | Buffer, opts: PutOptions): Promise<BlobInfo>;
  get(id: string): Promise<Readable>;
  getBuffer(id: string): Promise<Buffer>;
  head(id: string): Promise<BlobInfo | null>;
  delete(id: string): Promise<void>;
  /** A URL the client may fetch directly (signed), or null where the API must proxy the bytes. */
  signedUrl(id: string, expiresInSeconds?: number): Promise<string | null>;
  /** Every blob id, for sweeping orphans. */
  list(): AsyncIterable<string>;
  /** Throws when the store cannot be reached; used by /health/ready. */
  check(): Promise<void>;
  close(): Promise<void>;
}
