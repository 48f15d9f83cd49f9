import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradesClientConstructor, type GradeMessage } from '../modules/grades/grades.proto.ts';
import { createTestApp, type TestApp } from '../test/app.ts';
import { buildToken, buildUser } from '../test/factories.ts';
import { startGrpcServer, type GrpcServerHandle } from './server.ts';

interface Ack {
  accepted: number;
  duplicates: number;
}
type Unary<Req> = (
  req: Req,
  md: grpc.Metadata,
  cb: (err: grpc.ServiceError | null, res?: Ack) => void,
) => grpc.ClientUnaryCall;
type GradesTestClient = grpc.Client & {
  Submit: Unary<Partial<GradeMessage>>;
  SubmitBatch: Unary<{ grades: Partial<GradeMessage>[] }>;
  SubmitStream: (
    md: grpc.Metadata,
    cb: (err: grpc.ServiceError | null, res?: Ack) => void,
  ) => grpc.ClientWritableStream<Partial<GradeMessage>>;
};

const msg = (over: Partial<GradeMessage> = {}): Partial<GradeMessage> => ({
  student_code: '201900001',
  student_name: 'Ana López',
  course_code: 'SO1',
  semester: 1,
  year: 2025,
  score: 88.5,
  ...over,
});

function meta(token?: string): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

function call<Req>(fn: Unary<Req>, req: Req, md: grpc.Metadata): Promise<Ack> {
  return new Promise((resolve, reject) => fn(req, md, (err, res) => (err ? reject(err) : resolve(res!))));
}

function stream(client: GradesTestClient, md: grpc.Metadata, messages: Partial<GradeMessage>[]): Promise<Ack> {
  return new Promise((resolve, reject) => {
    const s = client.SubmitStream(md, (err, res) => (err ? reject(err) : resolve(res!)));
    for (const m of messages) s.write(m);
    s.end();
  });
}

describe('gRPC grade ingest (Node client)', () => {
  let t: TestApp;
  let server: GrpcServerHandle;
  let client: GradesTestClient;
  let token: string;
  let readOnly: string;
  const count = () => t.ctx.grades.repo.countRecords();

  beforeAll(async () => {
    t = await createTestApp();
    server = await startGrpcServer(t.ctx, { host: '127.0.0.1', port: 0 });
    const Ctor = gradesClientConstructor();
    client = new Ctor(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as GradesTestClient;
    const u = await buildUser(t.ctx, { role: 'teacher' });
    token = await buildToken(t.ctx, u.user.id, ['grades:write']);
    readOnly = await buildToken(t.ctx, u.user.id, ['grades:read']);
  });
  afterAll(async () => {
    client?.close();
    await server?.stop(1000);
    await t?.close();
  });

  it('acknowledges Submit, SubmitBatch and SubmitStream after commit, counting duplicates', async () => {
    expect(await call(client.Submit.bind(client), msg({ idempotency_key: 'g-1' }), meta(token))).toEqual({
      accepted: 1,
      duplicates: 0,
    });
    expect(await call(client.Submit.bind(client), msg({ idempotency_key: 'g-1' }), meta(token))).toEqual({
      accepted: 0,
      duplicates: 1,
    });
    const batch = await call(
      client.SubmitBatch.bind(client),
      {
        grades: [msg({ idempotency_key: 'g-1' }), msg({ student_code: 'GB2' }), msg({ student_code: 'GB3', score: 0 })],
      },
      meta(token),
    );
    expect(batch).toEqual({ accepted: 2, duplicates: 1 });
    const row = await t.ctx.grades.repo.findRecordByKey('g-1');
    expect(row).toMatchObject({ source: 'grpc', score_x100: 8850 });

    const before = await count();
    const many = Array.from({ length: 2500 }, (_, i) =>
      msg({ student_code: `GS${i}`, idempotency_key: `gs-${i}`, score: i % 101 }),
    );
    many.push(msg({ idempotency_key: 'gs-7' }));
    expect(await stream(client, meta(token), many)).toEqual({ accepted: 2500, duplicates: 1 });
    expect(await count()).toBe(before + 2500);
  });

  it('refuses calls without a valid token or without grades:write', async () => {
    const noAuth = await call(client.Submit.bind(client), msg(), meta()).catch((e: grpc.ServiceError) => e);
    expect((noAuth as grpc.ServiceError).code).toBe(grpc.status.UNAUTHENTICATED);
    const bad = await call(client.Submit.bind(client), msg(), meta('aula_nope')).catch((e: grpc.ServiceError) => e);
    expect((bad as grpc.ServiceError).code).toBe(grpc.status.UNAUTHENTICATED);
    const scope = await call(client.SubmitBatch.bind(client), { grades: [msg()] }, meta(readOnly)).catch(
      (e: grpc.ServiceError) => e,
    );
    expect((scope as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
    const streamed = await stream(client, meta(), [msg()]).catch((e: grpc.ServiceError) => e);
    expect((streamed as grpc.ServiceError).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('answers INVALID_ARGUMENT for invalid records, with the errors in trailers, storing nothing', async () => {
    const before = await count();
    const err = (await call(
      client.SubmitBatch.bind(client),
      { grades: [msg(), msg({ score: 100.5 })] },
      meta(token),
    ).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.metadata.get('aula-code')).toEqual(['validation_failed']);
    const details = JSON.parse(String(err.metadata.get('aula-details')[0])) as { errors: unknown[] };
    expect(details.errors[0]).toMatchObject({ index: 1, path: 'score' });
    // Absent proto3 fields arrive as '' and 0: they are missing, not valid.
    const empty = (await call(client.Submit.bind(client), {}, meta(token)).catch(
      (e: grpc.ServiceError) => e,
    )) as grpc.ServiceError;
    expect(empty.code).toBe(grpc.status.INVALID_ARGUMENT);
    const none = (await call(client.SubmitBatch.bind(client), { grades: [] }, meta(token)).catch(
      (e: grpc.ServiceError) => e,
    )) as grpc.ServiceError;
    expect(none.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await count()).toBe(before);
  });

  it('ends a stream at its first bad message, keeping only the chunks committed before it', async () => {
    const before = await count();
    const messages = Array.from({ length: 1600 }, (_, i) =>
      msg({ student_code: `GX${i}`, idempotency_key: `gx-${i}` }),
    );
    messages[1500] = msg({ semester: 7 });
    const err = (await stream(client, meta(token), messages).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('Message 1500');
    expect(err.metadata.get('aula-accepted')).toEqual(['1000']);
    expect(await count()).toBe(before + 1000);
  });

  it('answers INVALID_ARGUMENT to bytes that are not a protobuf message, and keeps serving', async () => {
    const raw = (bytes: Buffer) =>
      new Promise<grpc.ServiceError | Ack>((resolve) =>
        client.makeUnaryRequest(
          '/aula.grades.v1.Grades/Submit',
          (b: Buffer) => b,
          (b: Buffer) => b as unknown as Ack,
          bytes,
          meta(token),
          (err, res) => resolve(err ?? res!),
        ),
      );
    // Field 1 (a string) claiming a length far beyond the message.
    const truncated = (await raw(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))) as grpc.ServiceError;
    expect(truncated.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(truncated.metadata.get('aula-code')).toEqual(['malformed_message']);
    for (const bytes of [
      [0x0f, 0x01, 0x02], // wire type 7 does not exist
      [0x0a, 0x05, 0x41], // a 5-byte string with 1 byte present
      [0x0a, 0x02, 0xc3, 0x28], // invalid UTF-8 in a string field
      [0x20, 0x80], // a varint that never ends
      [0x22, 0x01, 0x41], // semester (a varint field) sent as a string
    ]) {
      const res = (await raw(Buffer.from(bytes))) as grpc.ServiceError;
      expect(res.code, JSON.stringify(bytes)).toBe(grpc.status.INVALID_ARGUMENT);
    }
    const streamed = await new Promise<grpc.ServiceError | Ack>((resolve) => {
      const s = client.makeClientStreamRequest(
        '/aula.grades.v1.Grades/SubmitStream',
        (b: Buffer) => b,
        (b: Buffer) => b as unknown as Ack,
        meta(token),
        (err, res) => resolve(err ?? res!),
      );
      s.write(Buffer.from([0x0a, 0xff, 0x01]));
      s.end();
    });
    expect((streamed as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((streamed as grpc.ServiceError).details).toContain('Message 0');
    expect(await call(client.Submit.bind(client), msg({ student_code: 'ALIVE' }), meta(token))).toEqual({
      accepted: 1,
      duplicates: 0,
    });
  });

  it('finishes calls in flight when shutting down, then refuses new ones', async () => {
    const extra = await startGrpcServer(t.ctx, { host: '127.0.0.1', port: 0 });
    const Ctor = gradesClientConstructor();
    const c = new Ctor(`127.0.0.1:${extra.port}`, grpc.credentials.createInsecure()) as unknown as GradesTestClient;
    try {
      const acked = new Promise<Ack>((resolve, reject) => {
        const s = c.SubmitStream(meta(token), (err, res) => (err ? reject(err) : resolve(res!)));
        for (let i = 0; i < 10; i++) s.write(msg({ student_code: `SD${i}` }));
        setTimeout(() => s.end(), 150);
      });
      await new Promise((r) => setTimeout(r, 50));
      const stopped = extra.stop(5000);
      expect(await acked).toEqual({ accepted: 10, duplicates: 0 });
      await stopped;
      const after = (await call(c.Submit.bind(c), msg(), meta(token)).catch(
        (e: grpc.ServiceError) => e,
      )) as grpc.ServiceError;
      expect(after.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      c.close();
    }
  });
});

const PYTHON_CLIENT = String.raw`
import json, sys, grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

addr, token = sys.argv[1], sys.argv[2]
fdp = descriptor_pb2.FileDescriptorProto(name='aula_grades_test.proto', package='aula.grades.v1', syntax='proto3')
g = fdp.message_type.add(name='Grade')
for i, (n, t) in enumerate([('student_code', 9), ('student_name', 9), ('course_code', 9), ('semester', 5), ('year', 5), ('score', 1), ('idempotency_key', 9)], 1):
    g.field.add(name=n, number=i, type=t, label=1)
b = fdp.message_type.add(name='GradeBatch')
b.field.add(name='grades', number=1, type=11, label=3, type_name='.aula.grades.v1.Grade')
a = fdp.message_type.add(name='Ack')
a.field.add(name='accepted', number=1, type=13, label=1)
a.field.add(name='duplicates', number=2, type=13, label=1)
pool = descriptor_pool.DescriptorPool()
pool.Add(fdp)

def cls(name):
    d = pool.FindMessageTypeByName('aula.grades.v1.' + name)
    if hasattr(message_factory, 'GetMessageClass'):
        return message_factory.GetMessageClass(d)
    return message_factory.MessageFactory(pool).GetPrototype(d)

Grade, GradeBatch, Ack = cls('Grade'), cls('GradeBatch'), cls('Ack')
ch = grpc.insecure_channel(addr)
md = [('authorization', 'Bearer ' + token)]
def unary(m, req):
    return ch.unary_unary('/aula.grades.v1.Grades/' + m, request_serializer=req.SerializeToString, response_deserializer=Ack.FromString)
def ack(a):
    return {'accepted': a.accepted, 'duplicates': a.duplicates}
def grade(i, **kw):
    d = dict(student_code='PY%d' % i, student_name='Pía Núñez', course_code='PY1', semester=2, year=2025, score=72.25)
    d.update(kw)
    return Grade(**d)
def code(fn):
    try:
        fn()
        return 'OK'
    except grpc.RpcError as e:
        return e.code().name

out = {}
out['submit'] = ack(unary('Submit', Grade)(grade(0, idempotency_key='py-0'), metadata=md, timeout=10))
out['again'] = ack(unary('Submit', Grade)(grade(0, idempotency_key='py-0'), metadata=md, timeout=10))
out['batch'] = ack(unary('SubmitBatch', GradeBatch)(GradeBatch(grades=[grade(i) for i in range(1, 51)]), metadata=md, timeout=10))
s = ch.stream_unary('/aula.grades.v1.Grades/SubmitStream', request_serializer=Grade.SerializeToString, response_deserializer=Ack.FromString)
out['stream'] = ack(s((grade(i, idempotency_key='pys-%d' % i) for i in range(100, 1300)), metadata=md, timeout=30))
out['invalid'] = code(lambda: unary('Submit', Grade)(grade(9, score=100.001), metadata=md, timeout=10))
out['unauthenticated'] = code(lambda: unary('Submit', Grade)(grade(9), timeout=10))
raw = ch.unary_unary('/aula.grades.v1.Grades/Submit', request_serializer=lambda x: x, response_deserializer=Ack.FromString)
out['malformed'] = code(lambda: raw(b'\x0a\xff\xff\xff\xff\x0f', metadata=md, timeout=10))
print(json.dumps(out))
`;

describe('gRPC grade ingest (Python client, an independent implementation)', () => {
  let t: TestApp;
  let server: GrpcServerHandle;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    server = await startGrpcServer(t.ctx, { host: '127.0.0.1', port: 0 });
    const u = await buildUser(t.ctx, { role: 'teacher' });
    token = await buildToken(t.ctx, u.user.id, ['grades:write']);
  });
  afterAll(async () => {
    await server?.stop(1000);
    await t?.close();
  });

  it('speaks the same protocol: acks, duplicates, streams and error codes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-py-'));
    const script = path.join(dir, 'client.py');
    fs.writeFileSync(script, PYTHON_CLIENT);
    try {
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
        (resolve) => {
          const p = spawn('/usr/bin/python3', [script, `127.0.0.1:${server.port}`, token]);
          let stdout = '';
          let stderr = '';
          p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          p.on('close', (c) => resolve({ code: c, stdout, stderr }));
        },
      );
      expect(code, stderr).toBe(0);
      expect(JSON.parse(stdout)).toEqual({
        submit: { accepted: 1, duplicates: 0 },
        again: { accepted: 0, duplicates: 1 },
        batch: { accepted: 50, duplicates: 0 },
        stream: { accepted: 1200, duplicates: 0 },
        invalid: 'INVALID_ARGUMENT',
        unauthenticated: 'UNAUTHENTICATED',
        malformed: 'INVALID_ARGUMENT',
      });
      const row = await t.ctx.grades.repo.findRecordByKey('pys-100');
      expect(row).toMatchObject({ student_name: 'Pía Núñez', score_x100: 7225, semester: 2, source: 'grpc' });
      expect(await t.ctx.grades.repo.countRecords()).toBe(1251);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
