import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countGradeRows, createToken, runLoadCli, startTestServer, type TestServer } from './testing.ts';

/**
 * The generator against the real grade ingest: what it reports as acknowledged must be exactly
 * what the server committed, whatever the transport.
 */
describe('aula load: grade ingest over REST, gRPC and a split', () => {
  let server: TestServer;
  let token: string;
  let target: string[];

  beforeAll(async () => {
    server = await startTestServer();
    token = createToken(server, ['grades:write', 'loadtest:publish']);
    target = ['--target', server.url, '--grpc', server.grpcAddress, '--token', token, '--quiet'];
  });
  afterAll(async () => server?.stop());

  it('REST: the grades acknowledged are the rows added', async () => {
    const before = countGradeRows(server);
    const r = await runLoadCli(
      [
        ...target,
        '--mode',
        'rest',
        '--users',
        '8',
        '--requests',
        '300',
        '--batch',
        '5',
        '--seed',
        '11',
        '--idempotency',
      ],
      {
        report: true,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.report).toMatchObject({ requests: 300, ok: 300, errors: 0, grades: 1500, split: { rest: 300, grpc: 0 } });
    expect(countGradeRows(server) - before).toBe(r.report!.grades);
  });

  it('gRPC: Submit (one grade) and SubmitBatch (many) are counted from the server acknowledgement', async () => {
    const before = countGradeRows(server);
    const single = await runLoadCli(
      [...target, '--mode', 'grpc', '--users', '8', '--requests', '300', '--seed', '12'],
      { report: true },
    );
    expect(single.code, single.stderr).toBe(0);
    expect(single.report).toMatchObject({
      requests: 300,
      ok: 300,
      errors: 0,
      grades: 300,
      split: { rest: 0, grpc: 300 },
    });
    const batched = await runLoadCli(
      [...target, '--mode', 'grpc', '--users', '4', '--requests', '40', '--batch', '50', '--seed', '13'],
      {
        report: true,
      },
    );
    expect(batched.code, batched.stderr).toBe(0);
    expect(batched.report).toMatchObject({ requests: 40, ok: 40, grades: 2000 });
    expect(countGradeRows(server) - before).toBe(single.report!.grades + batched.report!.grades);
  });

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

  it('open model: holds the asked arrival rate when the server keeps up', async () => {
    const before = countGradeRows(server);
    const r = await runLoadCli([...target, '--mode', 'rest', '--rate', '500/s', '--duration', '5s', '--seed', '15'], {
      report: true,
    });
    expect(r.code, r.stderr).toBe(0);
    const s = r.report!;
    expect(s.model).toBe('open');
    expect(s.dropped).toBe(0);
    expect(Math.abs(s.requests + s.dropped - 2500)).toBeLessThanOrEqual(125);
    expect(Math.abs(s.rps - 500)).toBeLessThanOrEqual(25);
    expect(countGradeRows(server) - before).toBe(s.grades);
  });
});
