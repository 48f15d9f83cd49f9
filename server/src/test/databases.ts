import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { describe } from 'vitest';
import { createDb, type Db, type DialectName } from '../platform/db/database.ts';
import { migrateToLatest } from '../platform/db/migrator.ts';

/**
 * Real databases for tests: every file gets its own throwaway database on each server, so test
 * files run in parallel without seeing each other's rows. Under CI=true a server that cannot be
 * reached fails the run instead of skipping.
 */

// Test support reads the environment directly: these are the test harness's own knobs.
const env = process.env;
export const IN_CI = env.CI === 'true' || env.CI === '1';
export const MYSQL_ADMIN_URL = env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const POSTGRES_ADMIN_URL = env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_TEST_URL = env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export const ALL_DIALECTS: DialectName[] = ['sqlite', 'mysql', 'postgres'];

const reachable = new Map<DialectName, Promise<boolean>>();

async function probe(dialect: DialectName): Promise<boolean> {
  try {
    if (dialect === 'mysql') {
      const c = await mysql.createConnection({ uri: MYSQL_ADMIN_URL, connectTimeout: 3000 });
      await c.end();
    } else if (dialect === 'postgres') {
      const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
      await c.connect();
      await c.end();
    }
    return true;
  } catch {
    return false;
  }
}

export function isReachable(dialect: DialectName): Promise<boolean> {
  let p = reachable.get(dialect);
  if (!p) reachable.set(dialect, (p = probe(dialect)));
  return p;
}

/** A fresh, empty database; returns its URL and a function that drops it. */
export async function createTestDatabase(dialect: DialectName): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `aula_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-test-'));
    return {
      url: `sqlite:${path.join(dir, 'test.db')}`,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (!(await isReachable(dialect))) {
    throw new Error(`${dialect} is not reachable (${dialect === 'mysql' ? MYSQL_ADMIN_URL : POSTGRES_ADMIN_URL})`);
  }
  if (dialect === 'mysql') {
    const admin = await mysql.createConnection({ uri: MYSQL_ADMIN_URL });
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    await admin.end();
    const u = new URL(MYSQL_ADMIN_URL);
    u.pathname = `/${name}`;
    return {
      url: u.toString(),
      drop: async () => {
        const c = await mysql.createConnection({ uri: MYSQL_ADMIN_URL });
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await c.end();
      },
    };
  }
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(POSTGRES_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await c.connect();
      // A closed pool's connections may still be on their way out; terminating them under FORCE
      // would raise an error event on clients nobody listens to any more. Let them go first.
      for (let i = 0; i < 100; i++) {
        const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [
          name,
        ]);
        if (Number(rows[0]?.n ?? 0) === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A migrated database handle for repository tests. */
export async function openTestDb(dialect: DialectName): Promise<{ db: Db; url: string; cleanup: () => Promise<void> }> {
  const { url, drop } = await createTestDatabase(dialect);
  const db = createDb(url);
  await migrateToLatest(db);
  return {
    db,
    url,
    cleanup: async () => {
      await db.destroy();
      await drop();
    },
  };
}

/**
 * `describe` once per dialect. A dialect whose server is down is skipped locally and fails in CI.
 * Usage: describeEachDialect('grades repository', (dialect) => { ... });
 */
export function describeEachDialect(name: string, fn: (dialect: DialectName) => void, dialects = ALL_DIALECTS): void {
  for (const dialect of dialects) {
    const available = dialect === 'sqlite' || IN_CI || probeSync(dialect);
    describe.skipIf(!available)(`${name} [${dialect}]`, () => fn(dialect));
  }
}

// describe() bodies are collected synchronously, so reachability is probed once, up front, with a
// short blocking TCP check.
const syncProbeCache = new Map<DialectName, boolean>();
function probeSync(dialect: DialectName): boolean {
  const cached = syncProbeCache.get(dialect);
  if (cached !== undefined) return cached;
  const url = new URL(dialect === 'mysql' ? MYSQL_ADMIN_URL : POSTGRES_ADMIN_URL);
  const port = Number(url.port || (dialect === 'mysql' ? 3306 : 5432));
  const { status } = spawnSyncTcp(url.hostname, port);
  const ok = status === 0;
  syncProbeCache.set(dialect, ok);
  return ok;
}

import { spawnSync } from 'node:child_process';
function spawnSyncTcp(host: string, port: number) {
  return spawnSync(
    process.execPath,
    [
      '-e',
      `const s=require('net').connect(${port},${JSON.stringify(host)});s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),2000)`,
    ],
    { stdio: 'ignore' },
  );
}
