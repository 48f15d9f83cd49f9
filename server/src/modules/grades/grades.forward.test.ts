import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../config.ts';
import { createContext, type AppContext } from '../../context.ts';
import { startGrpcServer, type GrpcServerHandle } from '../../grpc/server.ts';
import { buildApp, type App } from '../../http/app.ts';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { buildToken, buildUser, signedIn } from '../../test/factories.ts';

const grade = (over: Record<string, unknown> = {}) => ({
  student_code: '201900001',
  student_name: 'Ana López',
  course_code: 'FW1',
  semester: 2,
  year: 2025,
  score: 64.5,
  ...over,
});

/** An `api` front with GRADES_FORWARD_GRPC, on the same database as the ingest service it forwards to. */
describe('REST ingest forwarded to the gRPC ingest service', () => {
  let ingest: TestApp;
  let grpc: GrpcServerHandle;
  let front: { ctx: AppContext; app: App };
  let dir: string;
  let token: string;

  beforeAll(async () => {
    ingest = await createTestApp();
    grpc = await startGrpcServer(ingest.ctx, { host: '127.0.0.1', port: 0 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-front-'));
    const ctx = await createContext(
      testConfig({
        DATA_DIR: dir,
        DATABASE_URL: ingest.config.databaseUrl,
        BLOB_URL: `file:${path.join(dir, 'blobs')}`,
        WEB_DIST: path.join(dir, 'no-web'),
        GRADES_FORWARD_GRPC: `127.0.0.1:${grpc.port}`,
      }),
    );
    front = { ctx, app: await buildApp(ctx) };
    await front.app.ready();
    const u = await buildUser(ingest.ctx, { role: 'teacher' });
    token = await buildToken(ingest.ctx, u.user.id, ['grades:write']);
  });
  afterAll(async () => {
    await front?.app.close();
    await front?.ctx.close();
    await grpc?.stop(1000);
    await ingest?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const post = (payload: unknown, headers: Record<string, string> = { authorization: `Bearer ${token}` }) =>
    front.app.inject({ method: 'POST', url: '/api/v1/grades', headers, payload: payload as object });

  it('stores through SubmitBatch with the caller token and answers with its Ack', async () => {
    const res = await post([
      grade({ idempotency_key: 'fw-1' }),
      grade({ student_code: 'FW2', idempotency_key: 'fw-2' }),
    ]);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ accepted: 2, duplicates: 0 });
    expect((await post(grade({ idempotency_key: 'fw-1' }))).json()).toEqual({ accepted: 0, duplicates: 1 });
    const row = await ingest.ctx.grades.repo.findRecordByKey('fw-2');
    expect(row).toMatchObject({ source: 'rest', score_x100: 6450, semester: 2 });
    // The front never wrote: its own writer made no commit.
    const commits = await front.ctx.grades.metrics.batchRecords.get();
    expect(commits.values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0).toBe(0);
  });

  it('reports bad records as problem+json before forwarding', async () => {
    const res = await post([grade(), grade({ score: 101 })]);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatchObject({ index: 1, path: 'score' });
  });

  it('maps refusals and an unreachable ingest service back to problem+json', async () => {
    const admin = await signedIn(front.app, front.ctx, 'admin');
    const bySession = await post(grade(), admin.headers);
    expect(bySession.statusCode).toBe(403);
    expect(bySession.json().code).toBe('token_required');
    expect((await post(grade(), {})).statusCode).toBe(401);

    await grpc.stop(1000);
    const down = await post(grade({ idempotency_key: 'fw-down' }));
    expect(down.statusCode).toBe(503);
    expect(down.headers['content-type']).toContain('application/problem+json');
    expect(down.headers['retry-after']).toBe('1');
    expect(await ingest.ctx.grades.repo.findRecordByKey('fw-down')).toBeUndefined();
  });
});
