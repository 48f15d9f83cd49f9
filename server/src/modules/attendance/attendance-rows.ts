import type { Insertable } from 'kysely';
import { type Db, isUniqueViolation } from '../../platform/db/database.ts';
import type { AttendanceStatus, AttendanceTable } from '../../platform/db/tables/attendance.ts';
import { newId } from '../../platform/ids.ts';
import type { AcademicsService, ClassSessionRow } from '../academics/academics.service.ts';
import { deriveActions } from './actions.ts';
import type { AttendanceRepository } from './attendance.repository.ts';

export interface RowsOptions {
  gapMs: number;
  facingAwayMs: number;
}

/** present when first seen by the start plus the late-after minutes, late after that. */
export function statusFor(session: ClassSessionRow, firstSeenAt: number): AttendanceStatus {
  const lateAt = Number(session.starts_at) + Number(session.late_after_minutes) * 60_000;
  return firstSeenAt <= lateAt ? 'present' : 'late';
}

/**
 * Attendance rows derived from observations. Every recomputation reads all accepted faces of the
 * session and brings the rows in line, so it can run after any capture, retry or review edit and
 * always lands on the same rows. What a teacher set by hand (source manual) keeps its status; the
 * camera only updates when the student was seen.
 */
export class AttendanceRows {
  constructor(
    private readonly repo: AttendanceRepository,
    private readonly db: Db,
    private readonly academics: AcademicsService,
    private readonly opts: RowsOptions,
  ) {}

  async recompute(sessionId: string): Promise<void> {
    try {
      await this.recomputeOnce(sessionId);
    } catch (err) {
      // Two captures of the session finished at once and both inserted the same student: the
      // loser's transaction rolled back and a second pass sees the winner's row.
      if (!isUniqueViolation(err)) throw err;
      await this.recomputeOnce(sessionId);
    }
    await this.recomputeActions(sessionId);
  }

  private async recomputeOnce(sessionId: string): Promise<void> {
    const session = await this.academics.findSession(sessionId);
    if (!session) return;
    const enrolled = new Set((await this.academics.listEnrolledStudents(session.offering_id)).map((s) => s.student_id));
    await this.db.kysely.transaction().execute(async (trx) => {
      const repo = this.repo.withExecutor(trx);
      const seen = new Map((await repo.summarizeSeen(sessionId)).map((s) => [s.student_id, s]));
      const existing = new Map((await repo.listAttendance(sessionId)).map((r) => [r.student_id, r]));
      const t = Date.now();
      const inserts: Insertable<AttendanceTable>[] = [];
      for (const [studentId, s] of seen) {
        if (!enrolled.has(studentId)) continue;
        const evidence = await repo.bestCroppedObservation(sessionId, studentId);
        const camera = {
          first_seen_at: s.first_seen_at,
          last_seen_at: s.last_seen_at,
          confidence: Math.round(s.confidence * 1000) / 1000,
          evidence_blob_id: evidence?.crop_blob_id ?? null,
        };
        const row = existing.get(studentId);
        if (!row) {
          inserts.push({
            id: newId(t),
            session_id: sessionId,
            offering_id: session.offering_id,
            student_id: studentId,
            status: statusFor(session, s.first_seen_at),
            source: 'camera',
            note: null,
            changed_by: null,
            changed_at: t,
            created_at: t,
            ...camera,
          });
          continue;
        }
        const cameraStatus = statusFor(session, s.first_seen_at);
        const keepStatus = row.source !== 'camera';
        const same =
          Number(row.first_seen_at) === camera.first_seen_at &&
          Number(row.last_seen_at) === camera.last_seen_at &&
          Number(row.confidence) === camera.confidence &&
          row.evidence_blob_id === camera.evidence_blob_id &&
          (keepStatus || row.status === cameraStatus);
        if (same) continue;
        await repo.updateAttendance(row.id, {
          ...camera,
          ...(!keepStatus && row.status !== cameraStatus && { status: cameraStatus, changed_at: t, changed_by: null }),
        });
      }
      await repo.insertAttendanceMany(inserts);
      // Rows the camera made for a student no longer seen (their faces were rejected in review).
      for (const [studentId, row] of existing) {
        if (seen.has(studentId) || row.source !== 'camera') continue;
        if (session.status === 'closed') {
          await repo.updateAttendance(row.id, {
            status: 'absent',
            first_seen_at: null,
            last_seen_at: null,
            confidence: null,
            evidence_blob_id: null,
            changed_at: t,
          });
        } else {
          await repo.deleteAttendance(row.id);
        }
      }
      if (session.status === 'closed')
        await this.absences(
          repo,
          session,
          enrolled,
          new Set([...existing.keys(), ...inserts.map((i) => i.student_id)]),
          t,
        );
    });
  }

  /** Absent rows for the enrolled students the session has no row for (written on close). */
  async writeAbsences(sessionId: string): Promise<number> {
    const session = await this.academics.findSession(sessionId);
    if (!session) return 0;
    const enrolled = new Set((await this.academics.listEnrolledStudents(session.offering_id)).map((s) => s.student_id));
    const write = () =>
      this.db.kysely.transaction().execute(async (trx) => {
        const repo = this.repo.withExecutor(trx);
        const have = new Set((await repo.listAttendance(sessionId)).map((r) => r.student_id));
        return this.absences(repo, session, enrolled, have, Date.now());
      });
    try {
      return await write();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return write();
    }
  }

  private async absences(
    repo: AttendanceRepository,
    session: ClassSessionRow,
    enrolled: Set<string>,
    have: Set<string>,
    t: number,
  ): Promise<number> {
    const rows = [...enrolled]
      .filter((s) => !have.has(s))
      .map((studentId) => ({
        id: newId(t),
        session_id: session.id,
        offering_id: session.offering_id,
        student_id: studentId,
        status: 'absent' as const,
        first_seen_at: null,
        last_seen_at: null,
        confidence: null,
        evidence_blob_id: null,
        source: 'camera' as const,
        note: null,
        changed_by: null,
        changed_at: t,
        created_at: t,
      }));
    await repo.insertAttendanceMany(rows);
    return rows.length;
  }

  /** Rebuilds the session's action events from its frames and accepted faces. */
  async recomputeActions(sessionId: string): Promise<void> {
    const frames = await this.repo.listSessionFrameTimes(sessionId);
    const sightings = (await this.repo.listSessionTimeline(sessionId)).map((o) => ({
      studentId: o.student_id!,
      at: Number(o.at),
      handRaised: Number(o.hand_raised) === 1,
      facing: o.facing,
    }));
    const events = deriveActions(frames, sightings, this.opts);
    const t = Date.now();
    await this.db.kysely.transaction().execute(async (trx) => {
      const repo = this.repo.withExecutor(trx);
      for (const kind of ['hand_raised', 'facing_away', 'not_seen'] as const) {
        await repo.replaceSessionEvents(
          sessionId,
          kind,
          events
            .filter((e) => e.kind === kind)
            .map((e) => ({
              id: newId(t),
              session_id: sessionId,
              student_id: e.studentId,
              capture_id: null,
              kind,
              at: e.at,
              ends_at: e.endsAt,
              details: JSON.stringify(e.details),
              created_at: t,
            })),
        );
      }
    });
  }
}
