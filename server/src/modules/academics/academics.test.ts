import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { buildUser, loginAs, signedIn, type Session } from '../../test/factories.ts';
import { addDays, isoWeekday } from './schedule.ts';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const MISSING = '01zzzzzzzzzzzzzzzzzzzzzzzz';

describe('academics over HTTP', () => {
  let t: TestApp;
  let admin: Session;
  let teacherA: Session; // teaches offering A
  let teacherB: Session; // teaches offering B
  let studentA: Session; // enrolled in A
  let studentB: Session; // enrolled in B
  let semesterId: string;
  let courseId: string;
  let offeringA: string;
  let offeringB: string;
  let sessionA: string;
  let sessionB: string;

  const call = (s: Session | null, method: Method, url: string, payload?: unknown) =>
    t.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: s?.headers ?? {},
      ...(payload !== undefined && { payload: payload as Record<string, unknown> }),
    });

  beforeAll(async () => {
    t = await createTestApp({ env: { LOGIN_RATE_LIMIT_PER_IP: '1000' } });
    [admin, teacherA, teacherB, studentA, studentB] = await Promise.all([
      signedIn(t.app, t.ctx, 'admin'),
      signedIn(t.app, t.ctx, 'teacher'),
      signedIn(t.app, t.ctx, 'teacher'),
      signedIn(t.app, t.ctx, 'student'),
      signedIn(t.app, t.ctx, 'student'),
    ]);
    semesterId = (
      await call(admin, 'POST', '/semesters', { year: 2030, term: 2, startsOn: '2030-07-01', endsOn: '2030-12-31' })
    ).json().id;
    courseId = (await call(admin, 'POST', '/courses', { code: 'IA1', name: 'Inteligencia Artificial 1' })).json().id;
    const schedule = [{ day: 2, start: '11:00', end: '12:40' }];
    offeringA = (
      await call(admin, 'POST', '/offerings', {
        courseId,
        semesterId,
        section: 'A',
        teacherId: teacherA.user.id,
        schedule,
      })
    ).json().id;
    offeringB = (
      await call(admin, 'POST', '/offerings', {
        courseId,
        semesterId,
        section: 'B',
        teacherId: teacherB.user.id,
        schedule,
      })
    ).json().id;
    await call(admin, 'POST', `/offerings/${offeringA}/enrollments`, { studentId: studentA.user.id });
    await call(admin, 'POST', `/offerings/${offeringB}/enrollments`, { studentId: studentB.user.id });
    const mk = async (o: string) =>
      (
        await call(admin, 'POST', `/offerings/${o}/sessions`, {
          startsAt: '2030-08-06T17:00:00Z',
          endsAt: '2030-08-06T18:40:00Z',
        })
      ).json().id as string;
    sessionA = await mk(offeringA);
    sessionB = await mk(offeringB);
  });
  afterAll(async () => t?.close());

  describe('CRUD as admin', () => {
    it('manages semesters', async () => {
      const created = await call(admin, 'POST', '/semesters', {
        code: '2029-1',
        name: 'Primer semestre 2029',
        year: 2029,
        term: 1,
        startsOn: '2029-01-08',
        endsOn: '2029-06-28',
      });
      expect(created.statusCode).toBe(201);
      const s = created.json();
      expect(s).toEqual({
        id: expect.any(String),
        code: '2029-1',
        name: 'Primer semestre 2029',
        year: 2029,
        term: 1,
        startsOn: '2029-01-08',
        endsOn: '2029-06-28',
      });
      const patched = await call(admin, 'PATCH', `/semesters/${s.id}`, { endsOn: '2029-06-30' });
      expect(patched.json().endsOn).toBe('2029-06-30');
      expect((await call(admin, 'GET', `/semesters/${s.id}`)).json().endsOn).toBe('2029-06-30');
      const list = await call(admin, 'GET', '/semesters?q=2029&sort=code&order=asc');
      expect(list.json()).toMatchObject({ total: 1, limit: 50, offset: 0, items: [{ id: s.id }] });
      const dup = await call(admin, 'POST', '/semesters', {
        code: '2029-1',
        year: 2029,
        term: 1,
        startsOn: '2029-01-08',
        endsOn: '2029-06-28',
      });
      expect([dup.statusCode, dup.json().code]).toEqual([409, 'semester_code_taken']);
      expect((await call(admin, 'DELETE', `/semesters/${s.id}`)).statusCode).toBe(204);
      expect((await call(admin, 'GET', `/semesters/${s.id}`)).statusCode).toBe(404);
      const inUse = await call(admin, 'DELETE', `/semesters/${semesterId}`);
      expect([inUse.statusCode, inUse.json().code]).toEqual([409, 'semester_in_use']);
    });

    it('manages courses', async () => {
      const created = await call(admin, 'POST', '/courses', {
        code: 'ayd1',
        name: 'Análisis y Diseño de Sistemas 1',
        description: 'UML',
      });
      expect(created.statusCode).toBe(201);
      const c = created.json();
      expect(c).toEqual({
        id: expect.any(String),
        code: 'AYD1',
        name: 'Análisis y Diseño de Sistemas 1',
        description: 'UML',
        passingGrade: 61,
      });
      const patched = await call(admin, 'PATCH', `/courses/${c.id}`, { passingGrade: 70, description: null });
      expect(patched.json()).toMatchObject({ passingGrade: 70, description: null });
      const list = await call(admin, 'GET', '/courses?q=dise&sort=name');
      expect(list.json().items.map((x: { code: string }) => x.code)).toEqual(['AYD1']);
      expect((await call(admin, 'DELETE', `/courses/${c.id}`)).statusCode).toBe(204);
    });

    it('manages offerings, enrolments, rosters and sessions', async () => {
      const course = (await call(admin, 'POST', '/courses', { code: 'SO1', name: 'Sistemas Operativos 1' })).json();
      const teacher = (await buildUser(t.ctx, { role: 'teacher' })).user;
      const created = await call(admin, 'POST', '/offerings', {
        courseId: course.id,
        semesterId,
        teacherId: teacher.id,
        room: 'T3-112',
        schedule: [
          { day: 1, start: '07:00', end: '08:40' },
          { day: 3, start: '07:00', end: '08:40' },
        ],
      });
      expect(created.statusCode).toBe(201);
      const o = created.json();
      expect(o).toEqual({
        id: expect.any(String),
        courseId: course.id,
        courseCode: 'SO1',
        courseName: 'Sistemas Operativos 1',
        semesterId,
        semesterCode: '2030-2',
        section: 'A',
        teacherId: teacher.id,
        teacherName: teacher.full_name,
        room: 'T3-112',
        schedule: [
          { day: 1, start: '07:00', end: '08:40' },
          { day: 3, start: '07:00', end: '08:40' },
        ],
        lateAfterMinutes: 10,
        enrolledCount: 0,
      });
      const patched = await call(admin, 'PATCH', `/offerings/${o.id}`, { lateAfterMinutes: 5, room: null });
      expect(patched.json()).toMatchObject({ lateAfterMinutes: 5, room: null });
      const filtered = await call(admin, 'GET', `/offerings?courseId=${course.id}&semesterId=${semesterId}`);
      expect(filtered.json()).toMatchObject({ total: 1, items: [{ id: o.id }] });

      // One enrolment by hand, the rest from a CSV body and a multipart file.
      const student = await buildUser(t.ctx, { fullName: 'Astrid Cuc' });
      const enrolled = await call(admin, 'POST', `/offerings/${o.id}/enrollments`, { studentId: student.user.id });
      expect(enrolled.statusCode).toBe(201);
      expect(enrolled.json()).toEqual({
        id: expect.any(String),
        studentId: student.user.id,
        studentCode: student.user.student_code,
        fullName: 'Astrid Cuc',
        email: student.user.email,
        enrolledAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      const csv = await t.app.inject({
        method: 'POST',
        url: `/api/v1/offerings/${o.id}/roster`,
        headers: { ...admin.headers, 'content-type': 'text/csv' },
        payload: 'student_code,full_name,email\n203000001,Selvin Tojín,selvin@example.test\n',
      });
      expect(csv.statusCode).toBe(200);
      expect(csv.json()).toEqual({ created: 1, enrolled: 1, alreadyEnrolled: 0, rows: 1 });
      const boundary = 'rosterboundary';
      const body =
        `--${boundary}\r\nContent-Disposition: form-data; name="anything"; filename="lista.csv"\r\n` +
        'Content-Type: text/csv\r\n\r\n' +
        `carnet;nombre;correo\r\n203000001;Selvin Tojín;selvin@example.test\r\n203000002;Ingrid Lara;ingrid@example.test\r\n` +
        `--${boundary}--\r\n`;
      const multipart = await t.app.inject({
        method: 'POST',
        url: `/api/v1/offerings/${o.id}/roster`,
        headers: { ...admin.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload: body,
      });
      expect(multipart.statusCode).toBe(200);
      expect(multipart.json()).toEqual({ created: 1, enrolled: 1, alreadyEnrolled: 1, rows: 2 });
      expect((await call(admin, 'GET', `/offerings/${o.id}/enrollments`)).json().total).toBe(3);
      const roster = await call(admin, 'GET', `/offerings/${o.id}/enrollments?q=20300000&sort=studentCode&order=desc`);
      expect(roster.json().items.map((e: { studentCode: string }) => e.studentCode)).toEqual([
        '203000002',
        '203000001',
      ]);
      expect((await call(admin, 'GET', `/offerings/${o.id}`)).json().enrolledCount).toBe(3);
      expect((await call(admin, 'DELETE', `/offerings/${o.id}/enrollments/${student.user.id}`)).statusCode).toBe(204);
      expect((await call(admin, 'DELETE', `/offerings/${o.id}/enrollments/${student.user.id}`)).statusCode).toBe(404);

      // Sessions: generate a week, list it, add one by hand, change and delete.
      const monday = addDays('2030-08-01', (8 - isoWeekday('2030-08-01')) % 7);
      const gen = await call(admin, 'POST', `/offerings/${o.id}/sessions/generate`, {
        from: monday,
        to: addDays(monday, 6),
      });
      expect(gen.json()).toEqual({ created: 2, existing: 0 });
      expect(
        (await call(admin, 'POST', `/offerings/${o.id}/sessions/generate`, { from: monday, to: monday })).json(),
      ).toEqual({ created: 0, existing: 1 });
      const sessions = await call(admin, 'GET', `/offerings/${o.id}/sessions?from=${monday}&to=${addDays(monday, 6)}`);
      expect(sessions.json().total).toBe(2);
      const first = sessions.json().items[0];
      expect(first).toEqual({
        id: expect.any(String),
        offeringId: o.id,
        startsAt: new Date(`${monday}T07:00:00`).toISOString(),
        endsAt: new Date(`${monday}T08:40:00`).toISOString(),
        lateAfterMinutes: 5,
        status: 'scheduled',
      });
      const extra = await call(admin, 'POST', `/offerings/${o.id}/sessions`, {
        startsAt: '2030-09-05T15:00:00-06:00',
        endsAt: '2030-09-05T17:00:00-06:00',
        lateAfterMinutes: 20,
      });
      expect(extra.statusCode).toBe(201);
      expect(extra.json()).toMatchObject({ startsAt: '2030-09-05T21:00:00.000Z', lateAfterMinutes: 20 });
      const opened = await call(admin, 'PATCH', `/sessions/${first.id}`, { status: 'open', lateAfterMinutes: 12 });
      expect(opened.json()).toMatchObject({ status: 'open', lateAfterMinutes: 12 });
      const moved = await call(admin, 'PATCH', `/sessions/${extra.json().id}`, {
        startsAt: '2030-09-05T22:00:00Z',
        endsAt: '2030-09-05T23:00:00Z',
      });
      expect(moved.json()).toMatchObject({ startsAt: '2030-09-05T22:00:00.000Z', endsAt: '2030-09-05T23:00:00.000Z' });
      expect((await call(admin, 'GET', `/sessions/${first.id}`)).json().status).toBe('open');
      expect((await call(admin, 'DELETE', `/sessions/${extra.json().id}`)).statusCode).toBe(204);
      expect((await call(admin, 'GET', `/sessions/${extra.json().id}`)).statusCode).toBe(404);
      const busy = await call(admin, 'DELETE', `/offerings/${o.id}`);
      expect([busy.statusCode, busy.json().code]).toEqual([409, 'offering_in_use']);
      await call(admin, 'PATCH', `/sessions/${first.id}`, { status: 'closed' });
      const unused = (
        await call(admin, 'POST', '/offerings', { courseId: course.id, semesterId, section: 'X' })
      ).json();
      expect((await call(admin, 'DELETE', `/offerings/${unused.id}`)).statusCode).toBe(204);
      expect((await call(admin, 'GET', `/offerings/${unused.id}`)).statusCode).toBe(404);
    });
  });

  describe('validation', () => {
    const expect400 = async (method: Method, url: string, payload: unknown, code = 'validation_failed') => {
      const res = await call(admin, method, url, payload);
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(payload)}`).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status: 400, code });
      return res.json();
    };
    const semester = { year: 2031, term: 1, startsOn: '2031-01-01', endsOn: '2031-06-30' };

    it('rejects unknown fields and wrong types', async () => {
      await expect400('POST', '/semesters', { ...semester, admin: true });
      await expect400('POST', '/semesters', { ...semester, year: '2031' });
      await expect400('POST', '/semesters', { ...semester, term: 3 });
      await expect400('POST', '/courses', { code: 'X1', name: 'X', passingGrade: 101 });
      await expect400('POST', '/courses', { code: 'bad code', name: 'X' });
      await expect400('PATCH', `/courses/${courseId}`, { credits: 4 });
      await expect400('POST', '/offerings', { courseId, semesterId, lateAfterMinutes: 'ten' });
      await expect400('POST', `/offerings/${offeringA}/enrollments`, { studentId: 5 });
      await expect400('PATCH', `/sessions/${sessionA}`, { status: 'cancelled' });
      await expect400('GET', '/offerings?limit=0', undefined);
      await expect400('GET', '/courses?sort=password', undefined);
      const bad = await t.app.inject({
        method: 'POST',
        url: '/api/v1/courses',
        headers: { ...admin.headers, 'content-type': 'application/json' },
        payload: '{"code":',
      });
      expect([bad.statusCode, bad.json().code]).toEqual([400, 'invalid_json']);
    });

    it('rejects bad dates and times', async () => {
      await expect400('POST', '/semesters', { ...semester, startsOn: '2031-02-30' });
      await expect400('POST', '/semesters', { ...semester, endsOn: '31/06/2031' });
      await expect400('POST', '/semesters', { ...semester, startsOn: '2031-07-01', endsOn: '2031-06-30' });
      await expect400('PATCH', `/semesters/${semesterId}`, { endsOn: '2030-01-01' }, 'invalid_dates');
      await expect400('POST', `/offerings/${offeringA}/sessions`, {
        startsAt: 'tomorrow',
        endsAt: '2030-01-01T10:00:00Z',
      });
      await expect400(
        'POST',
        `/offerings/${offeringA}/sessions`,
        { startsAt: '2030-01-01T10:00:00Z', endsAt: '2030-01-01T09:00:00Z' },
        'invalid_times',
      );
      await expect400('POST', `/offerings/${offeringA}/sessions/generate`, { from: '2030-13-01', to: '2030-12-31' });
      await expect400(
        'POST',
        `/offerings/${offeringA}/sessions/generate`,
        { from: '2030-12-31', to: '2030-01-01' },
        'invalid_range',
      );
      await expect400(
        'POST',
        `/offerings/${offeringA}/sessions/generate`,
        { from: '2030-01-01', to: '2030-12-31' },
        'range_too_long',
      );
      await expect400('GET', `/offerings/${offeringA}/sessions?from=yesterday`, undefined);
    });

    it('rejects bad schedules', async () => {
      const slot = (s: Record<string, unknown>) => ({ courseId, semesterId, section: 'Q', schedule: [s] });
      await expect400('POST', '/offerings', slot({ day: 1, start: '25:00', end: '26:00' }));
      await expect400('POST', '/offerings', slot({ day: 1, start: '7:00', end: '08:00' }));
      await expect400('POST', '/offerings', slot({ day: 8, start: '07:00', end: '08:00' }));
      await expect400('POST', '/offerings', slot({ day: 1, start: '09:00', end: '08:00' }));
      await expect400('POST', '/offerings', slot({ day: 1, start: '07:00', end: '08:00', room: 'x' }));
      await expect400('PATCH', `/offerings/${offeringA}`, {
        schedule: [
          { day: 2, start: '07:00', end: '09:00' },
          { day: 2, start: '08:00', end: '10:00' },
        ],
      });
      await expect400('POST', '/offerings', { courseId: MISSING, semesterId }, 'unknown_course');
      await expect400(
        'POST',
        '/offerings',
        { courseId, semesterId, section: 'T', teacherId: studentA.user.id },
        'not_a_teacher',
      );
    });

    it('reports every bad roster line and imports nothing', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/offerings/${offeringB}/roster`,
        headers: { ...admin.headers, 'content-type': 'text/csv' },
        payload:
          'student_code,full_name,email\n204000001,Uno,uno@example.test\nx,Dos,dos@example.test\n204000003,Tres,tres\n',
      });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({
        code: 'roster_invalid',
        errors: [
          { line: 3, message: expect.stringContaining('student_code') },
          { line: 4, message: expect.stringContaining('email') },
        ],
      });
      expect(await t.ctx.identity.findUserByUsername('204000001')).toBeUndefined();
      const header = await t.app.inject({
        method: 'POST',
        url: `/api/v1/offerings/${offeringB}/roster`,
        headers: { ...admin.headers, 'content-type': 'text/csv' },
        payload: 'code,name\n1,2\n',
      });
      expect(header.json()).toMatchObject({ code: 'roster_invalid', errors: [{ line: 1 }] });
      const big = await t.app.inject({
        method: 'POST',
        url: `/api/v1/offerings/${offeringB}/roster`,
        headers: { ...admin.headers, 'content-type': 'text/csv' },
        payload: `student_code,full_name,email\n${'x'.repeat(2 * 1024 * 1024)}\n`,
      });
      expect(big.statusCode).toBe(413);
      const boundary = 'b0undary';
      const bigFile = await t.app.inject({
        method: 'POST',
        url: `/api/v1/offerings/${offeringB}/roster`,
        headers: { ...admin.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload:
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n` +
          `student_code,full_name,email\n${'x'.repeat(2 * 1024 * 1024)}\r\n--${boundary}--\r\n`,
      });
      expect(bigFile.statusCode).toBe(413);
      const rows = await t.app.inject({
        method: 'POST',
        url: `/api/v1/offerings/${offeringB}/roster`,
        headers: { ...admin.headers, 'content-type': 'text/csv' },
        payload: `student_code,full_name,email\n${Array.from({ length: 5001 }, (_, i) => `c${i},N,n${i}@x.test`).join('\n')}`,
      });
      expect([rows.statusCode, rows.json().code]).toEqual([413, 'roster_too_large']);
      const json = await call(admin, 'POST', `/offerings/${offeringB}/roster`, { csv: 'a,b' });
      expect(json.statusCode).toBe(415);
    });
  });

  describe('role matrix', () => {
    const expectStatus = async (s: Session | null, method: Method, url: string, status: number, payload?: unknown) => {
      const res = await call(s, method, url, payload);
      expect(res.statusCode, `${s?.user.role ?? 'anonymous'} ${method} ${url}: ${res.body}`).toBe(status);
      if (status >= 400) expect(res.headers['content-type']).toContain('application/problem+json');
      return res;
    };

    it('needs a signed-in user', async () => {
      for (const url of [
        '/semesters',
        '/courses',
        '/offerings',
        `/offerings/${offeringA}/sessions`,
        '/me/enrollments',
      ]) {
        await expectStatus(null, 'GET', url, 401);
      }
    });

    it('semesters and courses: everyone reads, only admins write', async () => {
      for (const s of [teacherA, studentA]) {
        await expectStatus(s, 'GET', '/semesters', 200);
        await expectStatus(s, 'GET', `/semesters/${semesterId}`, 200);
        await expectStatus(s, 'GET', '/courses', 200);
        await expectStatus(s, 'GET', `/courses/${courseId}`, 200);
        await expectStatus(s, 'POST', '/semesters', 403, {
          year: 2040,
          term: 1,
          startsOn: '2040-01-01',
          endsOn: '2040-06-30',
        });
        await expectStatus(s, 'PATCH', `/semesters/${semesterId}`, 403, { name: 'x' });
        await expectStatus(s, 'DELETE', `/semesters/${semesterId}`, 403);
        await expectStatus(s, 'POST', '/courses', 403, { code: 'ZZ1', name: 'Z' });
        await expectStatus(s, 'PATCH', `/courses/${courseId}`, 403, { name: 'x' });
        await expectStatus(s, 'DELETE', `/courses/${courseId}`, 403);
      }
      await expectStatus(admin, 'GET', `/semesters/${MISSING}`, 404);
      await expectStatus(admin, 'PATCH', `/courses/${MISSING}`, 404, { name: 'x' });
    });

    it('offerings: teachers see and edit their own, students see those they attend', async () => {
      const ids = async (s: Session) =>
        (await expectStatus(s, 'GET', '/offerings', 200)).json().items.map((o: { id: string }) => o.id);
      expect(await ids(teacherA)).toEqual([offeringA]);
      expect(await ids(teacherB)).toEqual([offeringB]);
      expect(await ids(studentA)).toEqual([offeringA]);
      expect(await ids(studentB)).toEqual([offeringB]);
      expect((await ids(admin)).length).toBeGreaterThanOrEqual(2);
      // Asking for another teacher's offerings yields nothing, not theirs.
      expect((await expectStatus(teacherA, 'GET', `/offerings?teacherId=${teacherB.user.id}`, 200)).json().total).toBe(
        0,
      );

      await expectStatus(teacherA, 'GET', `/offerings/${offeringA}`, 200);
      await expectStatus(teacherA, 'GET', `/offerings/${offeringB}`, 403);
      await expectStatus(studentA, 'GET', `/offerings/${offeringA}`, 200);
      await expectStatus(studentA, 'GET', `/offerings/${offeringB}`, 403);
      await expectStatus(teacherA, 'GET', `/offerings/${MISSING}`, 404);

      await expectStatus(teacherA, 'PATCH', `/offerings/${offeringA}`, 200, { room: 'S12-305' });
      await expectStatus(teacherA, 'PATCH', `/offerings/${offeringA}`, 403, { teacherId: teacherB.user.id });
      await expectStatus(teacherA, 'PATCH', `/offerings/${offeringB}`, 403, { room: 'x' });
      await expectStatus(studentA, 'PATCH', `/offerings/${offeringA}`, 403, { room: 'x' });

      for (const s of [teacherA, studentA]) {
        await expectStatus(s, 'POST', '/offerings', 403, { courseId, semesterId, section: 'Z' });
        await expectStatus(s, 'DELETE', `/offerings/${offeringA}`, 403);
      }

      const mine = await expectStatus(studentA, 'GET', '/me/enrollments', 200);
      expect(mine.json()).toMatchObject({
        total: 1,
        items: [{ id: offeringA, courseCode: 'IA1', enrollmentId: expect.any(String), enrolledAt: expect.any(String) }],
      });
      expect((await expectStatus(teacherA, 'GET', '/me/enrollments', 200)).json().total).toBe(0);
    });

    it('enrolments: teachers read their roster, students only themselves, admins change them', async () => {
      const roster = await expectStatus(teacherA, 'GET', `/offerings/${offeringA}/enrollments`, 200);
      expect(roster.json().items.map((e: { studentId: string }) => e.studentId)).toEqual([studentA.user.id]);
      await expectStatus(teacherA, 'GET', `/offerings/${offeringB}/enrollments`, 403);
      await expectStatus(studentB, 'GET', `/offerings/${offeringA}/enrollments`, 403);

      // A classmate sees only their own enrolment.
      const classmate = await loginAs(t.app, await buildUser(t.ctx));
      await expectStatus(admin, 'POST', `/offerings/${offeringA}/enrollments`, 201, { studentId: classmate.user.id });
      const own = await expectStatus(classmate, 'GET', `/offerings/${offeringA}/enrollments`, 200);
      expect(own.json()).toMatchObject({ total: 1, items: [{ studentId: classmate.user.id }] });

      for (const s of [teacherA, studentA]) {
        await expectStatus(s, 'POST', `/offerings/${offeringA}/enrollments`, 403, { studentId: studentB.user.id });
        await expectStatus(s, 'DELETE', `/offerings/${offeringA}/enrollments/${classmate.user.id}`, 403);
        const res = await t.app.inject({
          method: 'POST',
          url: `/api/v1/offerings/${offeringA}/roster`,
          headers: { ...s.headers, 'content-type': 'text/csv' },
          payload: 'student_code,full_name,email\n205000001,X,x@example.test\n',
        });
        expect(res.statusCode).toBe(403);
      }
      await expectStatus(admin, 'DELETE', `/offerings/${offeringA}/enrollments/${classmate.user.id}`, 204);
      await expectStatus(admin, 'POST', `/offerings/${MISSING}/enrollments`, 404, { studentId: studentA.user.id });
      await expectStatus(admin, 'POST', `/offerings/${offeringA}/enrollments`, 400, { studentId: teacherA.user.id });
    });

    it('sessions: teachers manage their own, students read those of their offerings', async () => {
      await expectStatus(teacherA, 'GET', `/offerings/${offeringA}/sessions`, 200);
      await expectStatus(teacherA, 'GET', `/offerings/${offeringB}/sessions`, 403);
      await expectStatus(studentA, 'GET', `/offerings/${offeringA}/sessions`, 200);
      await expectStatus(studentA, 'GET', `/offerings/${offeringB}/sessions`, 403);
      await expectStatus(teacherA, 'GET', `/sessions/${sessionA}`, 200);
      await expectStatus(teacherA, 'GET', `/sessions/${sessionB}`, 403);
      await expectStatus(studentA, 'GET', `/sessions/${sessionA}`, 200);
      await expectStatus(studentA, 'GET', `/sessions/${sessionB}`, 403);
      await expectStatus(studentA, 'GET', `/sessions/${MISSING}`, 404);

      const week = { from: '2030-09-02', to: '2030-09-08' };
      await expectStatus(teacherA, 'POST', `/offerings/${offeringA}/sessions/generate`, 200, week);
      await expectStatus(teacherA, 'POST', `/offerings/${offeringB}/sessions/generate`, 403, week);
      await expectStatus(studentA, 'POST', `/offerings/${offeringA}/sessions/generate`, 403, week);

      const slot = { startsAt: '2030-10-01T14:00:00Z', endsAt: '2030-10-01T15:00:00Z' };
      const own = await expectStatus(teacherA, 'POST', `/offerings/${offeringA}/sessions`, 201, slot);
      await expectStatus(teacherA, 'POST', `/offerings/${offeringB}/sessions`, 403, slot);
      await expectStatus(studentA, 'POST', `/offerings/${offeringA}/sessions`, 403, slot);

      await expectStatus(teacherA, 'PATCH', `/sessions/${sessionA}`, 200, { status: 'open' });
      await expectStatus(teacherA, 'PATCH', `/sessions/${sessionB}`, 403, { status: 'open' });
      await expectStatus(studentA, 'PATCH', `/sessions/${sessionA}`, 403, { status: 'closed' });

      await expectStatus(teacherA, 'DELETE', `/sessions/${sessionB}`, 403);
      await expectStatus(studentA, 'DELETE', `/sessions/${own.json().id}`, 403);
      await expectStatus(teacherA, 'DELETE', `/sessions/${own.json().id}`, 204);
      await expectStatus(teacherA, 'POST', `/offerings/${MISSING}/sessions`, 404, slot);
    });
  });
});
