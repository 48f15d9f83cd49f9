import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schoolWeek, localInstant, addDays } from '../modules/academics/schedule.ts';
import { createTestApp, type TestApp } from '../test/app.ts';
import { ensureBootstrap } from './bootstrap.ts';
import { DEMO_STUDENTS, seedDemo } from './demo.ts';

const PASSWORD = 'demo-password-123';

async function counts(t: TestApp) {
  const db = t.ctx.db.kysely;
  const n = async (table: 'users' | 'semesters' | 'courses' | 'offerings' | 'enrollments' | 'class_sessions') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const byRole = await db
    .selectFrom('users')
    .select(['role', (eb) => eb.fn.countAll().as('n')])
    .groupBy('role')
    .execute();
  return {
    roles: Object.fromEntries(byRole.map((r) => [r.role, Number(r.n)])),
    users: await n('users'),
    semesters: await n('semesters'),
    courses: await n('courses'),
    offerings: await n('offerings'),
    enrollments: await n('enrollments'),
    sessions: await n('class_sessions'),
  };
}

describe('demo data', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { SEED_DEMO: 'true', AULA_ADMIN_PASSWORD: PASSWORD } });
  });
  afterAll(async () => t?.close());

  it('is created on first start with the admin, with the expected counts, and is idempotent', async () => {
    const boot = await ensureBootstrap(t.ctx);
    expect(boot).toMatchObject({ createdAdmin: true, seededDemo: true });

    const first = await counts(t);
    expect(first.roles).toEqual({ admin: 1, teacher: 2, student: 40 });
    expect(first).toMatchObject({ users: 43, semesters: 2, courses: 6, offerings: 6 });
    // Every student takes three or four courses.
    const perStudent = await t.ctx.db.kysely
      .selectFrom('enrollments')
      .select(['student_id', (eb) => eb.fn.countAll().as('n')])
      .groupBy('student_id')
      .execute();
    expect(perStudent).toHaveLength(40);
    for (const r of perStudent) expect([3, 4]).toContain(Number(r.n));
    expect(first.enrollments).toBe(perStudent.reduce((a, r) => a + Number(r.n), 0));

    // Sessions fall in this week, Monday to Friday, for every offering.
    const { monday, friday } = schoolWeek(Date.now());
    const sessions = await t.ctx.db.kysely.selectFrom('class_sessions').selectAll().execute();
    expect(sessions.length).toBe(12);
    expect(first.sessions).toBe(12);
    for (const s of sessions) {
      expect(Number(s.starts_at)).toBeGreaterThanOrEqual(localInstant(monday));
      expect(Number(s.starts_at)).toBeLessThan(localInstant(addDays(friday, 1)));
    }
    expect(new Set(sessions.map((s) => s.offering_id)).size).toBe(6);

    // The offerings are in the semester containing today, split between the two teachers.
    const year = new Date().getFullYear();
    const current = `${year}-${new Date().getMonth() < 6 ? 1 : 2}`;
    const offerings = await t.ctx.db.kysely
      .selectFrom('offerings as o')
      .innerJoin('semesters as s', 's.id', 'o.semester_id')
      .innerJoin('users as u', 'u.id', 'o.teacher_id')
      .select(['s.code as semester', 'u.username as teacher'])
      .execute();
    expect(new Set(offerings.map((o) => o.semester))).toEqual(new Set([current]));
    expect(offerings.filter((o) => o.teacher === 'teacher1')).toHaveLength(3);
    expect(offerings.filter((o) => o.teacher === 'teacher2')).toHaveLength(3);
    expect(DEMO_STUDENTS.every((s) => /^\d{9}$/.test(s.code))).toBe(true);

    const again = await seedDemo(t.ctx, { password: 'another-password' });
    expect(again).toEqual({
      createdUsers: 0,
      createdSemesters: 0,
      createdCourses: 0,
      createdOfferings: 0,
      enrolled: 0,
      createdSessions: 0,
    });
    expect(await counts(t)).toEqual(first);
  });

  it('gives demo teachers and students the admin password', async () => {
    for (const login of ['teacher1', 'teacher2', '201900001', DEMO_STUDENTS[39].code]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { login, password: PASSWORD },
      });
      expect(res.statusCode, login).toBe(200);
    }
    const student = await t.ctx.identity.findUserByUsername('201900001');
    expect(student).toMatchObject({ role: 'student', student_code: '201900001', full_name: 'José Daniel Pérez López' });
  });

  it('seeds a fresh database on its own and reports the time taken', async () => {
    const other = await createTestApp();
    try {
      const t0 = performance.now();
      await seedDemo(other.ctx, { password: PASSWORD });
      const ms = performance.now() - t0;
      // Reported, not asserted: timings belong to benchmarks, not tests.
      console.log(`seedDemo on SQLite: ${ms.toFixed(0)} ms`);
      expect((await counts(other)).offerings).toBe(6);
    } finally {
      await other.close();
    }
  });
});
