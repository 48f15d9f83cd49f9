import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testConfig, type Config } from '../config.ts';
import { createContext, type AppContext } from '../context.ts';
import { buildApp, type App } from '../http/app.ts';
import type { DialectName } from '../platform/db/database.ts';
import { createTestDatabase, REDIS_TEST_URL } from './databases.ts';

export interface TestApp {
  ctx: AppContext;
  app: App;
  config: Config;
  close(): Promise<void>;
}

/**
 * A whole app on a fresh database (and a fresh blob folder), driven through app.inject().
 * Pass `redis: true` to run the Redis-backed bus, counters and limits against the real server.
 */
export async function createTestApp(
  opts: { dialect?: DialectName; redis?: boolean; env?: Record<string, string> } = {},
): Promise<TestApp> {
  const dialect = opts.dialect ?? 'sqlite';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-app-'));
  const database = await createTestDatabase(dialect);
  const config = testConfig({
    DATA_DIR: dir,
    DATABASE_URL: database.url,
    BLOB_URL: `file:${path.join(dir, 'blobs')}`,
    WEB_DIST: path.join(dir, 'no-web'),
    ...(opts.redis ? { REDIS_URL: REDIS_TEST_URL } : {}),
    // Every test signs in from 127.0.0.1: on a shared Redis, one app's attempts must not spend
    // another's sign-in budget.
    RATE_LIMIT_REDIS_PREFIX: `aula:test:${randomBytes(6).toString('hex')}:rl:`,
    ...opts.env,
  });
  const ctx = await createContext(config);
  const app = await buildApp(ctx);
  await app.ready();
  return {
    ctx,
    app,
    config,
    close: async () => {
      await app.close();
      await ctx.close();
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
