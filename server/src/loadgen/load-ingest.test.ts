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
});
