import { afterAll, beforeAll, expect, it } from 'vitest';
import { AppError } from '../../platform/errors.ts';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { describeEachDialect } from '../../test/databases.ts';
import { buildUser } from '../../test/factories.ts';
import { SYSTEM_ACTOR } from '../identity/actor.ts';
import type { AcademicsService } from './academics.service.ts';
import { addDays, isoWeekday } from './schedule.ts';

const admin = SYSTEM_ACTOR;

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** The Monday on or after a fixed day, so generated weeks are predictable. */
const MONDAY = (() => {
  const d = '2031-03-03';
  return addDays(d, (8 - isoWeekday(d)) % 7);
})();

describeEachDialect('academics on a real database', (dialect) => {
  let t: TestApp;
  let academics: AcademicsService;
  let semesterId: string;
  let courseId: string;
  let teacherId: string;

  beforeAll(async () => {
    t = await createTestApp({ dialect });
    academics = t.ctx.academics;
    teacherId = (await buildUser(t.ctx, { role: 'teacher', fullName: 'Ana Tzul' })).user.id;
    semesterId = (
      await academics.createSemester(admin, { year: 2031, term: 1, startsOn: '2031-01-01', endsOn: '2031-06-30' })
    ).id;
    courseId = (await academics.createCourse(admin, { code: 'so1', name: 'Sistemas Operativos 1' })).id;
  });
  afterAll(async () => t?.close());

  it('stores semesters and courses with their defaults and enforces unique codes', async () => {
    const s = await academics.getSemester(admin, semesterId);
    expect(s).toMatchObject({ code: '2031-1', name: 'Primer semestre 2031', starts_on: '2031-01-01' });
    expect((await academics.findSemesterContaining('2031-03-15'))?.id).toBe(semesterId);
    expect(await academics.findSemesterContaining('2031-07-15')).toBeUndefined();

    const c = await academics.findCourseByCode('SO1');
    expect(c).toMatchObject({ id: courseId, code: 'SO1', passing_grade: 61, description: null });

    const dupSemester = await rejection(
      academics.createSemester(admin, { year: 2031, term: 1, startsOn: '2031-01-01', endsOn: '2031-06-30' }),
    );
    expect([dupSemester.status, dupSemester.code]).toEqual([409, 'semester_code_taken']);
    const dupCourse = await rejection(academics.createCourse(admin, { code: 'So1', name: 'Again' }));
    expect([dupCourse.status, dupCourse.code]).toEqual([409, 'course_code_taken']);
  });

  it('lists offerings with joined names, counts, filters, search and sort', async () => {
    const bd = await academics.createCourse(admin, { code: 'BD1', name: 'Sistemas de Bases de Datos 1' });
    const lfp = await academics.createCourse(admin, { code: 'LFP_X', name: 'Lenguajes 100% formales' });
    const o1 = await academics.createOffering(admin, { courseId: bd.id, semesterId, teacherId, room: 'S12-210' });
    const o2 = await academics.createOffering(admin, { courseId: lfp.id, semesterId, section: 'B' });
    const s1 = await buildUser(t.ctx, { fullName: 'Kevin Xicará' });
    const s2 = await buildUser(t.ctx, { fullName: 'Lucía Batz' });
    await academics.enrollMany(admin, o1.id, [s1.user.id, s2.user.id]);
    await academics.enrollMany(admin, o2.id, [s1.user.id]);

    const v = await academics.getOffering(admin, o1.id);
    expect(v).toMatchObject({
      course_code: 'BD1',
      course_name: 'Sistemas de Bases de Datos 1',
      semester_code: '2031-1',
      teacher_name: 'Ana Tzul',
      section: 'A',
      enrolled_count: 2,
    });

    const base = { sort: 'course' as const, order: 'asc' as const, limit: 50, offset: 0 };
    const all = await academics.listOfferings(admin, { ...base, semesterId });
    expect(all.items.map((o) => o.course_code)).toEqual(['BD1', 'LFP_X']);
    expect(all.total).toBe(2);
    const desc = await academics.listOfferings(admin, { ...base, semesterId, order: 'desc' });
    expect(desc.items.map((o) => o.course_code)).toEqual(['LFP_X', 'BD1']);
    // '%' and '_' are matched literally, not as wildcards.
    expect((await academics.listOfferings(admin, { ...base, q: '100%' })).items.map((o) => o.id)).toEqual([o2.id]);
    expect((await academics.listOfferings(admin, { ...base, q: 'x_' })).items).toEqual([]);
    expect((await academics.listOfferings(admin, { ...base, q: 'tzul' })).items.map((o) => o.id)).toEqual([o1.id]);
    expect((await academics.listOfferings(admin, { ...base, teacherId })).total).toBe(1);
    const paged = await academics.listOfferings(admin, { ...base, semesterId, limit: 1, offset: 1 });
    expect([paged.items.length, paged.total, paged.items[0].id]).toEqual([1, 2, o2.id]);

    // Role visibility is applied in the query itself.
    const student = { ...admin, id: s2.user.id, role: 'student' as const, via: 'session' as const };
    expect((await academics.listOfferings(student, base)).items.map((o) => o.id)).toEqual([o1.id]);
    const teacher = { ...admin, id: teacherId, role: 'teacher' as const, via: 'session' as const };
    expect((await academics.listOfferings(teacher, base)).items.map((o) => o.id)).toEqual([o1.id]);

    const enrolled = await academics.listEnrollments(admin, o1.id, {
      q: 'batz',
      sort: 'fullName',
      order: 'asc',
      limit: 10,
      offset: 0,
    });
    expect(enrolled.items.map((e) => e.full_name)).toEqual(['Lucía Batz']);
    expect((await academics.listEnrolledStudents(o1.id)).map((e) => e.full_name)).toEqual([
      'Kevin Xicará',
      'Lucía Batz',
    ]);
    const mine = await academics.listMyEnrollments(student, { limit: 10, offset: 0 });
    expect(mine.items.map((m) => [m.course_code, m.enrolled_count])).toEqual([['BD1', 2]]);

    const dup = await rejection(academics.createOffering(admin, { courseId: bd.id, semesterId }));
    expect([dup.status, dup.code]).toEqual([409, 'offering_exists']);
    const dupEnrol = await rejection(academics.enroll(admin, o1.id, s1.user.id));
    expect([dupEnrol.status, dupEnrol.code]).toEqual([409, 'already_enrolled']);
    const inUse = await rejection(academics.deleteCourse(admin, bd.id));
    expect([inUse.status, inUse.code]).toEqual([409, 'course_in_use']);
  });

  it('generates sessions from the weekly schedule in local time, idempotently', async () => {
    const o = await academics.createOffering(admin, {
      courseId,
      semesterId,
      section: 'G',
      teacherId,
      lateAfterMinutes: 15,
      schedule: [
        { day: 1, start: '07:00', end: '08:40' },
        { day: 3, start: '07:00', end: '08:40' },
      ],
    });
    const friday = addDays(MONDAY, 4);
    expect(await academics.sessions.generate(admin, o.id, MONDAY, friday)).toEqual({ created: 2, existing: 0 });
    expect(await academics.sessions.generate(admin, o.id, MONDAY, friday)).toEqual({ created: 0, existing: 2 });
    // A wider range adds only the new meetings; two racing generations create each one once.
    const nextFriday = addDays(MONDAY, 11);
    const raced = await Promise.all([
      academics.sessions.generate(admin, o.id, MONDAY, nextFriday),
      academics.sessions.generate(admin, o.id, MONDAY, nextFriday),
    ]);
    expect(raced.map((r) => r.created + r.existing)).toEqual([4, 4]);
    expect(raced[0].created + raced[1].created).toBe(2);

    const list = await academics.sessions.list(admin, o.id, { order: 'asc', limit: 50, offset: 0 });
    expect(list.total).toBe(4);
    for (const s of list.items) {
      const start = new Date(Number(s.starts_at));
      expect([start.getHours(), start.getMinutes()]).toEqual([7, 0]);
      expect([1, 3]).toContain(start.getDay());
      expect(Number(s.ends_at) - Number(s.starts_at)).toBe(100 * 60_000);
      expect(Number(s.late_after_minutes)).toBe(15);
      expect(s.status).toBe('scheduled');
    }
    const firstWeek = await academics.sessions.list(admin, o.id, {
      from: MONDAY,
      to: friday,
      order: 'asc',
      limit: 50,
      offset: 0,
    });
    expect(firstWeek.total).toBe(2);

    const dup = await rejection(
      academics.sessions.create(admin, o.id, {
        startsAt: new Date(Number(list.items[0].starts_at)).toISOString(),
        endsAt: new Date(Number(list.items[0].ends_at)).toISOString(),
      }),
    );
    expect([dup.status, dup.code]).toEqual([409, 'session_exists']);

    const opened = await academics.sessions.update(admin, list.items[0].id, { status: 'open' });
    expect(opened.status).toBe('open');
    expect(opened.opened_at).not.toBeNull();
    await expect(academics.findSessionAt(o.id, Number(opened.starts_at) + 60_000)).resolves.toMatchObject({
      id: opened.id,
    });
    const back = await rejection(academics.sessions.update(admin, opened.id, { status: 'scheduled' }));
    expect(back.code).toBe('invalid_status_change');
    expect((await rejection(academics.sessions.delete(admin, opened.id))).code).toBe('session_in_use');
    expect((await rejection(academics.deleteOffering(admin, o.id))).code).toBe('offering_in_use');
    await academics.sessions.delete(admin, list.items[3].id);
    expect(await academics.sessions.generate(admin, o.id, MONDAY, nextFriday)).toEqual({ created: 1, existing: 3 });
  });

  it('imports a roster all or nothing, listing every bad line', async () => {
    const o = await academics.createOffering(admin, { courseId, semesterId, section: 'R' });
    const existing = await buildUser(t.ctx, { studentCode: '201500111', fullName: 'Existing Student' });
    const other = await buildUser(t.ctx, { role: 'teacher' });
    const bad = [
      'student_code,full_name,email',
      '202100001,Ana Pérez,ana@example.test',
      '202100002,,bruno@example.test',
      '202100003,Carla Díaz,not-an-email',
      '202100001,Ana Again,ana2@example.test',
      `202100004,Dora Ixcoy,${other.user.email}`,
      '202100005,Eva Cuc,eva@example.test',
    ].join('\n');
    const err = await rejection(academics.importRoster(admin, o.id, Buffer.from(bad)));
    expect([err.status, err.code]).toEqual([400, 'roster_invalid']);
    const errors = err.details?.errors as { line: number; message: string }[];
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 6]);
    expect(errors[2].message).toMatch(/repeated \(first on line 2\)/);
    expect(errors[3].message).toMatch(/belongs to another user/);
    // Nothing was imported: not even the good rows.
    expect(await t.ctx.identity.findUserByUsername('202100001')).toBeUndefined();
    expect(await academics.listEnrolledStudents(o.id)).toEqual([]);

    const good = Buffer.from(
      '\uFEFFstudent_code;full_name;email\r\n' +
        '202100001;Ana Pérez;ana@example.test\r\n' +
        `201500111;Existing Student;${existing.user.email}\r\n` +
        '\r\n' +
        '202100005;"Eva Cuc; hija";eva@example.test\r\n',
    );
    expect(await academics.importRoster(admin, o.id, good)).toEqual({
      created: 2,
      enrolled: 3,
      alreadyEnrolled: 0,
      rows: 3,
    });
    const ana = await t.ctx.identity.findUserByUsername('202100001');
    expect(ana).toMatchObject({ role: 'student', student_code: '202100001', password_hash: null });
    expect((await academics.listEnrolledStudents(o.id)).map((s) => s.full_name).sort()).toEqual([
      'Ana Pérez',
      'Eva Cuc; hija',
      'Existing Student',
    ]);
    // Importing the same file again matches everyone by code and changes nothing.
    expect(await academics.importRoster(admin, o.id, good)).toEqual({
      created: 0,
      enrolled: 0,
      alreadyEnrolled: 3,
      rows: 3,
    });
    // An existing code with someone else's email is refused.
    const clash = await rejection(
      academics.importRoster(
        admin,
        o.id,
        Buffer.from(`student_code,full_name,email\n202100001,Ana,${other.user.email}\n`),
      ),
    );
    expect(clash.details?.errors).toEqual([{ line: 2, message: expect.stringMatching(/belongs to another user/) }]);
  });

  it('keeps the database consistent when two imports of new students race', async () => {
    const o = await academics.createOffering(admin, { courseId, semesterId, section: 'Z' });
    const csv = Buffer.from(
      [
        'student_code,full_name,email',
        ...Array.from({ length: 30 }, (_, i) => `2099${String(i).padStart(5, '0')},S ${i},s${i}@race.test`),
      ].join('\n'),
    );
    const results = await Promise.allSettled([
      academics.importRoster(admin, o.id, csv),
      academics.importRoster(admin, o.id, csv),
    ]);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as AppError).code).toBe('roster_conflict');
    }
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    expect(await academics.listEnrolledStudents(o.id)).toHaveLength(30);
  });
});
