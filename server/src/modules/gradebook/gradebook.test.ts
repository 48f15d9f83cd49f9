import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { describeEachDialect } from '../../test/databases.ts';
import { buildToken, buildUser, loginAs, type BuiltUser, type Session } from '../../test/factories.ts';
import { SYSTEM_ACTOR } from '../identity/actor.ts';

// Real databases: SQLite (embedded) and MariaDB (scaled). PostgreSQL shares every query with
// them through Kysely and is covered by the migration test.
describeEachDialect(
  'gradebook over HTTP',
  (dialect) => {
    let t: TestApp;
    let offeringId: string;
    let otherOfferingId: string;
    let teacher: Session;
    let otherTeacher: Session;
    let admin: Session;
    let students: BuiltUser[];
    let outsider: BuiltUser;
    let ingestToken: string;
    let ingestUser: BuiltUser;
    const code = (i: number) => students[i].user.student_code!;

    async function ingest(records: object | object[]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/grades',
        headers: { authorization: `Bearer ${ingestToken}` },
        payload: records,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ accepted: number; duplicates: number }>();
    }

    const grade = (i: number, score: number, course = 'SO1') => ({
      student_code: code(i),
      student_name: students[i].user.full_name,
      course_code: course,
      semester: 1,
      year: 2025,
      score,
    });

    function upload(url: string, session: Session, csv: string, as: 'text' | 'multipart' = 'text') {
      if (as === 'text') {
        return t.app.inject({
          method: 'POST',
          url,
          headers: { ...session.headers, 'content-type': 'text/csv' },
          payload: csv,
        });
      }
      const boundary = '----aulatest';
      const body = [
        `--${boundary}`,
        'Content-Disposition: form-data; name="file"; filename="grades.csv"',
        'Content-Type: text/csv',
        '',
        csv,
        `--${boundary}--`,
        '',
      ].join('\r\n');
      return t.app.inject({
        method: 'POST',
        url,
        headers: { ...session.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload: body,
      });
    }

    const book = async (session: Session = teacher) => {
      const res = await t.app.inject({ url: `/api/v1/offerings/${offeringId}/gradebook`, headers: session.headers });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{
        summary: Record<string, number | null>;
        students: { studentCode: string; score: number | null; passed: boolean | null; source: string | null }[];
      }>();
    };
    const rowOf = async (i: number) => (await book()).students.find((s) => s.studentCode === code(i))!;

    beforeAll(async () => {
      t = await createTestApp({ dialect });
      const { academics } = t.ctx;
      const sem = await academics.createSemester(SYSTEM_ACTOR, {
        year: 2025,
        term: 1,
        startsOn: '2025-01-15',
        endsOn: '2025-06-15',
      });
      const course = await academics.createCourse(SYSTEM_ACTOR, { code: 'SO1', name: 'Sistemas Operativos 1' });
      const other = await academics.createCourse(SYSTEM_ACTOR, { code: 'BD1', name: 'Bases de Datos 1' });
      const t1 = await buildUser(t.ctx, { role: 'teacher', fullName: 'Ana Teacher' });
      const t2 = await buildUser(t.ctx, { role: 'teacher' });
      offeringId = (
        await academics.createOffering(SYSTEM_ACTOR, { courseId: course.id, semesterId: sem.id, teacherId: t1.user.id })
      ).id;
      otherOfferingId = (
        await academics.createOffering(SYSTEM_ACTOR, { courseId: other.id, semesterId: sem.id, teacherId: t2.user.id })
      ).id;
      students = [];
      for (let i = 0; i < 3; i++) {
        const s = await buildUser(t.ctx, { role: 'student', fullName: `Student ${i}` });
        await academics.enroll(SYSTEM_ACTOR, offeringId, s.user.id);
        students.push(s);
      }
      outsider = await buildUser(t.ctx, { role: 'student' });
      teacher = await loginAs(t.app, t1);
      otherTeacher = await loginAs(t.app, t2);
      admin = await loginAs(t.app, await buildUser(t.ctx, { role: 'admin' }));
      ingestUser = await buildUser(t.ctx, { role: 'admin', fullName: 'Ingest Robot' });
      ingestToken = await buildToken(t.ctx, ingestUser.user.id, ['grades:write']);

      // Student 0 is graded twice (the later one counts), student 1 once, student 2 never; grades
      // of another course and of an outsider must not show in this offering.
      await ingest(grade(0, 50));
      await ingest([grade(0, 75), grade(1, 40), grade(0, 99, 'BD1')]);
      await ingest({ ...grade(0, 70), student_code: outsider.user.student_code, student_name: 'Outsider' });
    });
    afterAll(async () => t?.close());

    it('lists every enrolled student against their effective grade', async () => {
      const b = await book();
      expect(b.summary).toEqual({ enrolled: 3, graded: 2, passed: 1, failed: 1, average: 57.5 });
      expect(b.students.map((s) => [s.studentCode, s.score, s.passed, s.source]).sort()).toEqual(
        [
          [code(0), 75, true, 'rest'],
          [code(1), 40, false, 'rest'],
          [code(2), null, null, null],
        ].sort(),
      );
      expect((await book(admin)).summary.enrolled).toBe(3);
    });

    it('shows a student history, newest first, with who entered each record', async () => {
      const res = await t.app.inject({
        url: `/api/v1/offerings/${offeringId}/gradebook/${code(0)}/history`,
        headers: teacher.headers,
      });
      expect(res.statusCode, res.body).toBe(200);
      const h = res.json<{ records: { score: number; source: string; createdBy: { name: string } | null }[] }>();
      expect(h.records.map((r) => r.score)).toEqual([75, 50]);
      expect(h.records[0]).toMatchObject({ source: 'rest', createdBy: { name: 'Ingest Robot' } });
      const none = await t.app.inject({
        url: `/api/v1/offerings/${offeringId}/gradebook/${outsider.user.student_code}/history`,
        headers: teacher.headers,
      });
      expect(none.statusCode).toBe(404);
      expect(none.json().code).toBe('not_enrolled');
    });

    it('records an edit as a new ui record, keeps the old one, and audits it', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/offerings/${offeringId}/gradebook`,
        headers: teacher.headers,
        payload: { studentCode: code(1), score: 65.5 },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ studentCode: code(1), score: 65.5, passed: true, source: 'ui' });
      const h = await t.app.inject({
        url: `/api/v1/offerings/${offeringId}/gradebook/${code(1)}/history`,
        headers: teacher.headers,
      });
      expect(h.json().records.map((r: { score: number; source: string }) => [r.score, r.source])).toEqual([
        [65.5, 'ui'],
        [40, 'rest'],
      ]);
      expect(h.json().records[0].createdBy.name).toBe('Ana Teacher');
      const audit = await t.app.inject({ url: '/api/v1/audit?limit=100', headers: admin.headers });
      const entry = audit.json().items.find((a: { action: string }) => a.action === 'grade.edit');
      expect(entry).toMatchObject({
        actorId: teacher.user.id,
        targetType: 'offering',
        targetId: offeringId,
        details: { studentCode: code(1), score: 65.5, previous: 40, course: 'SO1' },
      });
    });

    it('rejects bad edits with a problem and stores nothing', async () => {
      const post = (payload: Record<string, unknown>, headers: Record<string, string> = teacher.headers) =>
        t.app.inject({ method: 'POST', url: `/api/v1/offerings/${offeringId}/gradebook`, headers, payload });
      const before = await rowOf(0);
      for (const [payload, status, problem] of [
        [{ studentCode: code(0), score: 101 }, 400, 'validation_failed'],
        [{ studentCode: code(0), score: 70.123 }, 400, 'validation_failed'],
        [{ studentCode: code(0), score: '70' }, 400, 'validation_failed'],
        [{ studentCode: code(0), score: 70, extra: 1 }, 400, 'validation_failed'],
        [{ studentCode: outsider.user.student_code, score: 70 }, 404, 'not_enrolled'],
      ] as const) {
        const res = await post(payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(status);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json().code).toBe(problem);
      }
      const noCsrf = await post({ studentCode: code(0), score: 70 }, { cookie: teacher.headers.cookie });
      expect(noCsrf.statusCode).toBe(403);
      expect(await rowOf(0)).toEqual(before);
    });

    it('imports a CSV all or nothing, naming every bad line', async () => {
      const url = `/api/v1/offerings/${offeringId}/gradebook/import`;
      const before = await book();
      const bad = [
        'student_code,score',
        `${code(0)},80`,
        `${outsider.user.student_code},70`,
        `${code(1)},abc`,
        `${code(2)},101`,
        `${code(0)},90`,
      ].join('\n');
      const res = await upload(url, teacher, bad);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().code).toBe('csv_invalid');
      const errors = res.json().errors as { line: number; message: string }[];
      expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 6]);
      expect(errors[0].message).toContain('not enrolled');
      expect(errors[3].message).toContain('line 2');
      expect(await book()).toEqual(before);

      const badHeader = await upload(url, teacher, 'name,points\nx,1');
      expect(badHeader.statusCode).toBe(400);
      expect(badHeader.json().errors).toEqual([{ line: 1, message: expect.stringContaining('carnet,nota') }]);

      // Spanish headers, semicolons and a decimal comma, as a spreadsheet in es-GT writes them;
      // a row without a score is a student not graded yet.
      const good = ['carnet;nota', `${code(0)};88,5`, `${code(1)};59`, `${code(2)};`].join('\r\n');
      const ok = await upload(url, teacher, good, 'multipart');
      expect(ok.statusCode, ok.body).toBe(200);
      expect(ok.json()).toEqual({ rows: 2, accepted: 2, duplicates: 0, skipped: 1 });
      const after = await book();
      expect(after.students.find((s) => s.studentCode === code(0))).toMatchObject({ score: 88.5, source: 'csv' });
      expect(after.students.find((s) => s.studentCode === code(1))).toMatchObject({ score: 59, passed: false });
      expect(after.students.find((s) => s.studentCode === code(2))?.score).toBeNull();

      // The same file again (a retried upload) stores nothing twice.
      const again = await upload(url, teacher, good, 'multipart');
      expect(again.json()).toEqual({ rows: 2, accepted: 0, duplicates: 2, skipped: 1 });
      const h = await t.app.inject({
        url: `/api/v1/offerings/${offeringId}/gradebook/${code(0)}/history`,
        headers: teacher.headers,
      });
      expect(h.json().records.filter((r: { source: string }) => r.source === 'csv')).toHaveLength(1);
    });

    it('exports the gradebook as CSV that imports back', async () => {
      const res = await t.app.inject({
        url: `/api/v1/offerings/${offeringId}/gradebook/export.csv`,
        headers: teacher.headers,
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/csv');
      expect(res.headers['content-disposition']).toBe('attachment; filename="SO1-2025-1-A-grades.csv"');
      const rows: Record<string, string>[] = parse(res.body, { columns: true });
      const b = await book();
      expect(rows).toHaveLength(3);
      for (const s of b.students) {
        const r = rows.find((x) => x.student_code === s.studentCode)!;
        expect(r.score).toBe(s.score === null ? '' : String(s.score));
        expect(r.status).toBe(s.passed === null ? 'not graded' : s.passed ? 'passed' : 'failed');
      }
      const back = await upload(`/api/v1/offerings/${offeringId}/gradebook/import`, teacher, res.body);
      expect(back.statusCode, back.body).toBe(200);
      expect(back.json()).toMatchObject({ rows: 2, skipped: 1 });
    });

    it('lets only the offering teacher and admins use the gradebook', async () => {
      const student = await loginAs(t.app, students[0]);
      const routes = [
        { method: 'GET', url: `/api/v1/offerings/${offeringId}/gradebook` },
        { method: 'GET', url: `/api/v1/offerings/${offeringId}/gradebook/${code(0)}/history` },
        { method: 'GET', url: `/api/v1/offerings/${offeringId}/gradebook/export.csv` },
        {
          method: 'POST',
          url: `/api/v1/offerings/${offeringId}/gradebook`,
          payload: { studentCode: code(0), score: 1 },
        },
      ] as const;
      for (const r of routes) {
        for (const who of [otherTeacher, student]) {
          const res = await t.app.inject({ ...r, headers: who.headers });
          expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
        }
        const anon = await t.app.inject({ ...r });
        expect(anon.statusCode).toBe(401);
      }
      for (const who of [otherTeacher, student]) {
        const res = await upload(
          `/api/v1/offerings/${offeringId}/gradebook/import`,
          who,
          `student_code,score\n${code(0)},1`,
        );
        expect(res.statusCode).toBe(403);
      }
      // The other teacher's own offering is theirs.
      const own = await t.app.inject({
        url: `/api/v1/offerings/${otherOfferingId}/gradebook`,
        headers: otherTeacher.headers,
      });
      expect(own.statusCode).toBe(200);
      // A token needs the matching scope: grades:write alone does not read.
      const writeOnly = await t.app.inject({
        url: `/api/v1/offerings/${offeringId}/gradebook`,
        headers: { authorization: `Bearer ${ingestToken}` },
      });
      expect(writeOnly.statusCode).toBe(403);
      const missing = await t.app.inject({
        url: `/api/v1/offerings/0000000000000000000000000a/gradebook`,
        headers: admin.headers,
      });
      expect(missing.statusCode).toBe(404);
      expect((await rowOf(0)).score).not.toBe(1);
    });

    it('shows students their own grades and history, and nobody else theirs', async () => {
      const s0 = await loginAs(t.app, students[0]);
      const res = await t.app.inject({ url: '/api/v1/me/grades', headers: s0.headers });
      expect(res.statusCode, res.body).toBe(200);
      const mine = res.json<{
        studentCode: string;
        grades: { course: string; score: number; passed: boolean; history: { score: number }[] }[];
      }>();
      expect(mine.studentCode).toBe(code(0));
      const so1 = mine.grades.find((g) => g.course === 'SO1')!;
      const effective = (await rowOf(0)).score;
      expect(so1.score).toBe(effective);
      expect(so1.history[0].score).toBe(effective);
      expect(so1.history.length).toBeGreaterThanOrEqual(3);
      expect(mine.grades.find((g) => g.course === 'BD1')).toMatchObject({ score: 99, passed: true });
      expect(mine.grades).toHaveLength(2);

      const s2 = await loginAs(t.app, students[2]);
      const none = await t.app.inject({ url: '/api/v1/me/grades', headers: s2.headers });
      expect(none.json()).toEqual({ studentCode: code(2), grades: [] });
      for (const who of [teacher, admin]) {
        expect((await t.app.inject({ url: '/api/v1/me/grades', headers: who.headers })).statusCode).toBe(403);
      }
    });
  },
  ['sqlite', 'mysql'],
);
