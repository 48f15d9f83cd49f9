import type { BlobStore } from '../../platform/blobs/blob-store.ts';
import type { Logger } from '../../platform/logger.ts';
import { type BlobReference, type BlobsRepository, isHistorical } from './blobs.repository.ts';

export interface SweepReport {
  /** Blobs in the store: */
  blobs: number;
  /** SQL references to blobs: */
  references: number;
  /** Blobs no SQL row refers to (left by a deleted user, a failed upload, a crash between store and commit). */
  orphanBlobs: string[];
  /**
   * SQL rows that point at a blob the store does not have. Ledger rows whose input was deleted
   * on purpose (retention, a deleted photo) are not among them.
   */
  missingBlobs: BlobReference[];
  /** Orphans removed (with delete). */
  deleted: number;
  /** Orphans younger than the grace period, left alone: an upload may be between its store write and its commit. */
  young: number;
}

export interface SweepOptions {
  delete?: boolean;
  /** Only blobs older than this are orphans (default one hour). */
  graceMs?: number;
  now?: number;
}

/**
 * Finds blobs with no SQL reference and SQL references with no blob. SQL is the source of truth:
 * an orphan blob is garbage (removed with `delete`), a missing blob is reported for an operator.
 */
export class BlobSweeper {
  constructor(
    private readonly repo: BlobsRepository,
    private readonly blobs: BlobStore,
    private readonly logger: Logger,
  ) {}

  async sweep(opts: SweepOptions = {}): Promise<SweepReport> {
    const grace = opts.graceMs ?? 60 * 60_000;
    const now = opts.now ?? Date.now();
    const referenced = new Map<string, BlobReference>();
    let references = 0;
    for await (const ref of this.repo.references()) {
      references++;
      // A live reference wins over a historical one: a capture whose photo vanished is still
      // reported when a ledger row names the same photo.
      const seen = referenced.get(ref.blobId);
      if (!seen || (isHistorical(seen) && !isHistorical(ref))) referenced.set(ref.blobId, ref);
    }
    const stored = new Set<string>();
    const orphanBlobs: string[] = [];
    let young = 0;
    for await (const id of this.blobs.list()) {
      stored.add(id);
      if (referenced.has(id)) continue;
      if (grace > 0 && now - blobTime(id) < grace) {
        young++;
        continue;
      }
      orphanBlobs.push(id);
    }
    const missingBlobs = [...referenced.values()].filter((r) => !stored.has(r.blobId) && !isHistorical(r));
    let deleted = 0;
    if (opts.delete) {
      for (const id of orphanBlobs) {
        await this.blobs.delete(id);
        deleted++;
      }
    }
    const report = { blobs: stored.size, references, orphanBlobs, missingBlobs, deleted, young };
    if (orphanBlobs.length || missingBlobs.length) {
      this.logger.warn(
        { orphans: orphanBlobs.length, missing: missingBlobs.length, deleted },
        'blob sweep found inconsistencies',
      );
    }
    return report;
  }
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Blob ids are ULID-like: the first 10 characters are the creation time in milliseconds. */
function blobTime(id: string): number {
  let t = 0;
  for (const c of id.slice(0, 10).toUpperCase()) {
    const v = CROCKFORD.indexOf(c);
    if (v < 0) return 0;
    t = t * 32 + v;
  }
  return t;
}
