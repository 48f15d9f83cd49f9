import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, runLoadCli, startTestServer, type TestServer } from './testing.ts';

describe('aula load: thresholds and publishing, against a real server', () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer();
    token = createToken(server, ['grades:write', 'loadtest:publish']);
  });
  afterAll(async () => server?.stop());

  it('refuses a token the server does not know, before sending load', async () => {
    const r = await runLoadCli(['--target', server.url, '--token', 'aula_not-a-real-token', '--duration', '10m']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the server rejected the API token (invalid_token)');
  });

  it('exits 0 when every threshold passes and 99 when one fails', async () => {
    const common = [
      '--target',
      server.url,
      '--method',
      'GET',
      '--path',
      '/health/live',
      '--users',
      '4',
      '--requests',
      '300',
      '--quiet',
    ];
    const pass = await runLoadCli(
      [...common, '--threshold', 'errors<1%', '--threshold', 'p99<10s', '--threshold', 'rps>1'],
      {
        report: true,
      },
    );
    expect(pass.code, pass.stderr).toBe(0);
    expect(pass.report!.thresholds.map((t) => t.passed)).toEqual([true, true, true]);
    expect(pass.report!.thresholdsPassed).toBe(true);

    const fail = await runLoadCli([...common, '--threshold', 'errors<1%', '--threshold', 'p50<0.001ms'], {
      report: true,
    });
    expect(fail.code).toBe(99);
    expect(fail.report!.thresholds.map((t) => [t.expr, t.passed])).toEqual([
      ['errors<1%', true],
      ['p50<0.001ms', false],
    ]);
    expect(fail.report!.requests).toBe(300);
  });

  it('adds two publishing generators with one run id into one run', async () => {
    const runId = `twin-${Date.now()}`;
    const args = (worker: string, users: string) => [
      '--target',
      server.url,
      '--token',
      token,
      '--method',
      'GET',
      '--path',
      '/health/live',
      '--users',
      users,
      '--duration',
      '4s',
      '--publish',
      '--run-id',
      runId,
      '--name',
      'Twin workers',
      '--worker-id',
      worker,
      '--quiet',
    ];
    const [a, b] = await Promise.all([
      runLoadCli(args('worker-a', '2'), { report: true }),
      runLoadCli(args('worker-b', '3'), { report: true }),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.report!.publish).toMatchObject({ runId, workerId: 'worker-a', failedPosts: 0 });
    expect(b.report!.publish).toMatchObject({ runId, workerId: 'worker-b', failedPosts: 0 });

    const res = await fetch(`${server.url}/api/v1/loadtests/${runId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const run = (await res.json()) as {
      name: string;
      status: string;
      workers: number;
      workersFinished: number;
      summary: {
        requests: number;
        ok: number;
        errors: number;
        latencyMerge: string;
        workers: number;
        latencyMs: { p99: number };
      };
      series: { requests: number; ok: number; workers: number }[];
      workerList: { workerId: string }[];
    };
    expect(run).toMatchObject({ name: 'Twin workers', status: 'finished', workers: 2, workersFinished: 2 });
    expect(run.workerList.map((w) => w.workerId)).toEqual(['worker-a', 'worker-b']);
    const requests = a.report!.requests + b.report!.requests;
    expect(run.summary).toMatchObject({
      requests,
      ok: a.report!.ok + b.report!.ok,
      errors: 0,
      workers: 2,
      latencyMerge: 'exact',
    });
    // The per-second series adds up to the same totals.
    expect(run.series.reduce((n, p) => n + p.requests, 0)).toBe(requests);
    expect(Math.max(...run.series.map((p) => p.workers))).toBe(2);
    expect(run.summary.latencyMs.p99).toBeGreaterThan(0);

    const list = await fetch(`${server.url}/api/v1/loadtests`, { headers: { authorization: `Bearer ${token}` } });
    const page = (await list.json()) as { items: { runId: string }[] };
    expect(page.items.filter((r) => r.runId === runId)).toHaveLength(1);
  });
});
