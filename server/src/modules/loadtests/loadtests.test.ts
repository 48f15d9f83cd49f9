import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { buildToken, buildUser, signedIn } from '../../test/factories.ts';

const T0 = 1_760_000_000; // an epoch second

function sample(second: number, requests: number, errors: number, p: [number, number, number]) {
  return {
    second,
    requests,
    ok: requests - errors,
    errors,
    grades: (requests - errors) * 10,
    p50: p[0],
    p95: p[1],
    p99: p[2],
  };
}

function workerSummary(requests: number, errors: number, histogram: [number, number][], p99: number) {
  return {
    startedAt: new Date(T0 * 1000).toISOString(),
    finishedAt: new Date((T0 + 10) * 1000).toISOString(),
    durationSec: 10,
    requests,
    ok: requests - errors,
    errors,
    grades: (requests - errors) * 10,
    rps: requests / 10,
    dropped: 0,
    late: 0,
    latencyMs: { p50: 1, p90: 2, p95: 3, p99, max: p99 * 2 },
    errorsByKind: errors ? { http_503: errors } : {},
    split: { rest: requests, grpc: 0 },
    histogram,
    thresholdsPassed: true,
  };
}

describe('load-test runs over HTTP', () => {
  let t: TestApp;
  let publish: Record<string, string>;
  let gradesOnly: Record<string, string>;

  beforeAll(async () => {
    t = await createTestApp();
    const { user } = await buildUser(t.ctx, { role: 'teacher' });
    publish = { authorization: `Bearer ${await buildToken(t.ctx, user.id, ['grades:write', 'loadtest:publish'])}` };
    gradesOnly = { authorization: `Bearer ${await buildToken(t.ctx, user.id, ['grades:write'])}` };
  });
  afterAll(async () => t.close());

  const post = (url: string, payload: unknown, headers = publish) =>
    t.app.inject({ method: 'POST', url: `/api/v1/loadtests${url}`, headers, payload: payload as object });

  it('adds up the samples of several workers that share a run id', async () => {
    const events: unknown[] = [];
    const off = t.ctx.bus.subscribe('loadtests.sample', (p) => events.push(p));
    const reg = await post('/nightly-1/samples', {
      workerId: 'w1',
      name: 'Nightly',
      mode: 'split',
      config: { users: 5 },
      samples: [],
    });
    expect(reg.statusCode).toBe(200);
    expect(reg.json()).toEqual({ runId: 'nightly-1', accepted: 0 });
    const a = await post('/nightly-1/samples', {
      workerId: 'w1',
      samples: [sample(T0, 100, 1, [1, 4, 9]), sample(T0 + 1, 120, 0, [1.5, 5, 7])],
    });
    expect(a.json()).toEqual({ runId: 'nightly-1', accepted: 2 });
    await post('/nightly-1/samples', {
      workerId: 'w2',
      samples: [sample(T0 + 1, 80, 2, [2, 6, 12]), sample(T0 + 2, 90, 0, [1, 2, 3])],
    });

    const res = await t.app.inject({ url: '/api/v1/loadtests/nightly-1', headers: publish });
    expect(res.statusCode).toBe(200);
    const run = res.json();
    expect(run).toMatchObject({
      runId: 'nightly-1',
      name: 'Nightly',
      mode: 'split',
      status: 'running',
      workers: 2,
      workersFinished: 0,
    });
    expect(run.config).toEqual({ users: 5 });
    expect(
      run.series.map((p: { second: number; requests: number; errors: number; p99: number; workers: number }) => [
        p.second,
        p.requests,
        p.errors,
        p.p99,
        p.workers,
      ]),
    ).toEqual([
      [T0, 100, 1, 9, 1],
      [T0 + 1, 200, 2, 12, 2],
      [T0 + 2, 90, 0, 3, 1],
    ]);
    expect(run.series[1]).toMatchObject({ ok: 198, grades: 1980, p50: 2, p95: 6 });
    expect(run.summary).toMatchObject({ live: true, requests: 390, errors: 3, latencyMerge: 'per-second-max' });
    expect(run.summary.latencyMs.p99).toBe(12);

    const since = await t.app.inject({ url: `/api/v1/loadtests/nightly-1?since=${T0 + 1}`, headers: publish });
    expect(since.json().series.map((p: { second: number }) => p.second)).toEqual([T0 + 2]);
    await new Promise((r) => setTimeout(r, 5));
    off();
    // The empty registration post publishes nothing.
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ runId: 'nightly-1', workerId: 'w1' });
  });

  it('replaces a second that is posted again instead of counting it twice', async () => {
    await post('/retry/samples', { workerId: 'w1', samples: [sample(T0, 50, 0, [1, 1, 1])] });
    await post('/retry/samples', {
      workerId: 'w1',
      samples: [sample(T0, 50, 0, [1, 1, 1]), sample(T0 + 1, 60, 0, [1, 1, 1])],
    });
    const run = (await t.app.inject({ url: '/api/v1/loadtests/retry', headers: publish })).json();
    expect(run.series.map((p: { requests: number }) => p.requests)).toEqual([50, 60]);
  });

  it('merges finished workers into one summary, with exact percentiles from their histograms', async () => {
    await post('/merge/samples', { workerId: 'a', samples: [sample(T0, 4, 0, [1, 1, 1])] });
    await post('/merge/samples', { workerId: 'b', samples: [sample(T0, 6, 1, [2, 2, 2])] });
    const first = await post('/merge/finish', {
      workerId: 'a',
      summary: workerSummary(
        4,
        0,
        [
          [1000, 3],
          [50_000, 1],
        ],
        50,
      ),
    });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ status: 'running', workers: 2, workersFinished: 1 });
    const second = await post('/merge/finish', {
      workerId: 'b',
      summary: workerSummary(
        6,
        1,
        [
          [2000, 5],
          [9000, 1],
        ],
        9,
      ),
    });
    expect(second.statusCode).toBe(200);
    const run = second.json();
    expect(run).toMatchObject({ status: 'finished', workers: 2, workersFinished: 2 });
    expect(run.finishedAt).not.toBeNull();
    expect(run.summary).toMatchObject({
      live: false,
      requests: 10,
      ok: 9,
      errors: 1,
      grades: 90,
      workers: 2,
      rps: 1,
      latencyMerge: 'exact',
      errorsByKind: { http_503: 1 },
      split: { rest: 10, grpc: 0 },
      thresholdsPassed: true,
    });
    // 10 latencies: 1 ms ×3, 2 ms ×5, 9 ms, 50 ms → p50 = 2 ms, p90 = 9 ms, p99 = 50 ms.
    expect(run.summary.latencyMs).toMatchObject({ p50: 2, p90: 9, p99: 50, max: 100 });

    const list = await t.app.inject({ url: '/api/v1/loadtests?limit=50', headers: publish });
    const item = list.json().items.find((r: { runId: string }) => r.runId === 'merge');
    expect(item.summary.requests).toBe(10);
  });

  it('falls back to the highest worker percentile when a histogram is missing', async () => {
    await post('/nohist/samples', { workerId: 'a', samples: [] });
    await post('/nohist/samples', { workerId: 'b', samples: [] });
    const { histogram: _h, ...noHist } = workerSummary(5, 0, [], 30);
    await post('/nohist/finish', { workerId: 'a', summary: noHist });
    const res = await post('/nohist/finish', { workerId: 'b', summary: workerSummary(5, 0, [[1000, 5]], 4) });
    expect(res.json().summary).toMatchObject({ latencyMerge: 'max', requests: 10 });
    expect(res.json().summary.latencyMs.p99).toBe(30);
  });

  it('reopens a finished run when another worker joins it', async () => {
    await post('/reopen/samples', { workerId: 'a', samples: [] });
    await post('/reopen/finish', { workerId: 'a', summary: workerSummary(1, 0, [[1000, 1]], 1) });
    await post('/reopen/samples', { workerId: 'late', samples: [sample(T0 + 20, 3, 0, [1, 1, 1])] });
    const run = (await t.app.inject({ url: '/api/v1/loadtests/reopen', headers: publish })).json();
    expect(run).toMatchObject({ status: 'running', workers: 2, workersFinished: 1, finishedAt: null });
  });

  it('lists runs newest first, paginated', async () => {
    const res = await t.app.inject({ url: '/api/v1/loadtests?limit=2&offset=0', headers: publish });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ limit: 2, offset: 0 });
    expect(body.items).toHaveLength(2);
    expect(body.total).toBeGreaterThanOrEqual(5);
    expect(body.items[0].runId).toBe('reopen');
    const next = await t.app.inject({ url: '/api/v1/loadtests?limit=2&offset=2', headers: publish });
    expect(next.json().items.map((r: { runId: string }) => r.runId)).not.toContain('reopen');
  });

  it('needs the loadtest:publish scope or an admin session to publish, and staff to read', async () => {
    const body = { workerId: 'w', samples: [] };
    const noAuth = await t.app.inject({ method: 'POST', url: '/api/v1/loadtests/x/samples', payload: body });
    expect(noAuth.statusCode).toBe(401);
    expect(noAuth.headers['content-type']).toContain('application/problem+json');
    const noScope = await post('/x/samples', body, gradesOnly);
    expect(noScope.statusCode).toBe(403);
    expect(noScope.json().detail).toContain('loadtest:publish');
    const teacher = await signedIn(t.app, t.ctx, 'teacher');
    expect((await post('/x/samples', body, teacher.headers)).statusCode).toBe(403);
    expect((await t.app.inject({ url: '/api/v1/loadtests', headers: teacher.headers })).statusCode).toBe(200);
    const student = await signedIn(t.app, t.ctx, 'student');
    expect((await t.app.inject({ url: '/api/v1/loadtests', headers: student.headers })).statusCode).toBe(403);
    const admin = await signedIn(t.app, t.ctx, 'admin');
    expect((await post('/by-admin/samples', body, admin.headers)).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/v1/loadtests/x', headers: admin.headers })).statusCode).toBe(404);
    const del = await t.app.inject({ method: 'DELETE', url: '/api/v1/loadtests/by-admin', headers: admin.headers });
    expect(del.statusCode).toBe(204);
    expect((await t.app.inject({ url: '/api/v1/loadtests/by-admin', headers: admin.headers })).statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'DELETE', url: '/api/v1/loadtests/merge', headers: publish })).statusCode,
    ).toBe(403);
  });

  it.each([
    ['an unknown field', { workerId: 'w', samples: [], extra: 1 }, 'validation_failed'],
    ['a bad worker id', { workerId: 'no spaces', samples: [] }, 'validation_failed'],
    ['a second in milliseconds', { workerId: 'w', samples: [sample(T0 * 1000, 1, 0, [1, 1, 1])] }, 'validation_failed'],
    [
      'negative counts',
      { workerId: 'w', samples: [{ ...sample(T0, 1, 0, [1, 1, 1]), requests: -1 }] },
      'validation_failed',
    ],
    [
      'ok + errors ≠ requests',
      { workerId: 'w', samples: [{ ...sample(T0, 5, 0, [1, 1, 1]), ok: 3 }] },
      'inconsistent_sample',
    ],
    [
      'a second twice',
      { workerId: 'w', samples: [sample(T0, 1, 0, [1, 1, 1]), sample(T0, 1, 0, [1, 1, 1])] },
      'duplicate_seconds',
    ],
  ])('rejects %s with a 400 and stores nothing', async (_what, payload, code) => {
    const res = await post('/bad-input/samples', payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe(code);
    expect((await t.app.inject({ url: '/api/v1/loadtests/bad-input', headers: publish })).statusCode).toBe(404);
  });

  it('rejects a bad run id, and a finish for a run that does not exist', async () => {
    expect((await post('/has%20space/samples', { workerId: 'w', samples: [] })).statusCode).toBe(400);
    const res = await post('/missing/finish', { workerId: 'w', summary: workerSummary(1, 0, [[1, 1]], 1) });
    expect(res.statusCode).toBe(404);
    const badHist = await post('/merge/finish', { workerId: 'a', summary: workerSummary(1, 0, [[0, 1]], 1) });
    expect(badHist.statusCode).toBe(400);
  });
});
