import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db, Executor } from '../../platform/db/database.ts';
import type {
  ActionEventsTable,
  AttendanceTable,
  CaptureFramesTable,
  CapturesTable,
  CaptureStatus,
  ObservationsTable,
  UnknownFacesTable,
  UnknownFaceStatus,
} from '../../platform/db/tables/attendance.ts';

export type CaptureRow = Selectable<CapturesTable>;
export type CaptureFrameRow = Selectable<CaptureFramesTable>;
export type ObservationRow = Selectable<ObservationsTable>;
export type UnknownFaceRow = Selectable<UnknownFacesTable>;
export type AttendanceRow = Selectable<AttendanceTable>;
export type ActionEventRow = Selectable<ActionEventsTable>;

export interface SeenSummaryRow {
  student_id: string;
  first_seen_at: number;
  last_seen_at: number;
  confidence: number;
  observations: number;
}

export interface AttendanceViewRow extends AttendanceRow {
  full_name: string;
  student_code: string | null;
  changed_by_name: string | null;
}

export interface SessionAttendanceRow {
  session_id: string;
  starts_at: number;
  status: string;
  student_id: string;
}

export interface OfferingSessionRow {
  id: string;
  starts_at: number;
  ends_at: number;
  status: string;
}

export interface StudentHistoryRow extends AttendanceRow {
  starts_at: number;
  ends_at: number;
  course_code: string;
  course_name: string;
  semester_code: string;
  section: string;
}

/** Rows of observations are written in chunks small enough for every dialect's parameter limit. */
const CHUNK = 200;

function* chunks<T>(items: readonly T[], size = CHUNK): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

const n = (v: unknown): number => Number(v ?? 0);

/** Every SQL query of attendance. */
export class AttendanceRepository {
  constructor(
    private readonly db: Executor,
    private readonly dialect: Db['dialect'],
  ) {}

  withExecutor(db: Executor): AttendanceRepository {
    return new AttendanceRepository(db, this.dialect);
  }

  // ---- captures ----------------------------------------------------------------------------

  async insertCapture(row: Insertable<CapturesTable>): Promise<void> {
    await this.db.insertInto('captures').values(row).execute();
  }

  findCapture(id: string): Promise<CaptureRow | undefined> {
    return this.db.selectFrom('captures').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listCaptures(
    sessionId: string,
    f: { limit: number; offset: number; kind?: string | undefined },
  ): Promise<{ items: CaptureRow[]; total: number }> {
    let q = this.db.selectFrom('captures').where('session_id', '=', sessionId);
    if (f.kind) q = q.where('kind', '=', f.kind as CaptureRow['kind']);
    const [items, total] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute(),
      q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
    ]);
    return { items, total: n(total?.n) };
  }

  async updateCapture(id: string, patch: Updateable<CapturesTable>): Promise<void> {
    await this.db.updateTable('captures').set(patch).where('id', '=', id).execute();
  }

  /** Claims a capture for a run: status running and one more attempt, unless it is already finished. */
  async startCapture(id: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('captures')
      .set((eb) => ({
        status: 'running',
        started_at: at,
        attempts: eb('attempts', '+', 1),
        error: null,
        error_code: null,
      }))
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  listUnfinishedCaptures(limit: number): Promise<CaptureRow[]> {
    return this.db
      .selectFrom('captures')
      .selectAll()
      .where('status', 'in', ['queued', 'running'] as CaptureStatus[])
      .where('kind', '<>', 'frame')
      .orderBy('created_at')
      .limit(limit)
      .execute();
  }

  /** Captures whose raw bytes are older than the cut-off and not yet deleted. */
  listExpiredCaptures(before: number, limit: number): Promise<CaptureRow[]> {
    return this.db
      .selectFrom('captures')
      .selectAll()
      .where('created_at', '<', before)
      .where('purged_at', 'is', null)
      .where('status', 'in', ['done', 'failed'] as CaptureStatus[])
      .orderBy('created_at')
      .limit(limit)
      .execute();
  }

  // ---- frames ------------------------------------------------------------------------------

  /** Inserts a frame; a frame already written by an earlier run of the job is left as it is. */
  async insertFrameIfAbsent(row: Insertable<CaptureFramesTable>): Promise<boolean> {
    const existing = await this.findFrame(row.capture_id, row.frame_index);
    if (existing) return false;
    await this.db.insertInto('capture_frames').values(row).execute();
    return true;
  }

  findFrame(captureId: string, index: number): Promise<CaptureFrameRow | undefined> {
    return this.db
      .selectFrom('capture_frames')
      .selectAll()
      .where('capture_id', '=', captureId)
      .where('frame_index', '=', index)
      .executeTakeFirst();
  }

  listFrames(captureId: string, f: { limit: number; offset: number }): Promise<CaptureFrameRow[]> {
    return this.db
      .selectFrom('capture_frames')
      .selectAll()
      .where('capture_id', '=', captureId)
      .orderBy('frame_index')
      .limit(f.limit)
      .offset(f.offset)
      .execute();
  }

  async countFrames(captureId: string): Promise<number> {
    const r = await this.db
      .selectFrom('capture_frames')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('capture_id', '=', captureId)
      .executeTakeFirst();
    return n(r?.n);
  }

  listFrameBlobIds(captureId: string): Promise<{ id: string; blob_id: string | null }[]> {
    return this.db
      .selectFrom('capture_frames')
      .select(['id', 'blob_id'])
      .where('capture_id', '=', captureId)
      .where('blob_id', 'is not', null)
      .execute();
  }

  async clearFrameBlobs(captureId: string): Promise<void> {
    await this.db.updateTable('capture_frames').set({ blob_id: null }).where('capture_id', '=', captureId).execute();
  }

  // ---- observations ------------------------------------------------------------------------

  /** Writes the observations of one frame; a retried frame replaces nothing already there. */
  async insertObservations(rows: readonly Insertable<ObservationsTable>[]): Promise<void> {
    for (const part of chunks(rows)) {
      await this.db
        .insertInto('observations')
        .values(part)
        .$call((q) =>
          this.dialect === 'mysql'
            ? q.ignore()
            : q.onConflict((oc) => oc.columns(['capture_id', 'frame_index', 'face_index']).doNothing()),
        )
        .execute();
    }
  }

  async countObservations(captureId: string): Promise<number> {
    const r = await this.db
      .selectFrom('observations')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('capture_id', '=', captureId)
      .executeTakeFirst();
    return n(r?.n);
  }

  listObservationsOfFrame(captureId: string, frameIndex: number): Promise<ObservationRow[]> {
    return this.db
      .selectFrom('observations')
      .selectAll()
      .where('capture_id', '=', captureId)
      .where('frame_index', '=', frameIndex)
      .orderBy('face_index')
      .execute();
  }

  listObservationsOfFrames(captureId: string, from: number, to: number): Promise<ObservationRow[]> {
    return this.db
      .selectFrom('observations')
      .selectAll()
      .where('capture_id', '=', captureId)
      .where('frame_index', '>=', from)
      .where('frame_index', '<=', to)
      .orderBy('frame_index')
      .orderBy('face_index')
      .execute();
  }

  listObservationsOfCapture(captureId: string): Promise<ObservationRow[]> {
    return this.db
      .selectFrom('observations')
      .selectAll()
      .where('capture_id', '=', captureId)
      .orderBy('frame_index')
      .orderBy('face_index')
      .execute();
  }

  listObservationsOfTrack(trackId: string): Promise<ObservationRow[]> {
    return this.db
      .selectFrom('observations')
      .selectAll()
      .where('track_id', '=', trackId)
      .orderBy('at')
      .orderBy('frame_index')
      .execute();
  }

  listObservationsOfStudent(sessionId: string, studentId: string): Promise<ObservationRow[]> {
    return this.db
      .selectFrom('observations')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('student_id', '=', studentId)
      .orderBy('at')
      .execute();
  }

  /** Seen students of a session: first and last time, best confidence, counting only accepted faces. */
  async summarizeSeen(sessionId: string): Promise<SeenSummaryRow[]> {
    const rows = await this.db
      .selectFrom('observations')
      .select((eb) => [
        'student_id',
        eb.fn.min('at').as('first_seen_at'),
        eb.fn.max('at').as('last_seen_at'),
        eb.fn.max('confidence').as('confidence'),
        eb.fn.countAll().as('observations'),
      ])
      .where('session_id', '=', sessionId)
      .where('student_id', 'is not', null)
      .where('review', '<>', 'rejected')
      .groupBy('student_id')
      .execute();
    return rows.map((r) => ({
      student_id: r.student_id!,
      first_seen_at: n(r.first_seen_at),
      last_seen_at: n(r.last_seen_at),
      confidence: n(r.confidence),
      observations: n(r.observations),
    }));
  }

  /** The best accepted face of a student in a session that has an evidence crop. */
  bestCroppedObservation(sessionId: string, studentId: string): Promise<ObservationRow | undefined> {
    return this.db
      .selectFrom('observations')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('student_id', '=', studentId)
      .where('review', '<>', 'rejected')
      .where('crop_blob_id', 'is not', null)
      .orderBy('confidence', 'desc')
      .orderBy('quality', 'desc')
      .executeTakeFirst();
  }

  async setObservationCrop(id: string, blobId: string): Promise<void> {
    await this.db.updateTable('observations').set({ crop_blob_id: blobId }).where('id', '=', id).execute();
  }

  async setTrackIdentity(
    trackId: string,
    patch: { student_id: string | null; review: ObservationRow['review']; confidence?: number },
  ): Promise<number> {
    const r = await this.db.updateTable('observations').set(patch).where('track_id', '=', trackId).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Gives a track's automatic faces its identity (never overriding the teacher's review). */
  async propagateTrackIdentity(trackId: string, studentId: string): Promise<number> {
    const r = await this.db
      .updateTable('observations')
      .set({ student_id: studentId })
      .where('track_id', '=', trackId)
      .where('review', '=', 'auto')
      .where((eb) => eb.or([eb('student_id', 'is', null), eb('student_id', '<>', studentId)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async setStudentReview(
    sessionId: string,
    studentId: string,
    review: ObservationRow['review'],
    onlyAuto = true,
  ): Promise<number> {
    let q = this.db
      .updateTable('observations')
      .set({ review })
      .where('session_id', '=', sessionId)
      .where('student_id', '=', studentId);
    if (onlyAuto) q = q.where('review', '=', 'auto');
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Tracks of a student in a session: the faces a rejection turns back into unknowns. */
  async listTracksOfStudent(sessionId: string, studentId: string): Promise<{ track_id: string }[]> {
    return this.db
      .selectFrom('observations')
      .select('track_id')
      .distinct()
      .where('session_id', '=', sessionId)
      .where('student_id', '=', studentId)
      .execute();
  }

  listCropBlobIdsOfCapture(captureId: string): Promise<{ crop_blob_id: string | null }[]> {
    return this.db
      .selectFrom('observations')
      .select('crop_blob_id')
      .where('capture_id', '=', captureId)
      .where('crop_blob_id', 'is not', null)
      .execute();
  }

  // ---- unknown faces -----------------------------------------------------------------------

  async upsertUnknownFace(row: Insertable<UnknownFacesTable>): Promise<void> {
    const existing = await this.db
      .selectFrom('unknown_faces')
      .select('id')
      .where('track_id', '=', row.track_id)
      .executeTakeFirst();
    if (existing) {
      const { id: _id, status: _s, capture_id: _c, first_seen_at: _f, ...rest } = row;
      await this.db.updateTable('unknown_faces').set(rest).where('id', '=', existing.id).execute();
      return;
    }
    await this.db.insertInto('unknown_faces').values(row).execute();
  }

  findUnknownFace(id: string): Promise<UnknownFaceRow | undefined> {
    return this.db.selectFrom('unknown_faces').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findUnknownFaceByTrack(trackId: string): Promise<UnknownFaceRow | undefined> {
    return this.db.selectFrom('unknown_faces').selectAll().where('track_id', '=', trackId).executeTakeFirst();
  }

  listUnknownFaces(sessionId: string, status: UnknownFaceStatus | undefined): Promise<UnknownFaceRow[]> {
    let q = this.db.selectFrom('unknown_faces').selectAll().where('session_id', '=', sessionId);
    if (status) q = q.where('status', '=', status);
    return q.orderBy('first_seen_at').orderBy('id').execute();
  }

  async resolveUnknownFace(id: string, patch: Updateable<UnknownFacesTable>): Promise<void> {
    await this.db.updateTable('unknown_faces').set(patch).where('id', '=', id).execute();
  }

  // ---- attendance --------------------------------------------------------------------------

  listAttendance(sessionId: string): Promise<AttendanceRow[]> {
    return this.db.selectFrom('attendance').selectAll().where('session_id', '=', sessionId).execute();
  }

  findAttendance(sessionId: string, studentId: string): Promise<AttendanceRow | undefined> {
    return this.db
      .selectFrom('attendance')
      .selectAll()
      .where('session_id', '=', sessionId)
      .where('student_id', '=', studentId)
      .executeTakeFirst();
  }

  async insertAttendance(row: Insertable<AttendanceTable>): Promise<void> {
    await this.db.insertInto('attendance').values(row).execute();
  }

  async insertAttendanceMany(rows: readonly Insertable<AttendanceTable>[]): Promise<void> {
    for (const part of chunks(rows)) await this.db.insertInto('attendance').values(part).execute();
  }

  async updateAttendance(id: string, patch: Updateable<AttendanceTable>): Promise<void> {
    await this.db.updateTable('attendance').set(patch).where('id', '=', id).execute();
  }

  async deleteAttendance(id: string): Promise<void> {
    await this.db.deleteFrom('attendance').where('id', '=', id).execute();
  }

  listAttendanceViews(sessionId: string): Promise<AttendanceViewRow[]> {
    return this.db
      .selectFrom('attendance as a')
      .innerJoin('users as u', 'u.id', 'a.student_id')
      .leftJoin('users as c', 'c.id', 'a.changed_by')
      .selectAll('a')
      .select(['u.full_name', 'u.student_code', 'c.full_name as changed_by_name'])
      .where('a.session_id', '=', sessionId)
      .orderBy('u.full_name')
      .execute();
  }

  /** Every attendance row of an offering's sessions that are not merely scheduled. */
  listOfferingAttendance(offeringId: string): Promise<SessionAttendanceRow[]> {
    return this.db
      .selectFrom('attendance as a')
      .innerJoin('class_sessions as s', 's.id', 'a.session_id')
      .select(['a.session_id', 's.starts_at', 'a.status', 'a.student_id'])
      .where('a.offering_id', '=', offeringId)
      .orderBy('s.starts_at')
      .execute();
  }

  listOfferingSessions(offeringId: string, until: number): Promise<OfferingSessionRow[]> {
    return this.db
      .selectFrom('class_sessions')
      .select(['id', 'starts_at', 'ends_at', 'status'])
      .where('offering_id', '=', offeringId)
      .where((eb) => eb.or([eb('status', '<>', 'scheduled'), eb('starts_at', '<=', until)]))
      .orderBy('starts_at')
      .execute();
  }

  listStudentHistory(
    studentId: string,
    f: { offeringId?: string | undefined; limit: number; offset: number },
  ): Promise<StudentHistoryRow[]> {
    let q = this.db
      .selectFrom('attendance as a')
      .innerJoin('class_sessions as s', 's.id', 'a.session_id')
      .innerJoin('offerings as o', 'o.id', 'a.offering_id')
      .innerJoin('courses as c', 'c.id', 'o.course_id')
      .innerJoin('semesters as m', 'm.id', 'o.semester_id')
      .selectAll('a')
      .select([
        's.starts_at',
        's.ends_at',
        'c.code as course_code',
        'c.name as course_name',
        'm.code as semester_code',
        'o.section',
      ])
      .where('a.student_id', '=', studentId);
    if (f.offeringId) q = q.where('a.offering_id', '=', f.offeringId);
    return q.orderBy('s.starts_at', 'desc').limit(f.limit).offset(f.offset).execute();
  }

  // ---- action events -----------------------------------------------------------------------

  async replaceCaptureEvents(captureId: string, rows: readonly Insertable<ActionEventsTable>[]): Promise<void> {
    await this.db.deleteFrom('action_events').where('capture_id', '=', captureId).execute();
    for (const part of chunks(rows)) await this.db.insertInto('action_events').values(part).execute();
  }

  async replaceSessionEvents(
    sessionId: string,
    kind: ActionEventsTable['kind'],
    rows: readonly Insertable<ActionEventsTable>[],
  ): Promise<void> {
    await this.db
      .deleteFrom('action_events')
      .where('session_id', '=', sessionId)
      .where('kind', '=', kind)
      .where('capture_id', 'is', null)
      .execute();
    for (const part of chunks(rows)) await this.db.insertInto('action_events').values(part).execute();
  }

  async deleteStudentEvents(sessionId: string, studentId: string): Promise<void> {
    await this.db
      .deleteFrom('action_events')
      .where('session_id', '=', sessionId)
      .where('student_id', '=', studentId)
      .execute();
  }

  listEvents(sessionId: string, studentId?: string): Promise<ActionEventRow[]> {
    let q = this.db.selectFrom('action_events').selectAll().where('session_id', '=', sessionId);
    if (studentId) q = q.where('student_id', '=', studentId);
    return q.orderBy('at').orderBy('id').execute();
  }

  /** Observations of a session, in time order, with what the pose said: the raw timeline. */
  listSessionTimeline(
    sessionId: string,
  ): Promise<Pick<ObservationRow, 'student_id' | 'at' | 'hand_raised' | 'facing' | 'capture_id' | 'frame_index'>[]> {
    return this.db
      .selectFrom('observations')
      .select(['student_id', 'at', 'hand_raised', 'facing', 'capture_id', 'frame_index'])
      .where('session_id', '=', sessionId)
      .where('student_id', 'is not', null)
      .where('review', '<>', 'rejected')
      .orderBy('at')
      .execute();
  }

  /** Distinct frame times of a session: when the camera was looking at all. */
  async listSessionFrameTimes(sessionId: string): Promise<number[]> {
    const rows = await this.db
      .selectFrom('capture_frames as f')
      .innerJoin('captures as c', 'c.id', 'f.capture_id')
      .select('f.at')
      .where('c.session_id', '=', sessionId)
      .orderBy('f.at')
      .execute();
    return rows.map((r) => n(r.at));
  }

  /** Deletes the observations, frames and events of a capture (reprocessing from scratch). */
  async clearCaptureResults(captureId: string): Promise<void> {
    await this.db.deleteFrom('observations').where('capture_id', '=', captureId).execute();
    await this.db.deleteFrom('capture_frames').where('capture_id', '=', captureId).execute();
    await this.db.deleteFrom('action_events').where('capture_id', '=', captureId).execute();
  }
}
