import type { Command } from 'commander';
import type { Config } from '../config.ts';

// The whole service graph loads only when a command runs, so `aula --help` starts fast.
const lazyContext = async () => (await import('../context.ts')).createContext;

export function registerGradesCommand(program: Command, config: () => Config): void {
  const grades = program.command('grades').description('grade ingest maintenance');

  grades
    .command('reconcile')
    .description('rebuild the live grade counters (Redis) from SQL, the source of truth')
    .action(async () => {
      const ctx = await (await lazyContext())(config());
      try {
        if (ctx.grades.live.kind === 'memory') {
          console.log(
            'Counters are in process (no REDIS_URL): every serving process rebuilds them from SQL when it starts.',
          );
          return;
        }
        await ctx.grades.waitForRedis(5000);
        const r = await ctx.grades.reconcile();
        console.log(
          r.wereExact
            ? `counters already matched SQL: ${r.total} records in ${r.groups} course-semester groups`
            : `counters rebuilt from SQL: ${r.total} records in ${r.groups} course-semester groups`,
        );
        console.log(
          '(exact when no other process is ingesting meanwhile; serving processes reconcile by themselves after a Redis outage)',
        );
      } finally {
        await ctx.close();
      }
    });

  grades
    .command('counters')
    .description('print the live grade counters')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const ctx = await (await lazyContext())(config());
      try {
        if (ctx.grades.live.kind === 'redis') await ctx.grades.waitForRedis(5000);
        const snap = await ctx.grades.counters();
        if (o.json) {
          console.log(JSON.stringify(snap));
          return;
        }
        console.log(`total records: ${snap.total}`);
        for (const g of snap.groups) {
          console.log(`  ${g.course.padEnd(12)} ${g.year}-${g.semester}  records ${g.records}  students ${g.students}`);
        }
      } finally {
        await ctx.close();
      }
    });
}
