import type { Config } from '../../config.ts';
import type { BlobStore } from '../../platform/blobs/index.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AttendanceRepository } from './attendance.repository.ts';

export const RETENTION_QUEUE = 'attendance-retention';

/**
 * Privacy: raw captures (photos, videos, live frames and the frames sampled from videos) are
 * deleted once older than the retention period. Attendance rows, observations, evidence crops and
 * unknown-face crops stay: they are the record, and they are small.
 */
export class Retention {
  constructor(
    private readonly repo: AttendanceRepository,
    private readonly blobs: BlobStore,
    private readonly config: Config,
    private readonly logger?: Logger,
  ) {}

  /** Deletes what expired before `now`; safe to run twice or on several workers at once. */
  async sweep(now = Date.now()): Promise<{ purged: number; blobs: number }> {
    const before = now - this.config.attendance.retentionMs;
    let purged = 0;
    let deleted = 0;
    for (;;) {
      const batch = await this.repo.listExpiredCaptures(before, 200);
      if (!batch.length) break;
      let progress = 0;
      for (const c of batch) {
        let ok = true;
        const ids = new Set<string>();
        if (c.blob_id) ids.add(c.blob_id);
        for (const f of await this.repo.listFrameBlobIds(c.id)) if (f.blob_id) ids.add(f.blob_id);
        for (const id of ids) {
          try {
            await this.blobs.delete(id);
            deleted++;
          } catch (err) {
            // A blob already gone is what we wanted; anything else waits for the next sweep.
            if ((err as { status?: number }).status !== 404) {
              this.logger?.warn({ err, captureId: c.id }, 'capture blob not deleted; will retry');
              ok = false;
            }
          }
        }
        if (!ok) continue;
        await this.repo.clearFrameBlobs(c.id);
        await this.repo.updateCapture(c.id, { blob_id: null, purged_at: now });
        purged++;
        progress++;
      }
      // Only captures whose blobs could not be deleted are left: the next sweep tries again.
      if (progress === 0) break;
    }
    return { purged, blobs: deleted };
  }
}
