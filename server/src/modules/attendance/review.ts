import type { AttendanceStatus } from '../../platform/db/tables/attendance.ts';
import { AppError, badRequest, notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { toIso } from '../../platform/time.ts';
import type { ClassSessionRow } from '../academics/academics.service.ts';
import type { Actor } from '../identity/actor.ts';
import { type ActionEvent, summarizeActions } from './actions.ts';
import type { AttendanceViewRow, UnknownFaceRow } from './attendance.repository.ts';
import type { RosterEntryOut, RosterOut } from './attendance.schemas.ts';
import type { AttendanceDeps, AttendanceService } from './attendance.service.ts';

type UnknownFaceOut = {
  id: string;
  captureId: string;
  trackId: string;
  firstSeenAt: string;
  lastSeenAt: string;
  observations: number;
  box: [number, number, number, number];
  quality: number;
  hasImage: boolean;
  nearest: { studentId: string; name: string | null; distance: number } | null;
  status: 'open' | 'assigned' | 'dismissed';
  studentId: string | null;
  templateId: string | null;
};

/** The user behind an action, for columns that reference users (the system actor is none). */
const userOf = (actor: Actor): string | null => (actor.via === 'system' ? null : actor.id);

export function toUnknownFaceOut(u: UnknownFaceRow, names: Map<string, string>): UnknownFaceOut {
  return {
    id: u.id,
    captureId: u.capture_id,
    trackId: u.track_id,
    firstSeenAt: toIso(u.first_seen_at)!,
    lastSeenAt: toIso(u.last_seen_at)!,
    observations: Number(u.observations),
    box: JSON.parse(u.box) as UnknownFaceOut['box'],
    quality: Number(u.quality),
    hasImage: u.crop_blob_id !== null,
    nearest:
      u.nearest_student_id && u.nearest_distance !== null
        ? {
            studentId: u.nearest_student_id,
            name: names.get(u.nearest_student_id) ?? null,
            distance: Number(u.nearest_distance),
          }
        : null,
    status: u.status,
    studentId: u.student_id,
    templateId: u.template_id,
  };
}

/**
 * The teacher's review of a session: the roster with statuses, confirmations and corrections,
 * rejected matches, unknown faces assigned to students (optionally enrolled as templates), and
 * closing the session, which marks everyone never seen absent.
 */
export class AttendanceReview {
  constructor(
    private readonly svc: AttendanceService,
    private readonly d: AttendanceDeps,
  ) {}

  private async session(actor: Actor | null, sessionId: string, trusted: boolean): Promise<ClassSessionRow> {
    if (trusted) {
      const s = await this.d.academics.findSession(sessionId);
      if (!s) throw notFound('Session');
      return s;
    }
    return (await this.svc.assertCanReview(actor, sessionId)).session;
  }

  /**
   * Every enrolled student with their attendance so far: low-confidence matches nobody confirmed
   * first (for the teacher to check), then by name. A closed session gets its absences written
   * here if closing happened elsewhere (the session page of academics).
   */
  async roster(actor: Actor | null, sessionId: string, opts: { trusted?: boolean } = {}): Promise<RosterOut> {
    const session = await this.session(actor, sessionId, opts.trusted ?? false);
    const { repo, config } = this.d;
    const students = await this.d.academics.listEnrolledStudents(session.offering_id);
    let rows = await repo.listAttendanceViews(sessionId);
    if (session.status === 'closed' && rows.length < students.length) {
      await this.svc.rows.writeAbsences(sessionId);
      rows = await repo.listAttendanceViews(sessionId);
    }
    const byStudent = new Map<string, AttendanceViewRow>(rows.map((r) => [r.student_id, r]));
    const events = await repo.listEvents(sessionId);
    const raises = new Map<string, number>();
    for (const e of events) if (e.kind === 'hand_raised') raises.set(e.student_id, (raises.get(e.student_id) ?? 0) + 1);
    const low = config.attendance.lowConfidence;
    const items: RosterEntryOut[] = students.map((s) => {
      const r = byStudent.get(s.student_id);
      const confidence = r?.confidence === null || r?.confidence === undefined ? null : Number(r.confidence);
      const needsReview =
        !!r && r.source === 'camera' && confidence !== null && confidence < low && Number(r.confirmed) !== 1;
      return {
        studentId: s.student_id,
        fullName: s.full_name,
        studentCode: s.student_code,
        status: r ? r.status : null,
        firstSeenAt: toIso(r?.first_seen_at),
        lastSeenAt: toIso(r?.last_seen_at),
        confidence,
        needsReview,
        confirmed: !!r && Number(r.confirmed) === 1,
        hasEvidence: !!r?.evidence_blob_id,
        source: r ? r.source : null,
        note: r?.note ?? null,
        changedBy: r?.changed_by ? { id: r.changed_by, name: r.changed_by_name } : null,
        changedAt: r && r.changed_by ? toIso(r.changed_at) : null,
        handRaises: raises.get(s.student_id) ?? 0,
      };
    });
    items.sort(
      (a, b) =>
        Number(b.needsReview) - Number(a.needsReview) ||
        (a.needsReview ? (a.confidence ?? 0) - (b.confidence ?? 0) : 0) ||
        a.fullName.localeCompare(b.fullName),
    );
    const count = (st: AttendanceStatus) => items.filter((i) => i.status === st).length;
    const unknown = await repo.listUnknownFaces(sessionId, 'open');
    return {
      sessionId,
      offeringId: session.offering_id,
      sessionStatus: session.status,
      startsAt: toIso(session.starts_at)!,
      endsAt: toIso(session.ends_at)!,
      lateAfterMinutes: Number(session.late_after_minutes),
      counts: {
        enrolled: students.length,
        present: count('present'),
        late: count('late'),
        absent: count('absent'),
        excused: count('excused'),
        unseen: items.filter((i) => i.status === null).length,
        needsReview: items.filter((i) => i.needsReview).length,
        unknownFaces: unknown.length,
      },
      items,
    };
  }

  private async enrolledStudent(session: ClassSessionRow, studentId: string): Promise<void> {
    if (!(await this.d.academics.isEnrolled(session.offering_id, studentId))) {
      throw notFound('Enrolled student');
    }
  }

  /** Sets a status by hand (excused included), recording who and when; the camera keeps it. */
  async setStatus(
    actor: Actor,
    sessionId: string,
    studentId: string,
    input: { status: AttendanceStatus; note?: string | null | undefined },
  ): Promise<RosterOut> {
    const { session } = await this.svc.assertCanEdit(actor, sessionId);
    await this.enrolledStudent(session, studentId);
    const { repo } = this.d;
    const t = Date.now();
    const existing = await repo.findAttendance(sessionId, studentId);
    const note = input.note === undefined ? (existing?.note ?? null) : input.note || null;
    if (existing) {
      await repo.updateAttendance(existing.id, {
        status: input.status,
        source: 'manual',
        note,
        confirmed: 1,
        changed_by: userOf(actor),
        changed_at: t,
      });
    } else {
      await repo.insertAttendance({
        id: newId(t),
        session_id: sessionId,
        offering_id: session.offering_id,
        student_id: studentId,
        status: input.status,
        first_seen_at: null,
        last_seen_at: null,
        confidence: null,
        evidence_blob_id: null,
        source: 'manual',
        confirmed: 1,
        note,
        changed_by: userOf(actor),
        changed_at: t,
        created_at: t,
      });
    }
    await this.d.identity.audit(actor, 'attendance.set', 'session', sessionId, {
      studentId,
      from: existing?.status ?? null,
      to: input.status,
    });
    await this.svc.publishRoster(sessionId);
    return this.roster(actor, sessionId, { trusted: true });
  }

  /** Confirms a camera match the teacher checked (it leaves the review list). */
  async confirm(actor: Actor, sessionId: string, studentId: string): Promise<RosterOut> {
    await this.svc.assertCanEdit(actor, sessionId);
    const row = await this.d.repo.findAttendance(sessionId, studentId);
    if (!row) throw notFound('Attendance');
    await this.d.repo.updateAttendance(row.id, { confirmed: 1 });
    await this.d.repo.setStudentReview(sessionId, studentId, 'confirmed');
    await this.d.identity.audit(actor, 'attendance.confirm', 'session', sessionId, { studentId });
    await this.svc.publishRoster(sessionId);
    return this.roster(actor, sessionId, { trusted: true });
  }

  /**
   * A wrong match: the student's faces in this session stop counting for them and come back as
   * unknown faces (to be assigned to whoever it really was). Rows the camera wrote go away (or
   * become absent in a closed session); a status set by hand stays.
   */
  async reject(actor: Actor, sessionId: string, studentId: string): Promise<RosterOut> {
    await this.svc.assertCanEdit(actor, sessionId);
    const { repo } = this.d;
    const tracks = await repo.listTracksOfStudent(sessionId, studentId);
    if (!tracks.length) throw notFound('Camera match');
    for (const { track_id } of tracks) {
      const obs = (await repo.listObservationsOfTrack(track_id)).filter((o) => o.review !== 'rejected');
      if (!obs.length) continue;
      await repo.setTrackIdentity(track_id, { student_id: studentId, review: 'rejected' });
      const best = obs.reduce((a, b) => (Number(b.quality) > Number(a.quality) ? b : a));
      const cropped = obs.find((o) => o.crop_blob_id);
      const existing = await repo.findUnknownFaceByTrack(track_id);
      if (existing) {
        await repo.resolveUnknownFace(existing.id, {
          status: 'open',
          student_id: null,
          resolved_by: null,
          resolved_at: null,
          nearest_student_id: studentId,
        });
      } else {
        await repo.upsertUnknownFace({
          id: newId(),
          session_id: sessionId,
          capture_id: obs[0].capture_id,
          track_id,
          first_seen_at: Math.min(...obs.map((o) => Number(o.at))),
          last_seen_at: Math.max(...obs.map((o) => Number(o.at))),
          observations: obs.length,
          box: best.box,
          quality: Number(best.quality),
          crop_blob_id: cropped?.crop_blob_id ?? null,
          nearest_student_id: studentId,
          nearest_distance: best.distance === null ? null : Number(best.distance),
          student_id: null,
          template_id: null,
          resolved_by: null,
          resolved_at: null,
        });
      }
    }
    await repo.deleteStudentEvents(sessionId, studentId);
    await this.svc.rows.recompute(sessionId);
    await this.d.identity.audit(actor, 'attendance.reject', 'session', sessionId, { studentId, tracks: tracks.length });
    await this.svc.publishRoster(sessionId);
    return this.roster(actor, sessionId, { trusted: true });
  }

  /** The evidence crop of a student's attendance. */
  async evidence(actor: Actor | null, sessionId: string, studentId: string): Promise<string> {
    await this.svc.assertCanReview(actor, sessionId);
    const row = await this.d.repo.findAttendance(sessionId, studentId);
    if (!row?.evidence_blob_id) throw notFound('Evidence');
    return row.evidence_blob_id;
  }

  // ---- unknown faces -----------------------------------------------------------------------

  async listUnknown(actor: Actor | null, sessionId: string, status: UnknownFaceRow['status'] | undefined) {
    const { session } = await this.svc.assertCanReview(actor, sessionId);
    const names = await this.svc.names(session.offering_id);
    return (await this.d.repo.listUnknownFaces(sessionId, status)).map((u) => toUnknownFaceOut(u, names));
  }

  private async unknownFace(sessionId: string, faceId: string): Promise<UnknownFaceRow> {
    const u = await this.d.repo.findUnknownFace(faceId);
    if (!u || u.session_id !== sessionId) throw notFound('Unknown face');
    return u;
  }

  async unknownImage(actor: Actor | null, sessionId: string, faceId: string): Promise<string> {
    await this.svc.assertCanReview(actor, sessionId);
    const u = await this.unknownFace(sessionId, faceId);
    if (!u.crop_blob_id) throw notFound('Face image');
    return u.crop_blob_id;
  }

  /**
   * Says who an unknown face is. Its faces count for the student from now on; with `enroll`
   * (which the page asks the teacher to confirm) the crop also becomes a face template of the
   * student, so the next capture recognizes them by itself.
   */
  async assign(actor: Actor, sessionId: string, faceId: string, input: { studentId: string; enroll: boolean }) {
    const { session } = await this.svc.assertCanEdit(actor, sessionId);
    await this.enrolledStudent(session, input.studentId);
    const { repo } = this.d;
    const u = await this.unknownFace(sessionId, faceId);
    if (u.status === 'assigned' && u.student_id === input.studentId) {
      throw new AppError('already_assigned', 409, 'This face is already assigned to that student');
    }
    await repo.setTrackIdentity(u.track_id, { student_id: input.studentId, review: 'assigned', confidence: 1 });
    let templateId: string | null = null;
    let enrollError: { code: string; message: string } | null = null;
    if (input.enroll) {
      if (!u.crop_blob_id) {
        enrollError = { code: 'no_face_image', message: 'There is no image of this face to enroll' };
      } else {
        try {
          const crop = await this.d.blobs.getBuffer(u.crop_blob_id);
          const { template } = await this.d.faces.enroll(actor, input.studentId, crop, 'upload');
          templateId = template.id;
        } catch (err) {
          if (!(err instanceof AppError) || err.status >= 500) throw err;
          enrollError = { code: err.code, message: err.message };
        }
      }
    }
    await repo.resolveUnknownFace(u.id, {
      status: 'assigned',
      student_id: input.studentId,
      template_id: templateId,
      resolved_by: userOf(actor),
      resolved_at: Date.now(),
    });
    await this.svc.rows.recompute(sessionId);
    await this.d.identity.audit(actor, 'attendance.assign_face', 'session', sessionId, {
      faceId,
      studentId: input.studentId,
      templateId,
    });
    await this.svc.publishRoster(sessionId);
    const names = await this.svc.names(session.offering_id);
    return {
      face: toUnknownFaceOut((await repo.findUnknownFace(u.id))!, names),
      enrolled: templateId !== null,
      enrollError,
    };
  }

  /** Not a student (a visitor, a poster on the wall): the face leaves the review list. */
  async dismiss(actor: Actor, sessionId: string, faceId: string) {
    const { session } = await this.svc.assertCanEdit(actor, sessionId);
    const u = await this.unknownFace(sessionId, faceId);
    if (u.status === 'assigned')
      throw badRequest('already_assigned', 'This face was assigned to a student; reject that match instead');
    await this.d.repo.resolveUnknownFace(u.id, {
      status: 'dismissed',
      resolved_by: userOf(actor),
      resolved_at: Date.now(),
    });
    const names = await this.svc.names(session.offering_id);
    return toUnknownFaceOut((await this.d.repo.findUnknownFace(u.id))!, names);
  }

  // ---- closing and the timeline ------------------------------------------------------------

  /** Closes the session: every enrolled student never seen is marked absent. */
  async close(actor: Actor, sessionId: string): Promise<RosterOut> {
    const { session } = await this.svc.assertCanEdit(actor, sessionId);
    if (session.status !== 'closed') await this.d.academics.sessions.update(actor, sessionId, { status: 'closed' });
    await this.svc.rows.recompute(sessionId);
    await this.svc.rows.writeAbsences(sessionId);
    await this.svc.publishRoster(sessionId);
    return this.roster(actor, sessionId, { trusted: true });
  }

  async actions(actor: Actor | null, sessionId: string, studentId?: string) {
    const { session } = await this.svc.assertCanReview(actor, sessionId);
    const names = await this.svc.names(session.offering_id);
    const rows = await this.d.repo.listEvents(sessionId, studentId);
    const events: (ActionEvent & { id: string })[] = rows.map((r) => ({
      id: r.id,
      studentId: r.student_id,
      kind: r.kind,
      at: Number(r.at),
      endsAt: r.ends_at === null ? null : Number(r.ends_at),
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : {},
    }));
    const byStudent = new Map<string, ActionEvent[]>();
    for (const e of events) byStudent.set(e.studentId, [...(byStudent.get(e.studentId) ?? []), e]);
    const summary: Record<string, Record<string, { count: number; at: string[] }>> = {};
    for (const [sid, list] of byStudent) {
      const s = summarizeActions(list);
      summary[sid] = Object.fromEntries(
        Object.entries(s).map(([k, v]) => [k, { count: v.count, at: v.at.map((t) => toIso(t)!) }]),
      );
    }
    return {
      items: events.map((e) => ({
        id: e.id,
        studentId: e.studentId,
        name: names.get(e.studentId) ?? null,
        kind: e.kind,
        at: toIso(e.at)!,
        endsAt: toIso(e.endsAt),
        details: e.details,
      })),
      summary,
    };
  }
}
