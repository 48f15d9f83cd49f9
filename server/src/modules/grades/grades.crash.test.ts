import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../config.ts';
import { createContext } from '../../context.ts';
import { GradeGenerator, type GradeRecord } from '../../loadgen/data.ts';
import type { Engine } from '../../loadgen/engine.ts';
import { GrpcEngine } from '../../loadgen/grpc-engine.ts';
import { RestEngine } from '../../loadgen/rest-engine.ts';
import { createDb } from '../../platform/db/database.ts';
import { freePort, seededRandom, sleep, startRole, type RoleProcess } from '../../reliability/processes.ts';
import { buildToken, buildUser } from '../../test/factories.ts';
import { scaled } from '../../test/reliability.ts';

/**
 * Crash consistency of grade ingest: the traffic generator's REST and gRPC engines drive the
 * deployment's topology (`serve api` forwarding REST ingest to `serve ingest-grpc`, the one
 * writer) while the writer is killed with SIGKILL at random moments and started again. After
 * every restart and at the end, each acknowledged idempotency key is in SQL exactly once.
 * `npm test` runs a few kills; `npm run test:reliability` runs 20.
 */

const KILLS = scaled(3, 20);
const SEED = Number(process.pid) ^ (Date.now() % 65_536);

describe('acknowledged grades survive kill -9 of the ingest process', () => {
  let dir: string;
  let env: Record<string, string>;
  let apiPort: number;
  let grpcPort: number;
  let token: string;
  const procs: RoleProcess[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-crash-'));
    [apiPort, grpcPort] = [await freePort(), await freePort()];
    env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATA_DIR: dir,
      DATABASE_URL: `sqlite:${path.join(dir, 'aula.db')}`,
      BLOB_URL: `file:${path.join(dir, 'blobs')}`,
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(grpcPort),
      SEED_DEMO: 'false',
      AULA_ADMIN_PASSWORD: 'crash-test-password',
      WORKERS: '1',
    };
    const ctx = await createContext(testConfig({ DATA_DIR: dir, DATABASE_URL: env.DATABASE_URL }));
    try {
      const u = await buildUser(ctx, { role: 'teacher' });
      token = await buildToken(ctx, u.user.id, ['grades:write', 'grades:read']);
    } finally {
      await ctx.close();
    }
  });
  afterAll(async () => {
    for (const p of procs) await p.kill9();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = async (role: 'api' | 'ingest-grpc', extra: Record<string, string> = {}) => {
    const p = await startRole(role, { ...env, ...extra });
    procs.push(p);
    return p;
  };

  /** Every acknowledged key is stored exactly once, and no key at all is stored twice. */
  const checkExactlyOnce = async (acked: string[]) => {
    const db = createDb(env.DATABASE_URL);
    try {
      const found = new Map<string, number>();
      for (let i = 0; i < acked.length; i += 500) {
        const rows = await db.kysely
          .selectFrom('grade_records')
          .select('idempotency_key')
          .where('idempotency_key', 'in', acked.slice(i, i + 500))
          .execute();
        for (const r of rows) found.set(r.idempotency_key!, (found.get(r.idempotency_key!) ?? 0) + 1);
      }
      const missing = acked.filter((k) => found.get(k) !== 1);
      expect(missing, `seed ${SEED}: ${missing.length} of ${acked.length} acknowledged keys not stored once`).toEqual(
        [],
      );
      const twice = await db.kysely
        .selectFrom('grade_records')
        .select('idempotency_key')
        .where('idempotency_key', 'is not', null)
        .groupBy('idempotency_key')
        .having((eb) => eb.fn.countAll(), '>', 1)
        .execute();
      expect(twice, `seed ${SEED}: keys stored twice`).toEqual([]);
      // The summaries committed with the records agree with the append-only table.
      const records = await db.kysely
        .selectFrom('grade_records')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const groups = await db.kysely
        .selectFrom('grade_groups')
        .select((eb) => [eb.fn.sum<number>('records').as('records'), eb.fn.sum<number>('students').as('students')])
        .executeTakeFirstOrThrow();
      const effective = await db.kysely
        .selectFrom('grade_effective')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(groups.records)).toBe(Number(records.n));
      expect(Number(groups.students)).toBe(Number(effective.n));
      expect(Number(records.n)).toBeGreaterThanOrEqual(acked.length);
      return Number(records.n);
    } finally {
      await db.destroy();
    }
  };

  it(`finds every acknowledged key in SQL exactly once after ${KILLS} kills under REST and gRPC load`, async () => {
    const random = seededRandom(SEED);
    let ingest = await start('ingest-grpc');
    const api = await start('api', { GRADES_FORWARD_GRPC: `127.0.0.1:${grpcPort}` });

    const rest = new RestEngine({
      target: `http://127.0.0.1:${apiPort}`,
      token,
      connections: 6,
      timeoutMs: 10_000,
      method: 'POST',
      path: '/api/v1/grades',
    });
    const grpc = await GrpcEngine.create({ address: `127.0.0.1:${grpcPort}`, token, channels: 2, timeoutMs: 10_000 });
    const generator = new GradeGenerator({ seed: SEED, students: 5000, idempotencyPrefix: `crash${SEED}` });

    const acked: string[] = [];
    const failures = new Map<string, number>();
    let stop = false;
    const client = async (engine: Engine, w: number) => {
      for (let seq = 0; !stop; seq++) {
        const batch: GradeRecord[] = generator.batch(1 + ((w * 7 + seq) % 25));
        const outcome = await engine.send(batch);
        if (outcome.ok) {
          // An acknowledgement covers the whole request: accepted plus duplicates.
          if (outcome.grades !== batch.length) throw new Error(`ack of ${outcome.grades} for ${batch.length} records`);
          for (const g of batch) acked.push(g.idempotency_key!);
        } else {
          failures.set(outcome.kind, (failures.get(outcome.kind) ?? 0) + 1);
          await sleep(20);
        }
      }
    };
    const load = Promise.all([
      ...Array.from({ length: 4 }, (_, w) => client(rest, w)),
      ...Array.from({ length: 4 }, (_, w) => client(grpc, w + 4)),
    ]);

    const waitForProgress = async (n: number, what: string) => {
      const target = acked.length + n;
      const deadline = Date.now() + 60_000;
      while (acked.length < target) {
        if (Date.now() > deadline) {
          throw new Error(`seed ${SEED}: no progress ${what} (${JSON.stringify(Object.fromEntries(failures))})`);
        }
        await sleep(20);
      }
    };

    try {
      await waitForProgress(200, 'before the first kill');
      for (let k = 0; k < KILLS; k++) {
        // A random moment: after a random amount of further acknowledged load.
        await sleep(Math.floor(random() * 1500));
        await ingest.kill9();
        await sleep(Math.floor(random() * 500));
        ingest = await start('ingest-grpc');
        // It recovers by itself: both transports acknowledge again without any client restart.
        await waitForProgress(100, `after restart ${k + 1}`);
      }
    } finally {
      stop = true;
      await load;
      await rest.close();
      await grpc.close();
    }
    await ingest.kill9();
    expect(await api.stop()).toBe(0);

    expect(acked.length).toBeGreaterThan(KILLS * 100);
    const stored = await checkExactlyOnce(acked);
    console.info(
      `crash consistency: ${KILLS} kills, ${acked.length} grades acknowledged, ${stored} stored, ` +
        `failed requests by kind ${JSON.stringify(Object.fromEntries(failures))}, seed ${SEED}`,
    );

    // It starts again on the same files, counts from SQL, and refuses to store a key twice.
    const again = await start('api');
    const url = `http://127.0.0.1:${apiPort}`;
    const dup = await fetch(`${url}/api/v1/grades`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          student_code: 'AFTER',
          student_name: 'After',
          course_code: 'SO1',
          semester: 1,
          year: 2025,
          score: 1,
          idempotency_key: acked[0],
        },
      ]),
    });
    expect(dup.status).toBe(201);
    expect(await dup.json()).toEqual({ accepted: 0, duplicates: 1 });
    const get = async (p: string) =>
      (await (await fetch(`${url}${p}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        total: number;
      };
    expect((await get('/api/v1/analytics/grades/counters')).total).toBe(
      (await get('/api/v1/analytics/grades/total')).total,
    );
    expect(await again.stop()).toBe(0);
  });
});
