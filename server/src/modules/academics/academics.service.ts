import type { Db } from '../../platform/db/database.ts';
import { isUniqueViolation } from '../../platform/db/database.ts';
import { badRequest, conflict, forbidden, notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { toIso } from '../../platform/time.ts';
import { type Actor, isAdmin, requireRole } from '../identity/actor.ts';
import type { IdentityService } from '../identity/identity.service.ts';
import type {
  AcademicsRepository,
  CourseListFilter,
  CourseRow,
  EnrolledStudentRow,
  EnrollmentListFilter,
  MyEnrollmentListFilter,
  MyEnrollmentRow,
  OfferingListFilter,
  OfferingRow,
  OfferingViewRow,
  SemesterListFilter,
  SemesterRow,
} from './academics.repository.ts';
import type { CourseOut, EnrollmentOut, OfferingOut, ScheduleSlot, SemesterOut } from './academics.schemas.ts';
import { ClassSessions } from './class-sessions.ts';
import { importRoster, type RosterResult } from './roster-import.ts';
import { parseSchedule } from './schedule.ts';

export type { ClassSessionRow, EnrolledStudentRow, OfferingRow, OfferingViewRow } from './academics.repository.ts';

// ---- output mappers ------------------------------------------------------------------------

export const toSemesterOut = (s: SemesterRow): SemesterOut => ({
  id: s.id,
  code: s.code,
  name: s.name,
  year: Number(s.year),
  term: Number(s.term),
  startsOn: s.starts_on,
  endsOn: s.ends_on,
});

export const toCourseOut = (c: CourseRow): CourseOut => ({
  id: c.id,
  code: c.code,
  name: c.name,
  description: c.description,
  passingGrade: Number(c.passing_grade),
});

export const toOfferingOut = (o: OfferingViewRow): OfferingOut => ({
  id: o.id,
  courseId: o.course_id,
  courseCode: o.course_code,
  courseName: o.course_name,
  semesterId: o.semester_id,
  semesterCode: o.semester_code,
  section: o.section,
  teacherId: o.teacher_id,
  teacherName: o.teacher_name,
  room: o.room,
  schedule: parseSchedule(o.schedule),
  lateAfterMinutes: Number(o.late_after_minutes),
  enrolledCount: Number(o.enrolled_count),
});

export const toMyEnrollmentOut = (o: MyEnrollmentRow) => ({
  ...toOfferingOut(o),
  enrollmentId: o.enrollment_id,
  enrolledAt: toIso(o.enrolled_at)!,
});

export const toEnrollmentOut = (e: EnrolledStudentRow): EnrollmentOut => ({
  id: e.id,
  studentId: e.student_id,
  studentCode: e.student_code,
  fullName: e.full_name,
  email: e.email,
  enrolledAt: toIso(e.created_at)!,
});

const TERM_NAMES = { 1: 'Primer semestre', 2: 'Segundo semestre' } as const;

export interface OfferingInput {
  courseId: string;
  semesterId: string;
  section?: string | undefined;
  teacherId?: string | null | undefined;
  room?: string | null | undefined;
  schedule?: ScheduleSlot[] | undefined;
  lateAfterMinutes?: number | undefined;
}

/** Fields of an offering its own teacher may change; the rest is the admin's. */
const TEACHER_EDITABLE = new Set(['room', 'schedule', 'lateAfterMinutes']);

/**
 * Semesters, courses, offerings, enrolments and class sessions, with the rules of who may see
 * and change what. Attendance and the gradebook build on the lookups and assertions here.
 */
export class AcademicsService {
  readonly sessions: ClassSessions;

  constructor(
    private readonly repo: AcademicsRepository,
    private readonly db: Db,
    private readonly identity: IdentityService,
  ) {
    this.sessions = new ClassSessions(repo, db, this);
  }

  // ---- authorization -----------------------------------------------------------------------

  /** The offering, if the actor may see it: admins, its teacher, its enrolled students. */
  async assertCanViewOffering(actor: Actor, offeringId: string): Promise<OfferingRow> {
    const o = await this.repo.findOfferingById(offeringId);
    if (!o) throw notFound('Offering');
    if (isAdmin(actor)) return o;
    if (actor.role === 'teacher' && o.teacher_id === actor.id) return o;
    if (actor.role === 'student' && (await this.repo.findEnrollment(o.id, actor.id))) return o;
    throw forbidden('You do not teach or attend this offering');
  }

  /** The offering, if the actor may manage it (its sessions, its roster view): admins and its teacher. */
  async assertCanManageOffering(actor: Actor, offeringId: string): Promise<OfferingRow> {
    const o = await this.repo.findOfferingById(offeringId);
    if (!o) throw notFound('Offering');
    if (isAdmin(actor) || (actor.role === 'teacher' && o.teacher_id === actor.id)) return o;
    throw forbidden('Only the teacher of this offering or an admin can do this');
  }

  // ---- semesters ---------------------------------------------------------------------------

  listSemesters(_actor: Actor, filter: SemesterListFilter) {
    return this.repo.listSemesters(filter);
  }

  async getSemester(_actor: Actor, id: string): Promise<SemesterRow> {
    const s = await this.repo.findSemesterById(id);
    if (!s) throw notFound('Semester');
    return s;
  }

  findSemesterByCode(code: string) {
    return this.repo.findSemesterByCode(code);
  }

  /** The semester whose dates include the calendar day `date` (YYYY-MM-DD). */
  findSemesterContaining(date: string) {
    return this.repo.findSemesterContaining(date);
  }

  async createSemester(
    actor: Actor,
    input: {
      code?: string | undefined;
      name?: string | undefined;
      year: number;
      term: 1 | 2;
      startsOn: string;
      endsOn: string;
    },
  ): Promise<SemesterRow> {
    requireRole(actor, 'admin');
    if (input.startsOn > input.endsOn) throw badRequest('invalid_dates', 'endsOn must not be before startsOn');
    const id = newId();
    try {
      await this.repo.insertSemester({
        id,
        code: input.code ?? `${input.year}-${input.term}`,
        name: input.name ?? `${TERM_NAMES[input.term]} ${input.year}`,
        year: input.year,
        term: input.term,
        starts_on: input.startsOn,
        ends_on: input.endsOn,
        created_at: Date.now(),
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('semester_code_taken', 'A semester with that code exists');
      throw err;
    }
    return (await this.repo.findSemesterById(id))!;
  }

  async updateSemester(
    actor: Actor,
    id: string,
    patch: {
      code?: string | undefined;
      name?: string | undefined;
      year?: number | undefined;
      term?: 1 | 2 | undefined;
      startsOn?: string | undefined;
      endsOn?: string | undefined;
    },
  ): Promise<SemesterRow> {
    requireRole(actor, 'admin');
    const s = await this.repo.findSemesterById(id);
    if (!s) throw notFound('Semester');
    if ((patch.startsOn ?? s.starts_on) > (patch.endsOn ?? s.ends_on)) {
      throw badRequest('invalid_dates', 'endsOn must not be before startsOn');
    }
    try {
      await this.repo.updateSemester(id, {
        ...(patch.code !== undefined && { code: patch.code }),
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.year !== undefined && { year: patch.year }),
        ...(patch.term !== undefined && { term: patch.term }),
        ...(patch.startsOn !== undefined && { starts_on: patch.startsOn }),
        ...(patch.endsOn !== undefined && { ends_on: patch.endsOn }),
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('semester_code_taken', 'A semester with that code exists');
      throw err;
    }
    return (await this.repo.findSemesterById(id))!;
  }

  /** Refused while offerings use it: deleting would silently take their enrolments and sessions along. */
  async deleteSemester(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    const s = await this.repo.findSemesterById(id);
    if (!s) throw notFound('Semester');
    if ((await this.repo.countOfferingsOfSemester(id)) > 0) {
      throw conflict('semester_in_use', 'Delete the offerings of this semester first');
    }
    await this.repo.deleteSemester(id);
    await this.identity.audit(actor, 'semester.delete', 'semester', id, { code: s.code });
  }

  // ---- courses -----------------------------------------------------------------------------

  listCourses(_actor: Actor, filter: CourseListFilter) {
    return this.repo.listCourses(filter);
  }

  async getCourse(_actor: Actor, id: string): Promise<CourseRow> {
    const c = await this.repo.findCourseById(id);
    if (!c) throw notFound('Course');
    return c;
  }

  /** Course codes are stored upper-case, so `so1` finds SO1. */
  findCourseByCode(code: string) {
    return this.repo.findCourseByCode(code.trim().toUpperCase());
  }

  async createCourse(
    actor: Actor,
    input: { code: string; name: string; description?: string | null | undefined; passingGrade?: number | undefined },
  ): Promise<CourseRow> {
    requireRole(actor, 'admin');
    const id = newId();
    try {
      await this.repo.insertCourse({
        id,
        code: input.code.toUpperCase(),
        name: input.name,
        description: input.description || null,
        passing_grade: input.passingGrade ?? 61,
        created_at: Date.now(),
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('course_code_taken', 'A course with that code exists');
      throw err;
    }
    return (await this.repo.findCourseById(id))!;
  }

  async updateCourse(
    actor: Actor,
    id: string,
    patch: {
      code?: string | undefined;
      name?: string | undefined;
      description?: string | null | undefined;
      passingGrade?: number | undefined;
    },
  ): Promise<CourseRow> {
    requireRole(actor, 'admin');
    if (!(await this.repo.findCourseById(id))) throw notFound('Course');
    try {
      await this.repo.updateCourse(id, {
        ...(patch.code !== undefined && { code: patch.code.toUpperCase() }),
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.description !== undefined && { description: patch.description || null }),
        ...(patch.passingGrade !== undefined && { passing_grade: patch.passingGrade }),
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('course_code_taken', 'A course with that code exists');
      throw err;
    }
    return (await this.repo.findCourseById(id))!;
  }

  async deleteCourse(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    const c = await this.repo.findCourseById(id);
    if (!c) throw notFound('Course');
    if ((await this.repo.countOfferingsOfCourse(id)) > 0) {
      throw conflict('course_in_use', 'Delete the offerings of this course first');
    }
    await this.repo.deleteCourse(id);
    await this.identity.audit(actor, 'course.delete', 'course', id, { code: c.code });
  }

  // ---- offerings ---------------------------------------------------------------------------

  /** Teachers see the offerings they teach, students those they attend, admins all. */
  listOfferings(actor: Actor, filter: Omit<OfferingListFilter, 'onlyTaughtBy' | 'onlyEnrolled'>) {
    return this.repo.listOfferingViews({
      ...filter,
      onlyTaughtBy: actor.role === 'teacher' ? actor.id : undefined,
      onlyEnrolled: actor.role === 'student' ? actor.id : undefined,
    });
  }

  async getOffering(actor: Actor, id: string): Promise<OfferingViewRow> {
    await this.assertCanViewOffering(actor, id);
    return (await this.repo.findOfferingView(id))!;
  }

  /** An offering by id, with no authorization: for other modules that have already checked. */
  findOffering(id: string) {
    return this.repo.findOfferingById(id);
  }

  findOfferingByKey(courseId: string, semesterId: string, section = 'A') {
    return this.repo.findOfferingByKey(courseId, semesterId, section);
  }

  listOfferingsOfCourseInSemester(courseId: string, semesterId: string) {
    return this.repo.listOfferingsOfCourseInSemester(courseId, semesterId);
  }

  private async checkOfferingRefs(input: Partial<OfferingInput>): Promise<void> {
    if (input.courseId !== undefined && !(await this.repo.findCourseById(input.courseId))) {
      throw badRequest('unknown_course', 'No course has that id');
    }
    if (input.semesterId !== undefined && !(await this.repo.findSemesterById(input.semesterId))) {
      throw badRequest('unknown_semester', 'No semester has that id');
    }
    if (input.teacherId) {
      const t = await this.repo.findUserById(input.teacherId);
      if (!t) throw badRequest('unknown_teacher', 'No user has that id');
      if (t.role !== 'teacher' && t.role !== 'admin') {
        throw badRequest('not_a_teacher', 'Only a teacher or an admin can teach an offering');
      }
    }
  }

  async createOffering(actor: Actor, input: OfferingInput): Promise<OfferingViewRow> {
    requireRole(actor, 'admin');
    await this.checkOfferingRefs(input);
    const id = newId();
    try {
      await this.repo.insertOffering({
        id,
        course_id: input.courseId,
        semester_id: input.semesterId,
        section: input.section ?? 'A',
        teacher_id: input.teacherId ?? null,
        room: input.room || null,
        schedule: JSON.stringify(input.schedule ?? []),
        late_after_minutes: input.lateAfterMinutes ?? 10,
        created_at: Date.now(),
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw conflict('offering_exists', 'That course already has this section in this semester');
      }
      throw err;
    }
    return (await this.repo.findOfferingView(id))!;
  }

  /**
   * Admins change anything; the offering's teacher may change its room, schedule and late
   * threshold. Sessions already generated keep their times: regenerate to add the new meetings.
   */
  async updateOffering(actor: Actor, id: string, patch: Partial<OfferingInput>): Promise<OfferingViewRow> {
    const o = await this.assertCanManageOffering(actor, id);
    if (!isAdmin(actor)) {
      const denied = Object.keys(patch).filter(
        (k) => patch[k as keyof OfferingInput] !== undefined && !TEACHER_EDITABLE.has(k),
      );
      if (denied.length > 0) throw forbidden(`Only an admin can change ${denied.join(', ')}`);
    }
    await this.checkOfferingRefs(patch);
    try {
      await this.repo.updateOffering(o.id, {
        ...(patch.courseId !== undefined && { course_id: patch.courseId }),
        ...(patch.semesterId !== undefined && { semester_id: patch.semesterId }),
        ...(patch.section !== undefined && { section: patch.section }),
        ...(patch.teacherId !== undefined && { teacher_id: patch.teacherId }),
        ...(patch.room !== undefined && { room: patch.room || null }),
        ...(patch.schedule !== undefined && { schedule: JSON.stringify(patch.schedule) }),
        ...(patch.lateAfterMinutes !== undefined && { late_after_minutes: patch.lateAfterMinutes }),
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw conflict('offering_exists', 'That course already has this section in this semester');
      }
      throw err;
    }
    return (await this.repo.findOfferingView(o.id))!;
  }

  /** Refused once a session has been opened: those sessions carry attendance that must not vanish. */
  async deleteOffering(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    const o = await this.repo.findOfferingById(id);
    if (!o) throw notFound('Offering');
    if ((await this.repo.countSessionsNotScheduled(id)) > 0) {
      throw conflict('offering_in_use', 'This offering has sessions that were opened; it cannot be deleted');
    }
    await this.repo.deleteOffering(id);
    await this.identity.audit(actor, 'offering.delete', 'offering', id, {
      courseId: o.course_id,
      semesterId: o.semester_id,
      section: o.section,
    });
  }

  // ---- enrolments --------------------------------------------------------------------------

  /** Admins and the teacher see the whole list; a student sees only their own enrolment. */
  async listEnrollments(actor: Actor, offeringId: string, filter: Omit<EnrollmentListFilter, 'onlyStudentId'>) {
    await this.assertCanViewOffering(actor, offeringId);
    return this.repo.listEnrollmentViews(offeringId, {
      ...filter,
      onlyStudentId: actor.role === 'student' ? actor.id : undefined,
    });
  }

  listMyEnrollments(actor: Actor, filter: MyEnrollmentListFilter) {
    return this.repo.listEnrollmentViewsOfStudent(actor.id, filter);
  }

  async enroll(actor: Actor, offeringId: string, studentId: string): Promise<EnrolledStudentRow> {
    requireRole(actor, 'admin');
    if (!(await this.repo.findOfferingById(offeringId))) throw notFound('Offering');
    const u = await this.repo.findUserById(studentId);
    if (!u) throw badRequest('unknown_student', 'No user has that id');
    if (u.role !== 'student') throw badRequest('not_a_student', 'Only students can be enrolled');
    const id = newId();
    try {
      await this.repo.insertEnrollment({ id, offering_id: offeringId, student_id: studentId, created_at: Date.now() });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('already_enrolled', 'The student is already enrolled');
      throw err;
    }
    await this.identity.audit(actor, 'enrollment.create', 'offering', offeringId, { studentId });
    return (await this.repo.findEnrollmentView(id))!;
  }

  /** Enrols many students, skipping those already enrolled (demo data, bulk tools). */
  async enrollMany(
    actor: Actor,
    offeringId: string,
    studentIds: readonly string[],
  ): Promise<{ enrolled: number; alreadyEnrolled: number }> {
    requireRole(actor, 'admin');
    if (!(await this.repo.findOfferingById(offeringId))) throw notFound('Offering');
    const unique = [...new Set(studentIds)];
    const already = new Set(await this.repo.listEnrolledStudentIds(offeringId, unique));
    const t = Date.now();
    const rows = unique
      .filter((s) => !already.has(s))
      .map((studentId) => ({ id: newId(t), offering_id: offeringId, student_id: studentId, created_at: t }));
    await this.repo.insertEnrollments(rows);
    return { enrolled: rows.length, alreadyEnrolled: already.size };
  }

  async unenroll(actor: Actor, offeringId: string, studentId: string): Promise<void> {
    requireRole(actor, 'admin');
    if (!(await this.repo.findOfferingById(offeringId))) throw notFound('Offering');
    if ((await this.repo.deleteEnrollment(offeringId, studentId)) === 0) throw notFound('Enrollment');
    await this.identity.audit(actor, 'enrollment.delete', 'offering', offeringId, { studentId });
  }

  /** The students of an offering, with no authorization: for attendance matching and grading. */
  listEnrolledStudents(offeringId: string): Promise<EnrolledStudentRow[]> {
    return this.repo.listEnrolledStudents(offeringId);
  }

  async isEnrolled(offeringId: string, studentId: string): Promise<boolean> {
    return (await this.repo.findEnrollment(offeringId, studentId)) !== undefined;
  }

  /** Roster imports change enrolments, so they are the admin's. */
  async assertCanImportRoster(actor: Actor, offeringId: string): Promise<OfferingRow> {
    requireRole(actor, 'admin');
    const o = await this.repo.findOfferingById(offeringId);
    if (!o) throw notFound('Offering');
    return o;
  }

  async importRoster(actor: Actor, offeringId: string, data: Buffer): Promise<RosterResult> {
    await this.assertCanImportRoster(actor, offeringId);
    return importRoster({ db: this.db, repo: this.repo, identity: this.identity }, actor, offeringId, data);
  }

  // ---- class sessions (see class-sessions.ts) ----------------------------------------------

  getSession(actor: Actor, id: string) {
    return this.sessions.get(actor, id);
  }

  /** A class session by id, with no authorization. */
  findSession(id: string) {
    return this.sessions.find(id);
  }

  /** The session, if the actor may manage it (open, close, take attendance): admins and the teacher. */
  assertCanManageSession(actor: Actor, id: string) {
    return this.sessions.assertCanManage(actor, id);
  }

  /** The meeting of an offering in progress at `at`, if any. */
  findSessionAt(offeringId: string, at: number) {
    return this.sessions.findAt(offeringId, at);
  }
}
