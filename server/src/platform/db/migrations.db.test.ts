import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeEachDialect } from '../../test/databases.ts';
import { createDb, type Db } from './database.ts';
import { createMigrator, migrateDown, migrateToLatest } from './migrator.ts';

async function tableNames(db: Db): Promise<string[]> {
  const tables = await db.kysely.introspection.getTables();
  return tables
    .map((t) => t.name)
    .filter((n) => !n.startsWith('kysely_'))
    .sort();
}

describeEachDialect('migrations', (dialect) => {
  let db: Db;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const t = await createTestDatabase(dialect);
    drop = t.drop;
    db = createDb(t.url);
  });
  afterAll(async () => {
    await db.destroy();
    await drop();
  });

  it('applies every migration, rolls all of them back, and applies them again', async () => {
    const applied = await migrateToLatest(db);
    const all = await createMigrator(db).getMigrations();
    expect(applied).toEqual(all.map((m) => m.name));
    const tables = await tableNames(db);
    expect(tables).toEqual(
      expect.arrayContaining(['users', 'sessions', 'api_tokens', 'courses', 'offerings', 'class_sessions']),
    );

    const rolledBack = await migrateDown(db, true);
    expect(rolledBack).toEqual([...applied].reverse());
    expect(await tableNames(db)).toEqual([]);

    expect(await migrateToLatest(db)).toEqual(applied);
    expect(await migrateToLatest(db)).toEqual([]);
  });
});

describe('migration files', () => {
  it('never import application code', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const dir = path.join(import.meta.dirname, 'migrations');
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const src = fs.readFileSync(path.join(dir, f), 'utf8');
      const imports = [...src.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      expect(
        imports.every((i) => i === 'kysely'),
        `${f} imports ${imports.join(', ')}`,
      ).toBe(true);
    }
  });
});
