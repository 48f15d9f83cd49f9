import fs from 'node:fs/promises';
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import type { RosterLineError } from '../modules/academics/roster-import.ts';
import { SYSTEM_ACTOR } from '../modules/identity/actor.ts';
import { AppError } from '../platform/errors.ts';

/**
 * `aula roster import FILE --offering ID`: the same all-or-nothing import as the REST route.
 * Prints the counts, or every bad line and exits with 1 (nothing is imported then).
 */
export function registerRosterCommand(program: Command, config: () => Config): void {
  const roster = program.command('roster').description('class rosters');
  roster
    .command('import')
    .description('enrol the students of a CSV file (student_code, full_name, email) in one offering')
    .argument('<file>', 'CSV file; comma or semicolon delimited, UTF-8 (a BOM is fine)')
    .requiredOption('--offering <id>', 'id of the offering')
    .action(async (file: string, opts: { offering: string }) => {
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat?.isFile()) throw new AppError('file_not_found', 404, `No file at ${file}`);
      // Loaded here, not at the top: the CSV parser and database drivers would slow every command's start.
      const { ROSTER_MAX_BYTES } = await import('../modules/academics/roster-import.ts');
      if (stat.size > ROSTER_MAX_BYTES) {
        throw new AppError('roster_too_large', 413, `A roster file may be at most ${ROSTER_MAX_BYTES} bytes`);
      }
      const data = await fs.readFile(file);
      const { createContext } = await import('../context.ts');
      const ctx = await createContext(config());
      try {
        const r = await ctx.academics.importRoster(SYSTEM_ACTOR, opts.offering, data);
        console.log(
          `rows: ${r.rows}, students created: ${r.created}, enrolled: ${r.enrolled}, already enrolled: ${r.alreadyEnrolled}`,
        );
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'roster_invalid') throw err;
        const errors = (err.details?.errors ?? []) as RosterLineError[];
        for (const e of errors) console.error(`line ${e.line}: ${e.message}`);
        console.error(`${errors.length} bad line(s); nothing was imported`);
        process.exitCode = 1;
      } finally {
        await ctx.close();
      }
    });
}
