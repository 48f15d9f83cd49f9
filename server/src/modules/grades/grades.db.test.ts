import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../config.ts';
import { MemoryBus } from '../../platform/bus/bus.ts';
import { createDb, type Db, type DialectName } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { createLogger } from '../../platform/logger.ts';
import { createMetrics } from '../../platform/metrics.ts';
import { describeEachDialect, openTestDb, REDIS_TEST_URL } from '../../test/databases.ts';
import { SYSTEM_ACTOR, type Actor } from '../identity/actor.ts';
import { MemoryCounters, RedisCounters, type CountersSnapshot, type GradeCounters } from './counters.ts';
import type { GradeInput } from './grades.schemas.ts';
import { GRADES_COMMITTED, GradesService } from './grades.service.ts';

const ADMIN: Actor = { ...SYSTEM_ACTOR, via: 'session', id: 'admin-test', username: 'admin' };

function grade(over: Partial<GradeInput> = {}): GradeInput {
  return {
    student_code: '201900001',
    student_name: 'Ana López',
    course_code: 'SO1',
    semester: 1,
    year: 2025,
    score: 75,
    ...over,
  };
}

interface Harness {
  db: Db;
  url: string;
  bus: MemoryBus;
  service(counters?: GradeCounters): Promise<GradesService>;
  cleanup(): Promise<void>;
}

async function harness(dialect: DialectName): Promise<Harness> {
  const { db, url, cleanup } = await openTestDb(dialect);
  const bus = new MemoryBus();
  const services: GradesService[] = [];
  return {
    db,
    url,
    bus,
    async service(counters?: GradeCounters) {
      const s = new GradesService({
        db,
        config: testConfig({ DATABASE_URL: url, GRADES_COMMIT_WINDOW_MS: '2' }),
        bus,
        logger: createLogger('silent'),
        metrics: createMetrics(),
        counters,
      });
      await s.init();
      services.push(s);
      return s;
    },
    async cleanup() {
      for (const s of services) await s.close();
      await bus.close();
      await cleanup();
    },
  };
}

async function sqlCounters(db: Db): Promise<CountersSnapshot> {
  const rows = await db.kysely.selectFrom('grade_effective').select(['course_code', 'year', 'semester']).execute();
  const students = new Map<string, number>();
  for (const r of rows) {
    const k = `${r.course_code}|${Number(r.year)}|${Number(r.semester)}`;
    students.set(k, (students.get(k) ?? 0) + 1);
  }
  const recs = await db.kysely.selectFrom('grade_records').select(['course_code', 'year', 'semester']).execute();
  const records = new Map<string, number>();
  for (const r of recs) {
    const k = `${r.course_code}|${Number(r.year)}|${Number(r.semester)}`;
    records.set(k, (records.get(k) ?? 0) + 1);
  }
  const groups = [...records.entries()]
    .map(([k, n]) => {
      const [course, year, semester] = k.split('|');
      return { course, year: Number(year), semester: Number(semester), records: n, students: students.get(k) ?? 0 };
    })
    .sort((a, b) => (a.course < b.course ? -1 : a.course > b.course ? 1 : a.year - b.year || a.semester - b.semester));
  return { total: recs.length, groups };
}

/** A small deterministic generator so every dialect sees the same dataset. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describeEachDialect('grade writer and analytics', (dialect) => {
  let h: Harness;
  let grades: GradesService;

  beforeAll(async () => {
    h = await harness(dialect);
    grades = await h.service();
  });
  afterAll(async () => h?.cleanup());

  it('gathers concurrent requests into shared commits and acknowledges each exactly', async () => {
    const events: CountersSnapshot[] = [];
    const off = h.bus.subscribe(GRADES_COMMITTED, (p) => events.push(p as CountersSnapshot));
    const requests = Array.from({ length: 120 }, (_, i) =>
      Array.from({ length: 1 + (i % 5) }, (_, j) =>
        grade({ student_code: `C${i}x${j}`, course_code: i % 2 ? 'CONC1' : 'CONC2', score: (i * 7 + j) % 101 }),
      ),
    );
    const acks = await Promise.all(requests.map((r) => grades.append(ADMIN, r, 'ui')));
    off();
    acks.forEach((a, i) => expect(a).toEqual({ accepted: requests[i].length, duplicates: 0 }));
    const expected = requests.reduce((s, r) => s + r.length, 0);

    const commits = await grades.metrics.batchRequests.get();
    const count = commits.values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(requests.length);

    const n = await h.db.kysely
      .selectFrom('grade_records')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('course_code', 'in', ['CONC1', 'CONC2'])
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(expected);
    expect(await grades.total(ADMIN, { year: 2025 })).toEqual({ total: expected });

    await new Promise((r) => setTimeout(r, 20));
    const last = events.at(-1)!;
    expect(last.total).toBe(expected);
    // Counters only grow, so the last event that mentions a group carries its final value.
    const so = events.flatMap((e) => e.groups).findLast((g) => g.course === 'CONC1');
    expect(so?.students).toBe(requests.filter((_, i) => i % 2).reduce((s, r) => s + r.length, 0));
    const snap = await grades.counters();
    expect(snap).toEqual(await sqlCounters(h.db));
  });

  it('stores an idempotency key once: within one request, across requests, and across commits', async () => {
    const inOne = await grades.append(
      ADMIN,
      [grade({ idempotency_key: 'k-same' }), grade({ idempotency_key: 'k-same', score: 99 })],
      'ui',
    );
    expect(inOne).toEqual({ accepted: 1, duplicates: 1 });
    const again = await grades.append(ADMIN, [grade({ idempotency_key: 'k-same', score: 10 })], 'ui');
    expect(again).toEqual({ accepted: 0, duplicates: 1 });
    // Concurrent requests with the same key land in one commit: exactly one of them stores it.
    const racing = await Promise.all(
      Array.from({ length: 8 }, (_, i) => grades.append(ADMIN, [grade({ idempotency_key: 'k-race', score: i })], 'ui')),
    );
    expect(racing.reduce((s, a) => s + a.accepted, 0)).toBe(1);
    expect(racing.reduce((s, a) => s + a.duplicates, 0)).toBe(7);
    const mixed = await grades.append(
      ADMIN,
      [grade({ idempotency_key: 'k-new-1' }), grade({ idempotency_key: 'k-race' }), grade({ student_code: 'NOKEY' })],
      'ui',
    );
    expect(mixed).toEqual({ accepted: 2, duplicates: 1 });
    for (const key of ['k-same', 'k-race', 'k-new-1']) {
      const rows = await h.db.kysely
        .selectFrom('grade_records')
        .select('id')
        .where('idempotency_key', '=', key)
        .execute();
      expect(rows).toHaveLength(1);
    }
    // The duplicate never became the effective grade.
    const eff = await grades.repo.findEffective('SO1', 2025, 1, '201900001');
    const first = await grades.repo.findRecordByKey('k-same');
    expect(Number(first!.score_x100)).toBe(7500);
    expect(eff!.record_id >= first!.id).toBe(true);
  });

  it('keeps the latest record as the effective grade, across and within commits', async () => {
    const g = { student_code: 'LATEST1', course_code: 'EFF', year: 2024, semester: 2 as const };
    await grades.append(ADMIN, [grade({ ...g, score: 50 })], 'ui');
    await grades.append(ADMIN, [grade({ ...g, score: 70.25, student_name: 'Renamed' })], 'ui');
    let eff = await grades.repo.findEffective('EFF', 2024, 2, 'LATEST1');
    expect(Number(eff!.score_x100)).toBe(7025);
    expect(eff!.student_name).toBe('Renamed');
    await grades.append(ADMIN, [grade({ ...g, score: 40 }), grade({ ...g, score: 90.5 })], 'ui');
    eff = await grades.repo.findEffective('EFF', 2024, 2, 'LATEST1');
    expect(Number(eff!.score_x100)).toBe(9050);
    expect(await grades.passFail(ADMIN, { course: 'EFF' })).toEqual({ passed: 1, failed: 0 });
    await grades.append(ADMIN, [grade({ ...g, score: 12 })], 'ui');
    expect(await grades.passFail(ADMIN, { course: 'EFF' })).toEqual({ passed: 0, failed: 1 });
    expect(await grades.students(ADMIN, { course: 'EFF', year: 2024, semester: 2 })).toEqual({ students: 1 });
    const group = await h.db.kysely
      .selectFrom('grade_groups')
      .selectAll()
      .where('course_code', '=', 'EFF')
      .executeTakeFirstOrThrow();
    expect({ records: Number(group.records), students: Number(group.students), sum: Number(group.sum_x100) }).toEqual({
      records: 5,
      students: 1,
      sum: 1200,
    });
  });

  it('links records to known students and courses, and accepts unknown codes', async () => {
    const t = Date.now();
    const userId = newId(t);
    const courseId = newId(t);
    await h.db.kysely
      .insertInto('users')
      .values({
        id: userId,
        email: 'linked@example.test',
        username: 'linked',
        full_name: 'Linked Student',
        role: 'student',
        password_hash: null,
        student_code: 'LINK01',
        profile_blob_id: null,
        profile_thumb_blob_id: null,
        created_at: t,
        updated_at: t,
      })
      .execute();
    await h.db.kysely
      .insertInto('courses')
      .values({ id: courseId, code: 'LNK', name: 'Linked course', description: null, passing_grade: 70, created_at: t })
      .execute();
    await grades.append(
      ADMIN,
      [
        grade({ student_code: 'LINK01', course_code: 'LNK', score: 65, idempotency_key: 'link-1' }),
        grade({ student_code: 'NOBODY', course_code: 'LNK', score: 71, idempotency_key: 'link-2' }),
      ],
      'csv',
    );
    const a = await grades.repo.findRecordByKey('link-1');
    const b = await grades.repo.findRecordByKey('link-2');
    expect(a).toMatchObject({ student_id: userId, course_id: courseId, source: 'csv', created_by: 'admin-test' });
    expect(b).toMatchObject({ student_id: null, course_id: courseId });
    // The course's own passing grade (70) decides: 65 fails, 71 passes.
    expect(await grades.passFail(ADMIN, { course: 'LNK' })).toEqual({ passed: 1, failed: 1 });
  });

  it('answers every analytics query exactly on a known dataset', async () => {
    const rnd = prng(42);
    const courses = ['AN1', 'AN2', 'AN3', 'AN4'];
    const records: GradeInput[] = [];
    for (let i = 0; i < 1500; i++) {
      const s = Math.floor(rnd() * 150);
      records.push(
        grade({
          student_code: `AN${String(s).padStart(4, '0')}`,
          student_name: `Student ${s}`,
          course_code: courses[Math.floor(rnd() * courses.length)],
          year: 2030 + Math.floor(rnd() * 2),
          semester: rnd() < 0.5 ? 1 : 2,
          // Coarse scores make ties in averages common, so tie-breaking is exercised.
          score: Math.round(rnd() * 20) * 5,
        }),
      );
    }
    for (let i = 0; i < records.length; i += 100) await grades.append(ADMIN, records.slice(i, i + 100), 'ui');

    // Brute force from the records themselves: latest per (course, year, semester, student).
    const effective = new Map<string, GradeInput>();
    for (const r of records) effective.set(`${r.course_code}|${r.year}|${r.semester}|${r.student_code}`, r);
    const eff = [...effective.values()];
    type F = { course?: string; year?: number; semester?: number };
    const match = (r: GradeInput, f: F) =>
      (f.course === undefined || r.course_code === f.course) &&
      (f.year === undefined || r.year === f.year) &&
      (f.semester === undefined || r.semester === f.semester);
    // Years 2030-2031 hold only this dataset, so results compare exactly.
    const filters: F[] = [{ year: 2030 }, { year: 2031 }, { year: 2030, semester: 2 }, { year: 2031, semester: 1 }];
    for (const f of filters) {
      const inScope = eff.filter((r) => match(r, f));
      const passed = inScope.filter((r) => r.score >= 61).length;
      const stats = await grades.passFail(ADMIN, { ...f, course: 'AN1' });
      const an1 = inScope.filter((r) => r.course_code === 'AN1');
      expect(stats).toEqual({
        passed: an1.filter((r) => r.score >= 61).length,
        failed: an1.filter((r) => r.score < 61).length,
      });
      expect(passed).toBeGreaterThan(0);

      const perCourse = courses
        .map((c) => ({ course: c, students: inScope.filter((r) => r.course_code === c).length }))
        .sort((a, b) => b.students - a.students || (a.course < b.course ? -1 : 1));
      expect(await grades.topCourses(ADMIN, f, 10)).toEqual(perCourse);
      expect(await grades.topCourses(ADMIN, f, 2)).toEqual(perCourse.slice(0, 2));

      const byStudent = new Map<string, { sum: number; n: number; name: string }>();
      for (const r of eff.filter((x) => match(x, f))) {
        const s = byStudent.get(r.student_code) ?? { sum: 0, n: 0, name: r.student_name };
        s.sum += Math.round(r.score * 100);
        s.n++;
        byStudent.set(r.student_code, s);
      }
      const expectedTop = [...byStudent.entries()]
        .sort(([ca, a], [cb, b]) => b.sum * a.n - a.sum * b.n || (ca < cb ? -1 : 1))
        .slice(0, 7)
        .map(([code, s]) => ({ studentCode: code, studentName: s.name, average: Math.round(s.sum / s.n) / 100 }));
      expect(await grades.topStudents(ADMIN, f, 7)).toEqual(expectedTop);
    }
    expect(await grades.students(ADMIN, { course: 'AN2', year: 2030, semester: 1 })).toEqual({
      students: eff.filter((r) => r.course_code === 'AN2' && r.year === 2030 && r.semester === 1).length,
    });
    expect(await grades.total(ADMIN, { year: 2031 })).toEqual({ total: records.filter((r) => r.year === 2031).length });
  });

  it('ranks top students exactly, ties broken by student code', async () => {
    // Scope of its own (year 2040) so that no other test's grades interfere.
    const y = 2040;
    const rows: GradeInput[] = [
      grade({ year: y, student_code: 'T-B', course_code: 'X1', score: 100 }),
      grade({ year: y, student_code: 'T-B', course_code: 'X2', score: 90 }),
      grade({ year: y, student_code: 'T-A', course_code: 'X1', score: 95 }),
      grade({ year: y, student_code: 'T-C', course_code: 'X1', score: 95 }),
      grade({ year: y, student_code: 'T-D', course_code: 'X1', score: 99.99 }),
      grade({ year: y, student_code: 'T-D', course_code: 'X2', score: 10 }),
      grade({ year: y, student_code: 'T-E', course_code: 'X3', score: 96 }),
      grade({ year: y, student_code: 'T-E', course_code: 'X3', score: 20 }),
    ];
    await grades.append(ADMIN, rows, 'ui');
    expect(await grades.topStudents(ADMIN, { year: y }, 4)).toEqual([
      { studentCode: 'T-A', studentName: 'Ana López', average: 95 },
      { studentCode: 'T-B', studentName: 'Ana López', average: 95 },
      { studentCode: 'T-C', studentName: 'Ana López', average: 95 },
      { studentCode: 'T-D', studentName: 'Ana López', average: 55 },
    ]);
  });

  it('walks past many high single grades to students with better averages', async () => {
    // 500 students with a 100 and a 50 (average 75) rank below three with a single 90: the walk
    // must page through every 100 before it may stop.
    const y = 2041;
    const rows: GradeInput[] = [];
    for (let i = 0; i < 500; i++) {
      const code = `W${String(i).padStart(4, '0')}`;
      rows.push(grade({ year: y, student_code: code, course_code: 'W1', score: 100 }));
      rows.push(grade({ year: y, student_code: code, course_code: 'W2', score: 50 }));
    }
    for (const code of ['Z1', 'Z2', 'Z3'])
      rows.push(grade({ year: y, student_code: code, course_code: 'W3', score: 90 }));
    await grades.append(ADMIN, rows.slice(0, 1000), 'ui');
    await grades.append(ADMIN, rows.slice(1000), 'ui');
    const top = await grades.topStudents(ADMIN, { year: y }, 4);
    expect(top.map((t) => [t.studentCode, t.average])).toEqual([
      ['Z1', 90],
      ['Z2', 90],
      ['Z3', 90],
      ['W0000', 75],
    ]);
  });

  it('rejects a bad request whole, and stores nothing of it', async () => {
    const before = await grades.total(ADMIN, {});
    const bad = [grade({ student_code: 'OK1' }), grade({ score: 99.999 }), grade({ semester: 3 as 1 })];
    const err = await grades.append(ADMIN, bad, 'ui').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).details?.errors).toEqual([
      { index: 1, path: 'score', message: 'at most two decimals' },
      { index: 2, path: 'semester', message: 'must be 1 or 2' },
    ]);
    expect(await grades.total(ADMIN, {})).toEqual(before);
  });
});

describeEachDialect('grade counters in Redis', (dialect) => {
  let h: Harness;
  let redis: Redis;
  const prefix = `aula:test:${dialect}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;

  beforeAll(async () => {
    h = await harness(dialect);
    redis = new Redis(REDIS_TEST_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    redis.on('error', () => {});
    await new Promise((r) => redis.once('ready', r));
  });
  afterAll(async () => {
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    await h?.cleanup();
  });

  it('keeps Redis counters equal to SQL under concurrent ingest, and publishes absolute values', async () => {
    const grades = await h.service(new RedisCounters(redis, prefix));
    const events: CountersSnapshot[] = [];
    const off = h.bus.subscribe(GRADES_COMMITTED, (p) => events.push(p as CountersSnapshot));
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        grades.append(
          ADMIN,
          Array.from({ length: 3 }, (_, j) =>
            grade({ student_code: `R${(i * 3 + j) % 70}`, course_code: `RC${i % 3}`, score: j * 30 }),
          ),
          'ui',
        ),
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    off();
    const sql = await sqlCounters(h.db);
    expect(await grades.counters()).toEqual(sql);
    expect(grades.live.dirty).toBe(false);
    expect(events.at(-1)!.total).toBe(sql.total);
    expect(Number(await redis.scard(`${prefix}students:RC0|2025|1`))).toBe(
      sql.groups.find((g) => g.course === 'RC0')!.students,
    );
  });

  it('keeps ingesting while Redis is unreachable, then reconcile makes the counters exact', async () => {
    // A counters client aimed at a closed port: every update fails, as during an outage.
    const dead = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    const during = await h.service(new RedisCounters(dead, prefix));
    const acks = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        during.append(
          ADMIN,
          [grade({ student_code: `OUT${i}`, course_code: 'ROUT', idempotency_key: `out-${dialect}-${i}` })],
          'ui',
        ),
      ),
    );
    expect(acks.every((a) => a.accepted === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(during.live.dirty).toBe(true);
    // Dashboards still get exact figures meanwhile: read from SQL.
    expect(await during.counters()).toEqual(await sqlCounters(h.db));
    dead.disconnect();

    // Redis is back (a healthy client): its counters lack the outage's records until reconcile.
    const after = await h.service(new RedisCounters(redis, prefix));
    const sql = await sqlCounters(h.db);
    expect((await after.counters()).total).toBeLessThan(sql.total);
    const report = await after.reconcile();
    expect(report).toMatchObject({ counters: 'redis', wereExact: false, total: sql.total });
    expect(await after.counters()).toEqual(sql);
    const again = await after.reconcile();
    expect(again.wereExact).toBe(true);
  });

  it('survives its Redis connection being killed mid-ingest', async () => {
    const own = new Redis(REDIS_TEST_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    own.on('error', () => {});
    await new Promise((r) => own.once('ready', r));
    const id = Number(await own.client('ID'));
    const grades = await h.service(new RedisCounters(own, prefix));
    const work = Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        grades.append(ADMIN, [grade({ student_code: `K${i}`, course_code: 'RKILL', score: i % 101 })], 'ui'),
      ),
    );
    const reconnected = new Promise<void>((resolve) => own.once('close', () => own.once('ready', () => resolve())));
    await new Promise((r) => setTimeout(r, 5));
    await redis.client('KILL', 'ID', String(id));
    const acks = await work;
    expect(acks.reduce((s, a) => s + a.accepted, 0)).toBe(200);
    await reconnected;
    await grades.reconcile();
    expect(await grades.counters()).toEqual(await sqlCounters(h.db));
    expect(grades.live.dirty).toBe(false);
    own.disconnect();
  });
});

describe('grade writer when the database is unavailable', () => {
  it('answers 503 with Retry-After on SQLite busy, stores nothing, then recovers', async () => {
    const h = await harness('sqlite');
    try {
      const grades = await h.service();
      h.db.sqlite!.pragma('busy_timeout = 50');
      const other = createDb(h.url);
      other.sqlite!.exec('begin exclusive');
      const err = await grades.append(ADMIN, [grade({ idempotency_key: 'busy-1' })], 'ui').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'database_unavailable', status: 503, details: { retryAfterSeconds: 1 } });
      other.sqlite!.exec('rollback');
      await other.destroy();
      expect(await grades.append(ADMIN, [grade({ idempotency_key: 'busy-1' })], 'ui')).toEqual({
        accepted: 1,
        duplicates: 0,
      });
      expect(await grades.counters()).toEqual(await sqlCounters(h.db));
    } finally {
      await h.cleanup();
    }
  });

  it.each(['mysql', 'postgres'] as const)('answers 503 when %s cannot be reached', async (dialect) => {
    const url = dialect === 'mysql' ? 'mysql://root@127.0.0.1:1/none' : 'postgres://postgres@127.0.0.1:1/none';
    const db = createDb(url);
    const grades = new GradesService({
      db,
      config: testConfig({ DATABASE_URL: url }),
      bus: new MemoryBus(),
      logger: createLogger('silent'),
      metrics: createMetrics(),
      counters: new MemoryCounters(),
    });
    try {
      const err = await grades.append(ADMIN, [grade()], 'ui').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'database_unavailable', status: 503 });
    } finally {
      await grades.close();
      await db.destroy();
    }
  });
});
