import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';
import type { Database } from './schema.ts';

export type DialectName = 'sqlite' | 'mysql' | 'postgres';

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: DialectName;
  /** The raw better-sqlite3 handle, for hot paths that batch inside one synchronous transaction. */
  readonly sqlite: SQLite.Database | undefined;
  readonly url: string;
  destroy(): Promise<void>;
}

export type Tx = Transaction<Database>;
export type Executor = Kysely<Database> | Tx;

// int8 and numeric arrive as strings from pg by default; every value this product stores in them
// (epoch milliseconds, counts) fits a double exactly.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
pg.types.setTypeParser(1700, (v) => Number.parseFloat(v));

export function dialectOf(url: string): DialectName {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) return 'mysql';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres';
  throw new Error(`Unsupported DATABASE_URL scheme: ${url.split(':')[0]}`);
}

export function sqlitePath(url: string): string {
  const p = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return p === '' || p === ':memory:' ? ':memory:' : path.resolve(p);
}

export function openSqlite(file: string): SQLite.Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const handle = new SQLite(file);
  // Durability first: WAL with synchronous=FULL means an acknowledged commit survives power loss.
  handle.pragma('journal_mode = WAL');
  handle.pragma('synchronous = FULL');
  handle.pragma('foreign_keys = ON');
  handle.pragma('busy_timeout = 10000');
  return handle;
}

export function createDb(url: string, opts: { poolSize?: number } = {}): Db {
  const dialect = dialectOf(url);
  switch (dialect) {
    case 'sqlite': {
      const handle = openSqlite(sqlitePath(url));
      const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: handle }) });
      return { kysely, dialect, sqlite: handle, url, destroy: () => kysely.destroy() };
    }
    case 'mysql': {
      const u = new URL(url.replace(/^mariadb:/, 'mysql:'));
      const pool = createPool({
        host: u.hostname,
        port: u.port ? Number(u.port) : 3306,
        user: decodeURIComponent(u.username || 'root'),
        password: decodeURIComponent(u.password),
        database: u.pathname.replace(/^\//, ''),
        connectionLimit: opts.poolSize ?? 10,
        supportBigNumbers: true,
        bigNumberStrings: false,
        decimalNumbers: true,
        timezone: 'Z',
        charset: 'utf8mb4',
        connectTimeout: 5000,
      });
      const kysely = new Kysely<Database>({ dialect: new MysqlDialect({ pool }) });
      return { kysely, dialect, sqlite: undefined, url, destroy: () => kysely.destroy() };
    }
    case 'postgres': {
      const pool = new pg.Pool({
        connectionString: url,
        max: opts.poolSize ?? 10,
        connectionTimeoutMillis: 5000,
      });
      const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
      return { kysely, dialect, sqlite: undefined, url, destroy: () => kysely.destroy() };
    }
  }
}

/** Whether an error is a unique-constraint violation, on any of the three dialects. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | undefined;
  return (
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    e?.code === 'ER_DUP_ENTRY' ||
    e?.code === '23505'
  );
}
