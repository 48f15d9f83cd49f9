import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countGradeRows, createToken, runLoadCli, startTestServer, type TestServer } from './testing.ts';

/**
 * The generator's two promises about traffic shape, checked against the real server: the REST
 * share of a split, and the arrival rate of the open model.
 */
describe('aula load: traffic split and arrival rate against the real grade ingest', () => {
  let server: TestServer;
  let token: string;
  let target: string[];

  beforeAll(async () => {
    server = await startTestServer();
    token = createToken(server, ['grades:write', 'loadtest:publish']);
    target = ['--target', server.url, '--grpc', server.grpcAddress, '--token', token, '--quiet'];
  });
  afterAll(async () => server?.stop());

  it('split: keeps the asked REST share within ±5% and every acknowledged grade is stored', async () => {
    const before = countGradeRows(server);
    const r = await runLoadCli(
      [...target, '--mode', 'split', '--split', '30', '--users', '16', '--requests', '1200', '--seed', '14'],
      {
        report: true,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const { rest, grpc } = r.report!.split;
    expect(rest + grpc).toBe(1200);
    expect(Math.abs(rest / 1200 - 0.3)).toBeLessThanOrEqual(0.05);
    expect(r.report!.errors).toBe(0);
    expect(countGradeRows(server) - before).toBe(r.report!.grades);
    expect(r.report!.grades).toBe(1200);
  });

  it('open model: holds the asked arrival rate, measuring latency from each scheduled send', async () => {
    const before = countGradeRows(server);
    // The server shares two cores with the rest of the suite; a generous in-flight cap keeps a
    // momentary stall from turning arrivals into drops, which is what an open model must allow.
    const r = await runLoadCli(
      [...target, '--mode', 'rest', '--rate', '500/s', '--duration', '5s', '--seed', '15', '--max-inflight', '5000'],
      {
        report: true,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const s = r.report!;
    expect(s.model).toBe('open');
    // Every one of the 2,500 arrivals was either sent or reported dropped, never skipped.
    expect(s.requests + s.dropped).toBe(2500);
    expect(s.dropped).toBeLessThanOrEqual(125);
    // The arrival rate achieved (sends per second, independent of how fast answers came back).
    expect(Math.abs(s.sendRate - 500)).toBeLessThanOrEqual(25);
    expect(s.timeline.slice(0, 5).reduce((n, t) => n + t.rest, 0)).toBe(s.requests);
    expect(s.errors).toBe(0);
    expect(countGradeRows(server) - before).toBe(s.grades);
  });
});
