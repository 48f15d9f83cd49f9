import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Migrator, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Db } from './database.ts';

export const MIGRATIONS_DIR = path.join(import.meta.dirname, 'migrations');

/**
 * Reads the migration folder and imports each module from here, so the same code works under
 * tsx, the test runner and a bundled build. Test files beside the migrations are ignored.
 */
class MigrationFolder implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await fs.readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}-[a-z0-9-]+\.ts$/.test(f)).sort();
    const out: Record<string, Migration> = {};
    for (const f of files) {
      const mod = (await import(pathToFileURL(path.join(MIGRATIONS_DIR, f)).href)) as Migration;
      out[f.replace(/\.ts$/, '')] = { up: mod.up, down: mod.down };
    }
    return out;
  }
}

export function createMigrator(db: Db): Migrator {
  return new Migrator({ db: db.kysely, provider: new MigrationFolder() });
}

function check(result: MigrationResultSet): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(
      `Migration ${failed?.migrationName ?? ''} failed: ${(result.error as Error).message ?? result.error}`,
      { cause: result.error },
    );
  }
  return (result.results ?? []).map((r) => r.migrationName);
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  return check(await createMigrator(db).migrateToLatest());
}

/** Rolls back one migration, or every migration with `all`. */
export async function migrateDown(db: Db, all = false): Promise<string[]> {
  const migrator = createMigrator(db);
  const done: string[] = [];
  for (;;) {
    const names = check(await migrator.migrateDown());
    done.push(...names);
    if (!all || names.length === 0) return done;
  }
}
