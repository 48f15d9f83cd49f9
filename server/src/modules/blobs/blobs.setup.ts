import type { AppContext } from '../../context.ts';
import { BlobSweeper } from './blob-sweeper.ts';
import { BlobsRepository } from './blobs.repository.ts';

export function sweeperFor(ctx: AppContext): BlobSweeper {
  return new BlobSweeper(new BlobsRepository(ctx.db.kysely), ctx.blobs, ctx.logger.child({ component: 'blob-sweep' }));
}

const SWEEP_EVERY_MS = 6 * 60 * 60_000;

/**
 * The scheduled sweep of a worker process: reports orphans and missing blobs to the log every few
 * hours (deleting is left to `aula blobs sweep --delete`, an operator's decision).
 */
export function scheduleBlobSweep(ctx: AppContext): () => void {
  const sweeper = sweeperFor(ctx);
  const run = () =>
    void sweeper.sweep().then(
      (r) =>
        ctx.logger.info(
          { orphans: r.orphanBlobs.length, missing: r.missingBlobs.length, blobs: r.blobs },
          'blob sweep',
        ),
      (err: unknown) => ctx.logger.warn({ err }, 'blob sweep failed'),
    );
  const first = setTimeout(run, 60_000);
  const timer = setInterval(run, SWEEP_EVERY_MS);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
