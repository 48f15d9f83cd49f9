import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../platform/ids.ts';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { describeEachDialect } from '../../test/databases.ts';
import { buildUser } from '../../test/factories.ts';
import { SYSTEM_ACTOR } from '../identity/actor.ts';
import { AttendanceRepository } from './attendance.repository.ts';

/**
 * The SQL of attendance on each database: observations written twice stay single, attendance
 * rows are derived (present, late, absent on close) the same way however often they are
 * recomputed, and reports count them. No models run here: observations are written directly.
 */
describeEachDialect('attendance rows', (dialect) => {
  let t: TestApp;
  let repo: AttendanceRepository;
  const students: string[] = [];
  let offeringId: string;
  let sessionId: string;
  let startsAt: number;

  beforeAll(async () => {
    t = await createTestApp({ dialect });
    repo = new AttendanceRepository(t.ctx.db.kysely, t.ctx.db.dialect);
    const a = SYSTEM_ACTOR;
    const sem = await t.ctx.academics.createSemester(a, {
      year: 2030,
      term: 1,
      startsOn: '2030-01-01',
      endsOn: '2030-06-30',
    });
    const course = await t.ctx.academics.createCourse(a, { code: 'ROWS1', name: 'Rows' });
    const offering = await t.ctx.academics.createOffering(a, {
      courseId: course.id,
      semesterId: sem.id,
      lateAfterMinutes: 10,
    });
    offeringId = offering.id;
    for (let i = 0; i < 3; i++) {
      const { user } = await buildUser(t.ctx, { role: 'student', fullName: `Student ${i}` });
      students.push(user.id);
      await t.ctx.academics.enroll(a, offeringId, user.id);
    }
    startsAt = Date.parse('2030-02-04T13:00:00Z');
    const s = await t.ctx.academics.sessions.create(a, offeringId, {
      startsAt: new Date(startsAt).toISOString(),
      endsAt: new Date(startsAt + 90 * 60_000).toISOString(),
    });
    sessionId = s.id;
  });
  afterAll(async () => t?.close());

  it('writes observations once however often a frame is retried, and derives the rows from them', async () => {
    const captureId = newId();
    await repo.insertCapture({
      id: captureId,
      session_id: sessionId,
      offering_id: offeringId,
      kind: 'video',
      source: 'upload',
      blob_id: null,
      content_type: 'video/mp4',
      size_bytes: 1,
      filename: 'x.mp4',
      captured_at: startsAt,
      status: 'running',
      duration_ms: null,
      width: null,
      height: null,
      created_by: null,
      created_at: Date.now(),
      started_at: null,
      finished_at: null,
      purged_at: null,
      error: null,
      error_code: null,
    });
    const obs = (frame: number, face: number, student: string | null, minute: number, confidence: number) => ({
      id: newId(),
      capture_id: captureId,
      session_id: sessionId,
      frame_index: frame,
      face_index: face,
      track_id: `track-${face}`.padEnd(26, '0'),
      at: startsAt + minute * 60_000,
      box: '[0,0,10,10]',
      student_id: student,
      distance: 0.4,
      confidence,
      quality: 0.8,
      identified: 1,
      hand_raised: 0,
      facing: 'camera',
      crop_blob_id: null,
    });
    const frame0 = [obs(0, 0, students[0], 2, 0.7), obs(0, 1, null, 2, 0.3)];
    const frame1 = [obs(1, 0, students[0], 12, 0.8), obs(1, 1, students[1], 12, 0.65)];
    await repo.insertObservations(frame0);
    await repo.insertObservations(frame1);
    // A retry writes the same frames again, with fresh row ids: nothing is added.
    await repo.insertObservations(frame0.map((o) => ({ ...o, id: newId() })));
    await repo.insertObservations([...frame1, ...frame0].map((o) => ({ ...o, id: newId() })));
    expect(await repo.countObservations(captureId)).toBe(4);

    for (let i = 0; i < 2; i++) await t.ctx.attendance.rows.recompute(sessionId);
    const rows = await repo.listAttendance(sessionId);
    expect(rows).toHaveLength(2);
    const by = Object.fromEntries(rows.map((r) => [r.student_id, r]));
    expect(by[students[0]]).toMatchObject({ status: 'present', source: 'camera' });
    expect(Number(by[students[0]].first_seen_at)).toBe(startsAt + 2 * 60_000);
    expect(Number(by[students[0]].last_seen_at)).toBe(startsAt + 12 * 60_000);
    expect(Number(by[students[0]].confidence)).toBeCloseTo(0.8);
    expect(by[students[1]].status).toBe('late');
  });

  it('marks the never-seen absent on close, keeps statuses set by hand, and reports the percentages', async () => {
    const teacherless = await t.ctx.attendance.review.setStatus(SYSTEM_ACTOR, sessionId, students[1], {
      status: 'excused',
    });
    expect(teacherless.items.find((i) => i.studentId === students[1])).toMatchObject({
      status: 'excused',
      source: 'manual',
    });
    const closed = await t.ctx.attendance.review.close(SYSTEM_ACTOR, sessionId);
    expect(closed.counts).toMatchObject({ present: 1, excused: 1, absent: 1, unseen: 0 });
    // Closing again, and recomputing, change nothing.
    await t.ctx.attendance.review.close(SYSTEM_ACTOR, sessionId);
    await t.ctx.attendance.rows.recompute(sessionId);
    expect(await repo.listAttendance(sessionId)).toHaveLength(3);

    const report = await t.ctx.attendance.reports.offeringReport(SYSTEM_ACTOR, offeringId);
    const pct = Object.fromEntries(report.students.map((s) => [s.studentId, s.percent]));
    expect(pct).toEqual({ [students[0]]: 100, [students[1]]: null, [students[2]]: 0 });
    expect(report.sessions[0]).toMatchObject({ present: 1, absent: 1, excused: 1, percent: 50 });
  });
});
