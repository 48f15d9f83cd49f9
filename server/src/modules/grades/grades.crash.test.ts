import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../config.ts';
import { createContext } from '../../context.ts';
import { createDb } from '../../platform/db/database.ts';
import { buildToken, buildUser } from '../../test/factories.ts';

const ROOT = path.resolve(import.meta.dirname, '../../../..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The real server process, as `aula serve api` runs it. */
function startServer(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/src/main.ts'), 'serve', 'api'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', () => {});
  return child;
}

async function waitLive(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health/live`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

describe('acknowledged grades survive kill -9', () => {
  let dir: string;
  let env: Record<string, string>;
  let url: string;
  let token: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-crash-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATA_DIR: dir,
      DATABASE_URL: `sqlite:${path.join(dir, 'aula.db')}`,
      HOST: '127.0.0.1',
      PORT: String(port),
      GRPC_PORT: String(await freePort()),
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
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds every acknowledged key in SQL exactly once after a crash mid-load', async () => {
    const first = startServer(env);
    children.push(first);
    await waitLive(url, first);

    const acked: string[] = [];
    let failed = 0;
    let stop = false;
    const worker = async (w: number) => {
      for (let seq = 0; !stop; seq++) {
        const n = 1 + ((w + seq) % 10);
        const batch = Array.from({ length: n }, (_, i) => ({
          student_code: `K${w}x${(seq * 7 + i) % 500}`,
          student_name: 'Crash Test',
          course_code: `CR${(w + i) % 4}`,
          semester: 1 + (i % 2),
          year: 2025,
          score: (seq * 13 + i) % 101,
          idempotency_key: `w${w}-${seq}-${i}`,
        }));
        try {
          const res = await fetch(`${url}/api/v1/grades`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(batch),
          });
          if (res.status === 201) {
            const ack = (await res.json()) as { accepted: number; duplicates: number };
            if (ack.accepted + ack.duplicates !== n) throw new Error(`bad ack ${JSON.stringify(ack)}`);
            acked.push(...batch.map((g) => g.idempotency_key));
          } else {
            failed++;
          }
        } catch {
          failed++;
          if (stop) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const load = Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    const deadline = Date.now() + 20_000;
    while (acked.length < 3000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    stop = true;
    await load;
    expect(acked.length, `${failed} requests failed or were cut off by the crash`).toBeGreaterThan(100);

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
      expect(missing, `${missing.length} of ${acked.length} acknowledged keys missing`).toEqual([]);
      // The summaries committed with the records: they agree with the append-only table.
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
    } finally {
      await db.destroy();
    }

    // It starts again on the same files, counts from SQL, and keeps ingesting.
    const second = startServer(env);
    children.push(second);
    await waitLive(url, second);
    const again = await fetch(`${url}/api/v1/grades`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          student_code: 'AFTER',
          student_name: 'After',
          course_code: 'CR0',
          semester: 1,
          year: 2025,
          score: 1,
          idempotency_key: acked[0],
        },
      ]),
    });
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual({ accepted: 0, duplicates: 1 });
    const counters = (await (
      await fetch(`${url}/api/v1/analytics/grades/counters`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { total: number };
    const total = (await (
      await fetch(`${url}/api/v1/analytics/grades/total`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { total: number };
    expect(counters.total).toBe(total.total);
    second.kill('SIGTERM');
    const code = await new Promise((r) => second.once('exit', r));
    expect(code).toBe(0);
  });
});
