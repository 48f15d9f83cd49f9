import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../context.ts';
import { GradeGenerator } from '../loadgen/data.ts';
import { COUNTERS_EVENT } from '../realtime/grades-feed.ts';
import { createLiveInstance, createLiveTestApp, join, type LiveTestApp } from '../realtime/test-support.ts';
import { buildToken, buildUser } from '../test/factories.ts';
import { scaled } from '../test/reliability.ts';
import { startPrivateMariadb, startPrivateRedis, type PrivateService } from './private-services.ts';
import { sleep } from './processes.ts';

/**
 * Dependency outages with private Redis and MariaDB servers (own ports, throwaway data), never the
 * shared ones: Redis stopped during ingest and socket traffic, MariaDB restarted during ingest.
 * `npm test` runs short outages; `npm run test:reliability` stops Redis for 30 s.
 */

const REDIS_OUTAGE_MS = scaled(4_000, 30_000);
const MARIADB_OUTAGE_MS = scaled(3_000, 15_000);

interface Sent {
  status: number;
  retryAfter: string | null;
  ms: number;
  code?: string;
}

/** Closed-loop REST ingest with idempotency keys, recording every answer. */
function ingestLoop(url: string, token: string, seed: number, clients = 4) {
  const generator = new GradeGenerator({ seed, students: 2000, idempotencyPrefix: `out${seed}` });
  const acked: string[] = [];
  const answers: Sent[] = [];
  let stop = false;
  const run = async () => {
    while (!stop) {
      const batch = generator.batch(5);
      const t0 = performance.now();
      try {
        const res = await fetch(`${url}/api/v1/grades`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(batch),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await res.json()) as { code?: string; accepted?: number; duplicates?: number };
        answers.push({
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          ms: performance.now() - t0,
          code: body.code,
        });
        if (res.status === 201) {
          if ((body.accepted ?? 0) + (body.duplicates ?? 0) !== batch.length) throw new Error('short acknowledgement');
          for (const g of batch) acked.push(g.idempotency_key!);
        } else await sleep(50);
      } catch (err) {
        answers.push({ status: 0, retryAfter: null, ms: performance.now() - t0, code: (err as Error).name });
        await sleep(50);
      }
    }
  };
  const done = Promise.all(Array.from({ length: clients }, run));
  return {
    acked,
    answers,
    async waitForAcks(n: number, timeoutMs = 60_000) {
      const target = acked.length + n;
      const deadline = Date.now() + timeoutMs;
      while (acked.length < target) {
        if (Date.now() > deadline) throw new Error(`no progress: last answers ${JSON.stringify(answers.slice(-5))}`);
        await sleep(20);
      }
    },
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** Each acknowledged key is in SQL exactly once. */
async function expectStoredOnce(ctx: AppContext, acked: string[]): Promise<void> {
  const seen = new Map<string, number>();
  for (let i = 0; i < acked.length; i += 500) {
    const rows = await ctx.db.kysely
      .selectFrom('grade_records')
      .select('idempotency_key')
      .where('idempotency_key', 'in', acked.slice(i, i + 500))
      .execute();
    for (const r of rows) seen.set(r.idempotency_key!, (seen.get(r.idempotency_key!) ?? 0) + 1);
  }
  const wrong = acked.filter((k) => seen.get(k) !== 1);
  expect(wrong, `${wrong.length} of ${acked.length} acknowledged keys not stored exactly once`).toEqual([]);
}

describe('Redis stopped during ingest and socket traffic', () => {
  let redis: PrivateService;
  let a: LiveTestApp;
  let b: LiveTestApp;
  let token: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    // Two instances of a scaled deployment sharing the database and the private Redis.
    a = await createLiveTestApp({ env: { REDIS_URL: redis.url } });
    b = await createLiveInstance({ DATABASE_URL: a.config.databaseUrl, REDIS_URL: redis.url });
    const teacher = await buildUser(a.ctx, { role: 'teacher' });
    token = await buildToken(a.ctx, teacher.user.id, ['grades:write', 'grades:read']);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await b?.close();
    await a?.close();
    await redis?.destroy();
  });

  const socketOn = async (url: string) => {
    const s = connect(url, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: 200,
      reconnectionDelayMax: 1000,
      forceNew: true,
      auth: { token },
    });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    return s;
  };

  it(`keeps ingesting through a ${REDIS_OUTAGE_MS / 1000} s outage and ends with exact counters`, async () => {
    const watcher = await socketOn(b.url);
    let latest = -1;
    watcher.on(COUNTERS_EVENT, (p: { total: number }) => (latest = Math.max(latest, p.total)));
    watcher.on('connect', () => void join(watcher, 'grades').catch(() => {}));
    expect(await join(watcher, 'grades')).toEqual({ ok: true });

    const load = ingestLoop(a.url, token, 11);
    try {
      await load.waitForAcks(100);
      await redis.stop();
      const before = load.acked.length;
      await sleep(REDIS_OUTAGE_MS);
      const during = load.acked.length - before;
      // Ingest never waits on Redis: grades keep being acknowledged (SQL is the source of truth).
      expect(during, JSON.stringify(load.answers.slice(-5))).toBeGreaterThan(0);
      await redis.start();
      await load.waitForAcks(200);
    } finally {
      await load.stop();
    }
    expect(load.answers.filter((x) => x.status >= 500 || x.status === 0)).toEqual([]);
    await expectStoredOnce(a.ctx, load.acked);

    // After the outage every instance reconciles by itself; the counters equal SQL exactly.
    const total = async (app: LiveTestApp, p: string) =>
      (
        (await (await fetch(`${app.url}${p}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          total: number;
        }
      ).total;
    const truth = await total(a, '/api/v1/analytics/grades/total');
    expect(truth).toBeGreaterThanOrEqual(load.acked.length);
    const deadline = Date.now() + 60_000;
    while (
      (await total(a, '/api/v1/analytics/grades/counters')) !== truth ||
      (await total(b, '/api/v1/analytics/grades/counters')) !== truth
    ) {
      if (Date.now() > deadline) throw new Error('counters never matched SQL after the outage');
      await sleep(250);
    }
    // Sockets reconnect to the fan-out: a new one gets the exact counters on joining, and the one
    // open through the outage receives them too.
    const fresh = await socketOn(b.url);
    const first = new Promise<{ total: number }>((r) => fresh.once(COUNTERS_EVENT, r));
    expect(await join(fresh, 'grades')).toEqual({ ok: true });
    expect((await first).total).toBe(truth);
    const end = Date.now() + 30_000;
    while (latest !== truth) {
      if (Date.now() > end) throw new Error(`the socket open through the outage shows ${latest}, SQL ${truth}`);
      await sleep(100);
    }
    console.info(
      `redis outage: ${REDIS_OUTAGE_MS} ms, ${load.acked.length} grades acknowledged, ${load.answers.length} requests, ` +
        `${load.answers.filter((x) => x.status !== 201).length} not acknowledged`,
    );
  });
});

describe('MariaDB restarted during ingest', () => {
  let maria: PrivateService;
  let a: LiveTestApp;
  let token: string;

  beforeAll(async () => {
    maria = await startPrivateMariadb();
    a = await createLiveInstance({ DATABASE_URL: maria.url });
    const teacher = await buildUser(a.ctx, { role: 'teacher' });
    token = await buildToken(a.ctx, teacher.user.id, ['grades:write', 'grades:read']);
  });
  afterAll(async () => {
    await a?.close();
    await maria?.destroy();
  });

  it('fails fast with 503 and Retry-After, acknowledges nothing uncommitted, and recovers by itself', async () => {
    const load = ingestLoop(a.url, token, 22);
    try {
      await load.waitForAcks(100);
      await maria.stop();
      await sleep(MARIADB_OUTAGE_MS);
      await maria.start();
      // No restart of the app, no operator action: acknowledgements resume.
      await load.waitForAcks(200);
    } finally {
      await load.stop();
    }
    const failed = load.answers.filter((x) => x.status !== 201);
    expect(failed.length, 'the outage was not seen by any request').toBeGreaterThan(0);
    for (const f of failed) {
      expect(f.status, JSON.stringify(f)).toBe(503);
      expect(f.retryAfter, JSON.stringify(f)).toMatch(/^\d+$/);
      // Fail fast: well under a client's patience, never a hang.
      expect(f.ms, JSON.stringify(f)).toBeLessThan(5_000);
    }
    await expectStoredOnce(a.ctx, load.acked);
    console.info(
      `mariadb restart: ${MARIADB_OUTAGE_MS} ms down, ${load.acked.length} grades acknowledged, ` +
        `${failed.length} requests answered 503 (slowest ${Math.round(Math.max(...failed.map((f) => f.ms)))} ms)`,
    );
  });
});
