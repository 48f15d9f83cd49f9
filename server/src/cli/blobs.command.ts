import type { Command } from 'commander';
import type { Config } from '../config.ts';

/**
 * `aula blobs sweep [--delete]`: blobs no SQL row refers to (orphans) and SQL rows whose blob is
 * gone. Reports by default; `--delete` removes the orphans older than the grace period.
 * Exits with 1 when anything is inconsistent and was not deleted, so it can gate a cron job.
 */
export function registerBlobsCommand(program: Command, config: () => Config): void {
  const blobs = program.command('blobs').description('blob store maintenance');
  blobs
    .command('sweep')
    .description('find orphaned blobs and SQL rows pointing at missing blobs')
    .option('--delete', 'delete the orphaned blobs')
    .option('--grace <minutes>', 'only blobs older than this count as orphans', '60')
    .option('--json', 'machine-readable output')
    .action(async (o: { delete?: boolean; grace: string; json?: boolean }) => {
      // Loaded here, not at the top: the service graph would slow every other command's start.
      const { createContext } = await import('../context.ts');
      const { sweeperFor } = await import('../modules/blobs/blobs.setup.ts');
      const ctx = await createContext(config());
      try {
        const graceMinutes = Number(o.grace);
        if (!Number.isFinite(graceMinutes) || graceMinutes < 0) throw new Error('--grace takes minutes (0 or more)');
        const r = await sweeperFor(ctx).sweep({ delete: o.delete, graceMs: graceMinutes * 60_000 });
        if (o.json) {
          console.log(JSON.stringify(r));
        } else {
          console.log(`blobs in the store: ${r.blobs}; references in SQL: ${r.references}`);
          console.log(`orphaned blobs: ${r.orphanBlobs.length}${o.delete ? ` (deleted ${r.deleted})` : ''}`);
          for (const id of r.orphanBlobs.slice(0, 50)) console.log(`  ${id}`);
          console.log(`rows pointing at missing blobs: ${r.missingBlobs.length}`);
          for (const m of r.missingBlobs.slice(0, 50)) console.log(`  ${m.table}.${m.column} = ${m.blobId}`);
          if (r.young) console.log(`(${r.young} unreferenced blob(s) younger than the grace period left alone)`);
        }
        if (r.missingBlobs.length || (r.orphanBlobs.length && !o.delete)) process.exitCode = 1;
      } finally {
        await ctx.close();
      }
    });
}
