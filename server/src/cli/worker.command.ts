import type { Command } from 'commander';
import type { Config } from '../config.ts';

/**
 * `aula worker`: a process that only runs background jobs (capture analysis, retention) with its
 * own vision workers. Run any number of them, on any host that reaches the same database, blob
 * store and Redis; without REDIS_URL there is nobody to share jobs with, so `aula start` runs them.
 */
export function registerWorkerCommand(program: Command, config: () => Config): void {
  program
    .command('worker')
    .description('run background jobs (attendance analysis, retention) from the shared queue')
    .action(async () => {
      const c = config();
      if (!c.redisUrl) {
        console.error('warning: REDIS_URL is not set, so this worker only sees jobs queued in this very process');
      }
      // Loaded here, not at the top: the server graph would slow every other command's start.
      const { runServer, stopOnSignals } = await import('../server.ts');
      stopOnSignals(await runServer(c, 'worker'));
    });
}
