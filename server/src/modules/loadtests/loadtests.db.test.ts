import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryBus } from '../../platform/bus/bus.ts';
import type { Db } from '../../platform/db/database.ts';
import { describeEachDialect, openTestDb } from '../../test/databases.ts';
import { SYSTEM_ACTOR } from '../identity/actor.ts';
import { LoadtestsRepository } from './loadtests.repository.ts';
import { LoadtestsService, STALE_AFTER_MS } from './loadtests.service.ts';

const T0 = 1_760_000_000;

describeEachDialect('load-test runs', (dialect) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  let clock = Date.now();
  let service: LoadtestsService;

  beforeAll(async () => {
    ({ db, cleanup } = await openTestDb(dialect));
    service = new LoadtestsService(new LoadtestsRepository(db.kysely, db.dialect), db, new MemoryBus(), () => clock);
  });
  afterAll(async () => cleanup());

  const samples = (worker: number, seconds: number) =>
    Array.from({ length: seconds }, (_, i) => ({
      second: T0 + i,
      requests: 100 + worker,
      ok: 100 + worker,
      errors: 0,
      grades: 100 + worker,
      p50: 1 + worker / 10,
      p95: 2 + worker / 10,
      p99: 3 + worker,
    }));

  it('creates one run when many workers start it at once, and sums their seconds', async () => {
    const workers = Array.from({ length: 8 }, (_, i) => i);
    await Promise.all(
      workers.map((w) => service.recordSamples(SYSTEM_ACTOR, 'swarm', { workerId: `w${w}`, samples: samples(w, 5) })),
    );
    const run = await service.getRun(SYSTEM_ACTOR, 'swarm');
    expect(run.workers).toBe(8);
    expect(run.series).toHaveLength(5);
    const perSecond = workers.reduce((a, w) => a + 100 + w, 0);
    for (const p of run.series) {
      expect(p).toMatchObject({
        requests: perSecond,
        ok: perSecond,
        errors: 0,
        grades: perSecond,
        workers: 8,
        p99: 10,
      });
      expect(p.p50).toBeCloseTo(1.7, 6);
    }
    expect(run.series.map((p) => p.t)).toEqual(
      run.series.map((p) => p.second - Math.floor(Date.parse(run.startedAt) / 1000)),
    );
  });

  it('merges every worker when they finish concurrently', async () => {
    const ids = ['a', 'b', 'c', 'd'];
    for (const id of ids) await service.recordSamples(SYSTEM_ACTOR, 'together', { workerId: id, samples: [] });
    await Promise.all(
      ids.map((id, i) =>
        service.finishWorker(SYSTEM_ACTOR, 'together', id, {
          startedAt: new Date(T0 * 1000).toISOString(),
          finishedAt: new Date((T0 + 10) * 1000).toISOString(),
          durationSec: 10,
          requests: 1000,
          ok: 1000,
          errors: 0,
          grades: 1000,
          rps: 100,
          dropped: 0,
          late: 0,
          latencyMs: { p50: 1, p90: 1, p95: 1, p99: 1, max: 1 },
          errorsByKind: {},
          split: { rest: 500, grpc: 500 },
          histogram: [[1000 * (i + 1), 1000]],
        }),
      ),
    );
    const run = await service.getRun(SYSTEM_ACTOR, 'together');
    expect(run.status).toBe('finished');
    expect(run.summary).toMatchObject({
      requests: 4000,
      workers: 4,
      rps: 400,
      latencyMerge: 'exact',
      split: { rest: 2000, grpc: 2000 },
    });
    expect(run.summary!.latencyMs).toMatchObject({ p50: 2, p99: 4 });
  });

  it('shows a run whose workers went quiet as interrupted', async () => {
    await service.recordSamples(SYSTEM_ACTOR, 'quiet', { workerId: 'w', samples: samples(0, 2) });
    expect((await service.getRun(SYSTEM_ACTOR, 'quiet')).status).toBe('running');
    clock += STALE_AFTER_MS + 1000;
    expect((await service.getRun(SYSTEM_ACTOR, 'quiet')).status).toBe('interrupted');
    const listed = await service.listRuns(SYSTEM_ACTOR, 100, 0);
    expect(listed.items.find((r) => r.runId === 'quiet')?.status).toBe('interrupted');
    await service.recordSamples(SYSTEM_ACTOR, 'quiet', { workerId: 'w', samples: [] });
    expect((await service.getRun(SYSTEM_ACTOR, 'quiet')).status).toBe('running');
  });

  it('deletes a run with its samples, workers and histogram bins', async () => {
    await service.recordSamples(SYSTEM_ACTOR, 'doomed', { workerId: 'w', samples: samples(1, 3) });
    await service.finishWorker(SYSTEM_ACTOR, 'doomed', 'w', {
      startedAt: new Date(T0 * 1000).toISOString(),
      finishedAt: new Date((T0 + 3) * 1000).toISOString(),
      durationSec: 3,
      requests: 303,
      ok: 303,
      errors: 0,
      grades: 303,
      rps: 101,
      dropped: 0,
      late: 0,
      latencyMs: { p50: 1, p90: 1, p95: 1, p99: 1, max: 1 },
      errorsByKind: {},
      split: { rest: 303, grpc: 0 },
      histogram: [
        [900, 300],
        [5000, 3],
      ],
    });
    await service.deleteRun(SYSTEM_ACTOR, 'doomed');
    const left = await Promise.all(
      (['loadtest_samples', 'loadtest_workers', 'loadtest_latency_bins'] as const).map((table) =>
        db.kysely
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('worker_id', '=', 'w')
          .executeTakeFirstOrThrow(),
      ),
    );
    // Only the 'quiet' run's worker "w" remains (2 samples, 1 worker row, no bins).
    expect(left.map((r) => Number(r.n))).toEqual([2, 1, 0]);
  });
});
