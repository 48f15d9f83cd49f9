import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { REDIS_TEST_URL } from '../../test/databases.ts';
import { buildToken, buildUser, signedIn, type Session } from '../../test/factories.ts';

const grade = (over: Record<string, unknown> = {}) => ({
  student_code: '201900001',
  student_name: 'Ana López',
  course_code: 'SO1',
  semester: 1,
  year: 2025,
  score: 75.5,
  ...over,
});

describe('grade ingest and analytics over HTTP', () => {
  let t: TestApp;
  let writer: string;
  let reader: string;
  let admin: Session;
  let teacher: Session;
  let student: Session;

  const post = (payload: unknown, headers: Record<string, string> = { authorization: `Bearer ${writer}` }) =>
    t.app.inject({ method: 'POST', url: '/api/v1/grades', headers, payload: payload as object });
  const total = async () => Number(await t.ctx.grades.repo.countRecords());

  beforeAll(async () => {
    t = await createTestApp();
    const machine = await buildUser(t.ctx, { role: 'teacher' });
    writer = await buildToken(t.ctx, machine.user.id, ['grades:write']);
    reader = await buildToken(t.ctx, machine.user.id, ['grades:read']);
    admin = await signedIn(t.app, t.ctx, 'admin');
    teacher = await signedIn(t.app, t.ctx, 'teacher');
    student = await signedIn(t.app, t.ctx, 'student');
  });
  afterAll(async () => t?.close());

  it('acknowledges one grade or a batch with 201 {accepted, duplicates} after commit', async () => {
    const one = await post(grade({ idempotency_key: 'h-1' }));
    expect(one.statusCode).toBe(201);
    expect(one.json()).toEqual({ accepted: 1, duplicates: 0 });
    const batch = await post([
      grade({ idempotency_key: 'h-1' }),
      grade({ student_code: 'B2', idempotency_key: 'h-2' }),
      grade({ student_code: 'B3' }),
    ]);
    expect(batch.statusCode).toBe(201);
    expect(batch.json()).toEqual({ accepted: 2, duplicates: 1 });
    const row = await t.ctx.grades.repo.findRecordByKey('h-2');
    expect(row).toMatchObject({ source: 'rest', score_x100: 7550, student_code: 'B2' });
  });

  it('lets an admin session ingest, but not teachers or students', async () => {
    expect((await post(grade(), admin.headers)).statusCode).toBe(201);
    const t403 = await post(grade(), teacher.headers);
    expect(t403.statusCode).toBe(403);
    expect(t403.headers['content-type']).toContain('application/problem+json');
    expect((await post(grade(), student.headers)).statusCode).toBe(403);
  });

  it('requires a token with grades:write', async () => {
    const before = await total();
    const none = await post(grade(), {});
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('unauthorized');
    const readOnly = await post(grade(), { authorization: `Bearer ${reader}` });
    expect(readOnly.statusCode).toBe(403);
    expect(readOnly.json().detail).toContain('grades:write');
    const bogus = await post(grade(), { authorization: 'Bearer aula_not-a-token' });
    expect(bogus.statusCode).toBe(401);
    expect(await total()).toBe(before);
  });

  const bad: [string, unknown, { index: number | null; path: string }][] = [
    ['a score above 100', [grade(), grade({ score: 100.5 })], { index: 1, path: 'score' }],
    ['a negative score', grade({ score: -1 }), { index: 0, path: 'score' }],
    ['three decimals', [grade(), grade(), grade({ score: 70.125 })], { index: 2, path: 'score' }],
    ['a missing field', [{ ...grade(), student_name: undefined }], { index: 0, path: 'student_name' }],
    ['a wrong type', grade({ year: '2025' }), { index: 0, path: 'year' }],
    ['semester 3', grade({ semester: 3 }), { index: 0, path: 'semester' }],
    ['an unknown field', grade({ teacher: 'x' }), { index: 0, path: 'teacher' }],
    ['an empty array', [], { index: null, path: '' }],
    ['more than 1000 grades', Array.from({ length: 1001 }, () => grade()), { index: null, path: '' }],
    ['a bare number', 42, { index: null, path: '' }],
    ['an over-long key', grade({ idempotency_key: 'k'.repeat(129) }), { index: 0, path: 'idempotency_key' }],
  ];
  it.each(bad)('rejects %s with 400 problem+json and stores nothing', async (_name, payload, where) => {
    const before = await total();
    const res = await post(typeof payload === 'number' ? JSON.stringify(payload) : payload, {
      authorization: `Bearer ${writer}`,
      'content-type': 'application/json',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const body = res.json();
    expect(body).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(body.errors[0]).toMatchObject(where);
    expect(typeof body.errors[0].message).toBe('string');
    expect(await total()).toBe(before);
  });

  it('rejects malformed JSON and oversized bodies with 4xx', async () => {
    const before = await total();
    const json = await post('{"student_code":', {
      authorization: `Bearer ${writer}`,
      'content-type': 'application/json',
    });
    expect(json.statusCode).toBe(400);
    expect(json.json().code).toBe('invalid_json');
    const huge = JSON.stringify(Array.from({ length: 1000 }, () => grade({ student_name: 'x'.repeat(2500) })));
    expect(huge.length).toBeGreaterThan(t.config.bodyLimitBytes);
    const big = await post(huge, { authorization: `Bearer ${writer}`, 'content-type': 'application/json' });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('payload_too_large');
    expect(await total()).toBe(before);
  });

  it('stores every valid concurrent request while bad ones fail alone', async () => {
    const before = await total();
    const valid = Array.from({ length: 30 }, (_, i) => [
      grade({ student_code: `CC${i}`, course_code: 'CONCUR' }),
      grade({ student_code: `CD${i}`, course_code: 'CONCUR' }),
    ]);
    const invalid = Array.from({ length: 10 }, (_, i) => [
      grade({ student_code: `BAD${i}` }),
      grade({ score: 'high' }),
    ]);
    const results = await Promise.all([...valid.map((p) => post(p)), ...invalid.map((p) => post(p))]);
    expect(results.slice(0, 30).every((r) => r.statusCode === 201 && r.json().accepted === 2)).toBe(true);
    expect(results.slice(30).every((r) => r.statusCode === 400)).toBe(true);
    expect(await total()).toBe(before + 60);
    const rows = await t.ctx.db.kysely
      .selectFrom('grade_records')
      .select('id')
      .where('student_code', 'like', 'BAD%')
      .execute();
    expect(rows).toHaveLength(0);
  });

  it('serves the analytics with their exact shapes to staff and grades:read tokens', async () => {
    await post([
      grade({ course_code: 'AQ1', student_code: 'Q1', score: 90, year: 2031 }),
      grade({ course_code: 'AQ1', student_code: 'Q2', score: 60.99, year: 2031 }),
      grade({ course_code: 'AQ1', student_code: 'Q3', score: 61, year: 2031 }),
      grade({ course_code: 'AQ2', student_code: 'Q1', score: 100, year: 2031 }),
      grade({ course_code: 'AQ2', student_code: 'Q1', score: 80, year: 2031, semester: 2 }),
    ]);
    const read = { authorization: `Bearer ${reader}` };
    const get = (url: string, headers: Record<string, string> = read) =>
      t.app.inject({ url: `/api/v1/analytics/grades/${url}`, headers });

    const tot = await get('total');
    expect(tot.statusCode).toBe(200);
    expect(tot.json()).toEqual({ total: await total() });
    expect((await get('pass-fail?course=AQ1&semester=1&year=2031')).json()).toEqual({ passed: 2, failed: 1 });
    expect((await get('pass-fail?course=AQ1&semester=&year=')).json()).toEqual({ passed: 2, failed: 1 });
    expect((await get('top-courses?year=2031&semester=1&limit=3')).json()).toEqual([
      { course: 'AQ1', students: 3 },
      { course: 'AQ2', students: 1 },
    ]);
    expect((await get('top-students?year=2031&semester=1&limit=2')).json()).toEqual([
      { studentCode: 'Q1', studentName: 'Ana López', average: 95 },
      { studentCode: 'Q3', studentName: 'Ana López', average: 61 },
    ]);
    expect((await get('top-students?year=2031')).json()).toHaveLength(3);
    expect((await get('students?course=AQ1&semester=1&year=2031')).json()).toEqual({ students: 3 });
    const counters = await get('counters');
    expect(counters.json().groups).toContainEqual({ course: 'AQ2', year: 2031, semester: 2, records: 1, students: 1 });

    expect((await get('total', teacher.headers)).statusCode).toBe(200);
    expect((await get('total', admin.headers)).statusCode).toBe(200);
    expect((await get('total', student.headers)).statusCode).toBe(403);
    expect((await get('total', { authorization: `Bearer ${writer}` })).statusCode).toBe(403);
    expect((await get('total', {})).statusCode).toBe(401);

    for (const q of ['pass-fail?semester=3', 'top-courses?limit=0', 'students?extra=1', 'top-students?year=abc']) {
      const res = await get(q);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
  });

  it('exposes ingest metrics', async () => {
    const res = await t.app.inject({ url: '/metrics' });
    expect(res.body).toMatch(/aula_grades_ingested_total\{source="rest",outcome="accepted"\} \d+/);
    expect(res.body).toMatch(/aula_grades_ingested_total\{source="rest",outcome="duplicate"\} \d+/);
    expect(res.body).toContain('aula_grades_commit_batch_records_bucket');
    expect(res.body).toContain('aula_grades_commit_duration_seconds_bucket');
  });
});

describe('grade ingest over HTTP with Redis counters', () => {
  const prefix = `aula:test:http:${Date.now().toString(36)}:`;
  let t: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    t = await createTestApp({ redis: true, env: { GRADES_REDIS_PREFIX: prefix } });
    redis = new Redis(REDIS_TEST_URL);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await t?.close();
  });

  it('counts in Redis what SQL stores', async () => {
    await t.ctx.grades.waitForRedis(5000);
    const machine = await buildUser(t.ctx, { role: 'teacher' });
    const token = await buildToken(t.ctx, machine.user.id, ['grades:write', 'grades:read']);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/grades',
          headers: { authorization: `Bearer ${token}` },
          payload: [
            grade({ student_code: `RS${i % 7}`, course_code: `RH${i % 2}` }),
            grade({ student_code: `RT${i}` }),
          ],
        }),
      ),
    );
    expect(results.every((r) => r.statusCode === 201)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    const res = await t.app.inject({
      url: '/api/v1/analytics/grades/counters',
      headers: { authorization: `Bearer ${token}` },
    });
    const counters = res.json();
    expect(counters.total).toBe(40);
    expect(Number(await redis.get(`${prefix}total`))).toBe(40);
    expect(counters.groups).toContainEqual({ course: 'RH0', year: 2025, semester: 1, records: 10, students: 7 });
    const report = await t.ctx.grades.reconcile();
    expect(report).toMatchObject({ counters: 'redis', wereExact: true, total: 40 });
  });
});
