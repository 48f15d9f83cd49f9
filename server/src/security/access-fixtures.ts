import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import type { AppContext } from '../context.ts';
import type { App } from '../http/app.ts';
import { SYSTEM_ACTOR, type Role } from '../modules/identity/actor.ts';
import { newId } from '../platform/ids.ts';
import { buildUser, loginAs, type BuiltUser, type Session } from '../test/factories.ts';
import { encodeDescriptor } from '../vision/gallery.ts';

/**
 * The world the authorization matrix runs in: an admin, two teachers each teaching one offering,
 * and two students, one enrolled in each. Everything a route can name (photos, albums,
 * analyses, predictions, face templates, captures, attendance rows…) is made on demand for the
 * owner a cell asks about, so a cell that deletes something never starves the next one.
 */

export type UserKey = 'admin' | 'teacherA' | 'teacherB' | 'studentA' | 'studentB';
export type ClassKey = 'A' | 'B';

/** Everything a request about one class session can name. */
export interface ClassScene {
  offeringId: string;
  sessionId: string;
  captureId: string;
  studentId: string;
  studentCode: string;
  unknownFaceId: string;
}

const uniq = () => randomBytes(4).toString('hex');

export class AccessWorld {
  users!: Record<UserKey, BuiltUser>;
  sessions!: Record<UserKey, Session>;
  semesterId!: string;
  courseId!: string;
  courseCode!: string;
  year!: number;
  offerings!: Record<ClassKey, string>;
  loadtestRunId!: string;
  jpeg!: Buffer;

  constructor(
    readonly app: App,
    readonly ctx: AppContext,
  ) {}

  async build(): Promise<this> {
    const ctx = this.ctx;
    this.jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    const users = {
      admin: await buildUser(ctx, { role: 'admin' }),
      teacherA: await buildUser(ctx, { role: 'teacher' }),
      teacherB: await buildUser(ctx, { role: 'teacher' }),
      studentA: await buildUser(ctx, { role: 'student' }),
      studentB: await buildUser(ctx, { role: 'student' }),
    };
    this.users = users;
    for (const u of Object.values(users)) await ctx.identity.setProfilePhoto(SYSTEM_ACTOR, u.user.id, this.jpeg);
    this.year = new Date().getFullYear();
    const sem = await ctx.academics.createSemester(SYSTEM_ACTOR, {
      code: `M${uniq()}`.slice(0, 12),
      year: this.year,
      term: 1,
      startsOn: `${this.year - 1}-01-01`,
      endsOn: `${this.year + 1}-12-31`,
    });
    this.semesterId = sem.id;
    const course = await ctx.academics.createCourse(SYSTEM_ACTOR, { code: `MX${uniq()}`.slice(0, 10), name: 'Matrix' });
    this.courseId = course.id;
    this.courseCode = course.code;
    this.offerings = {
      A: await this.offering('teacherA', 'A'),
      B: await this.offering('teacherB', 'B'),
    };
    await ctx.academics.enroll(SYSTEM_ACTOR, this.offerings.A, users.studentA.user.id);
    await ctx.academics.enroll(SYSTEM_ACTOR, this.offerings.B, users.studentB.user.id);
    this.loadtestRunId = await this.loadtestRun();
    this.sessions = {
      admin: await loginAs(this.app, users.admin),
      teacherA: await loginAs(this.app, users.teacherA),
      teacherB: await loginAs(this.app, users.teacherB),
      studentA: await loginAs(this.app, users.studentA),
      studentB: await loginAs(this.app, users.studentB),
    };
    return this;
  }

  id(key: UserKey): string {
    return this.users[key].user.id;
  }

  teacherOf(cls: ClassKey): UserKey {
    return cls === 'A' ? 'teacherA' : 'teacherB';
  }

  studentOf(cls: ClassKey): UserKey {
    return cls === 'A' ? 'studentA' : 'studentB';
  }

  async offering(teacher: UserKey, section: string): Promise<string> {
    const o = await this.ctx.academics.createOffering(SYSTEM_ACTOR, {
      courseId: this.courseId,
      semesterId: this.semesterId,
      section,
      teacherId: this.id(teacher),
    });
    return o.id;
  }

  /** A fresh offering taught by the class's teacher, for routes that delete or re-enrol. */
  async freshOffering(cls: ClassKey): Promise<string> {
    return this.offering(this.teacherOf(cls), uniq().slice(0, 6).toUpperCase());
  }

  /** A user with no password (no hashing cost), enrolled in the class when given. */
  async freshUser(role: Role, enrolIn?: ClassKey): Promise<string> {
    const u = uniq();
    const row = await this.ctx.identity.createUser(
      {
        username: `m${role[0]}${u}`,
        email: `m${u}@example.test`,
        fullName: `Matrix ${role} ${u}`,
        role,
        studentCode: role === 'student' ? `MS${u}` : undefined,
      },
      null,
    );
    if (enrolIn) await this.ctx.academics.enroll(SYSTEM_ACTOR, this.offerings[enrolIn], row.id);
    return row.id;
  }

  private async blob(): Promise<string> {
    return (await this.ctx.blobs.put(this.jpeg, { contentType: 'image/jpeg' })).id;
  }

  /**
   * A class session of the class's offering (open, under way) with one capture and its frame,
   * the enrolled student's attendance row, evidence and camera track, and an unknown face.
   */
  async scene(cls: ClassKey): Promise<ClassScene> {
    const db = this.ctx.db.kysely;
    const offeringId = this.offerings[cls];
    const student = this.users[this.studentOf(cls)].user;
    const t = Date.now();
    const sessionId = newId(t);
    await db
      .insertInto('class_sessions')
      .values({
        id: sessionId,
        offering_id: offeringId,
        starts_at: t - 600_000,
        ends_at: t + 3_000_000,
        status: 'open',
        opened_at: t,
        closed_at: null,
        created_at: t,
      })
      .execute();
    const captureId = newId(t);
    await db
      .insertInto('captures')
      .values({
        id: captureId,
        session_id: sessionId,
        offering_id: offeringId,
        kind: 'photo',
        source: 'upload',
        blob_id: await this.blob(),
        content_type: 'image/jpeg',
        size_bytes: this.jpeg.length,
        filename: 'room.jpg',
        captured_at: t,
        status: 'done',
        error_code: null,
        error: null,
        duration_ms: null,
        width: 64,
        height: 64,
        created_by: this.id(this.teacherOf(cls)),
        created_at: t,
        started_at: t,
        finished_at: t,
        purged_at: null,
      })
      .execute();
    await db
      .insertInto('capture_frames')
      .values({
        id: newId(t),
        capture_id: captureId,
        frame_index: 0,
        offset_ms: 0,
        at: t,
        blob_id: await this.blob(),
        width: 64,
        height: 64,
        faces: 1,
      })
      .execute();
    await db
      .insertInto('observations')
      .values({
        id: newId(t),
        capture_id: captureId,
        session_id: sessionId,
        frame_index: 0,
        face_index: 0,
        track_id: `${captureId}:0`,
        at: t,
        box: '[1,1,20,20]',
        student_id: student.id,
        distance: 0.4,
        confidence: 0.9,
        quality: 0.9,
        facing: null,
        crop_blob_id: await this.blob(),
      })
      .execute();
    await db
      .insertInto('attendance')
      .values({
        id: newId(t),
        session_id: sessionId,
        offering_id: offeringId,
        student_id: student.id,
        status: 'present',
        first_seen_at: t,
        last_seen_at: t,
        confidence: 0.9,
        evidence_blob_id: await this.blob(),
        source: 'camera',
        note: null,
        changed_by: null,
        changed_at: t,
        created_at: t,
      })
      .execute();
    const unknownFaceId = newId(t);
    await db
      .insertInto('unknown_faces')
      .values({
        id: unknownFaceId,
        session_id: sessionId,
        capture_id: captureId,
        track_id: `${captureId}:1`,
        first_seen_at: t,
        last_seen_at: t,
        observations: 1,
        box: '[30,30,20,20]',
        quality: 0.8,
        crop_blob_id: await this.blob(),
        nearest_student_id: null,
        nearest_distance: null,
        student_id: null,
        template_id: null,
        resolved_by: null,
        resolved_at: null,
      })
      .execute();
    return {
      offeringId,
      sessionId,
      captureId,
      studentId: student.id,
      studentCode: student.student_code!,
      unknownFaceId,
    };
  }

  async image(owner: UserKey): Promise<{ id: string; faceId: string }> {
    const db = this.ctx.db.kysely;
    const t = Date.now();
    const id = newId(t);
    const blobId = await this.blob();
    await db
      .insertInto('images')
      .values({
        id,
        owner_id: this.id(owner),
        album_id: null,
        blob_id: blobId,
        thumb_blob_id: await this.blob(),
        sha256: 'x'.repeat(64),
        size: this.jpeg.length,
        width: 64,
        height: 64,
        original_sha256: 'x'.repeat(64),
        original_name: 'p.jpg',
        title: 'Photo',
        description: null,
        status: 'done',
        status_error: null,
        created_at: t,
        updated_at: t,
      })
      .execute();
    const faceId = newId(t);
    await db
      .insertInto('image_faces')
      .values({
        id: faceId,
        image_id: id,
        owner_id: this.id(owner),
        box: '[1,1,20,20]',
        score: 0.9,
        user_id: null,
        distance: null,
        source: 'auto',
        model: 'test',
        prediction_id: null,
        created_at: t,
        updated_at: t,
      })
      .execute();
    return { id, faceId };
  }

  async album(owner: UserKey): Promise<string> {
    const t = Date.now();
    const id = newId(t);
    await this.ctx.db.kysely
      .insertInto('albums')
      .values({
        id,
        owner_id: this.id(owner),
        name: 'Album',
        description: null,
        smart_label: null,
        created_at: t,
        updated_at: t,
      })
      .execute();
    return id;
  }

  /** A finished analysis made with a model version that no longer exists (a rerun is refused with 409). */
  async analysis(owner: UserKey): Promise<{ id: string; inputId: string }> {
    const db = this.ctx.db.kysely;
    const t = Date.now();
    const id = newId(t);
    await db
      .insertInto('analysis_jobs')
      .values({
        id,
        user_id: this.id(owner),
        source: 'lab',
        model: 'objects',
        model_version: 'retired',
        weights_sha256: null,
        parameters: '{}',
        status: 'done',
        total: 1,
        processed: 1,
        failed: 0,
        error: null,
        rerun_of: null,
        created_at: t,
        started_at: t,
        finished_at: t,
      })
      .execute();
    const inputId = newId(t);
    await db
      .insertInto('analysis_inputs')
      .values({
        id: inputId,
        job_id: id,
        position: 0,
        filename: 'p.jpg',
        blob_id: await this.blob(),
        sha256: 'x'.repeat(64),
        size: this.jpeg.length,
        status: 'done',
        error_code: null,
        error: null,
        prediction_id: null,
      })
      .execute();
    return { id, inputId };
  }

  async prediction(owner: UserKey): Promise<string> {
    const t = Date.now();
    const id = newId(t);
    await this.ctx.db.kysely
      .insertInto('predictions')
      .values({
        id,
        job_id: null,
        user_id: this.id(owner),
        source: 'lab',
        created_at: t,
        model: 'objects',
        model_version: 'retired',
        weights_sha256: null,
        parameters: '{}',
        input_blob_id: await this.blob(),
        input_sha256: 'x'.repeat(64),
        output: '[]',
        duration_ms: 1,
      })
      .execute();
    return id;
  }

  async template(owner: string): Promise<string> {
    const userId = owner in (this.users ?? {}) ? this.id(owner as UserKey) : owner;
    const t = Date.now();
    const id = newId(t);
    await this.ctx.db.kysely
      .insertInto('face_templates')
      .values({
        id,
        user_id: userId,
        source_blob_id: await this.blob(),
        embedding: encodeDescriptor(new Array<number>(128).fill(0.01)),
        model: 'test',
        quality: 0.9,
        created_by: null,
        created_at: t,
        source: 'upload',
        box: '[1,1,20,20]',
      })
      .execute();
    return id;
  }

  async loadtestRun(): Promise<string> {
    const runId = `m-${uniq()}`;
    await this.ctx.loadtests.recordSamples(SYSTEM_ACTOR, runId, { workerId: 'w1', samples: [] });
    return runId;
  }
}
