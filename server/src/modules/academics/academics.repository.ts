import { sql, type Expression, type Insertable, type Selectable, type SqlBool, type Updateable } from 'kysely';
import type { Executor } from '../../platform/db/database.ts';
import type {
  ClassSessionStatus,
  ClassSessionsTable,
  CoursesTable,
  EnrollmentsTable,
  OfferingsTable,
  SemestersTable,
} from '../../platform/db/tables/academics.ts';
import type { UserRow } from '../identity/identity.repository.ts';

export type SemesterRow = Selectable<SemestersTable>;
export type CourseRow = Selectable<CoursesTable>;
export type OfferingRow = Selectable<OfferingsTable>;
export type EnrollmentRow = Selectable<EnrollmentsTable>;
export type ClassSessionRow = Selectable<ClassSessionsTable>;

export interface OfferingViewRow extends OfferingRow {
  course_code: string;
  course_name: string;
  semester_code: string;
  teacher_name: string | null;
  enrolled_count: number;
}

export interface MyEnrollmentRow extends OfferingViewRow {
  enrollment_id: string;
  enrolled_at: number;
}

export interface EnrolledStudentRow {
  id: string;
  offering_id: string;
  student_id: string;
  student_code: string | null;
  username: string;
  full_name: string;
  email: string;
  created_at: number;
}

type Order = 'asc' | 'desc';
interface PageFilter {
  limit: number;
  offset: number;
}

export interface SemesterListFilter extends PageFilter {
  q?: string | undefined;
  year?: number | undefined;
  sort: 'code' | 'year' | 'startsOn';
  order: Order;
}

export interface CourseListFilter extends PageFilter {
  q?: string | undefined;
  sort: 'code' | 'name';
  order: Order;
}

export interface OfferingListFilter extends PageFilter {
  semesterId?: string | undefined;
  courseId?: string | undefined;
  teacherId?: string | undefined;
  q?: string | undefined;
  /** Role visibility: only offerings taught by this user. */
  onlyTaughtBy?: string | undefined;
  /** Role visibility: only offerings this user is enrolled in. */
  onlyEnrolled?: string | undefined;
  sort: 'course' | 'semester' | 'section' | 'teacher' | 'room';
  order: Order;
}

export interface EnrollmentListFilter extends PageFilter {
  q?: string | undefined;
  onlyStudentId?: string | undefined;
  sort: 'studentCode' | 'fullName' | 'enrolledAt';
  order: Order;
}

export interface MyEnrollmentListFilter extends PageFilter {
  semesterId?: string | undefined;
  q?: string | undefined;
}

export interface SessionListFilter extends PageFilter {
  from?: number | undefined;
  to?: number | undefined;
  status?: ClassSessionStatus | undefined;
  order: Order;
}

// Bound parameters per statement stay far below every dialect's limit (SQLite: 32766).
const CHUNK = 500;
function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * A case-insensitive "contains" match. '!' is the LIKE escape character because it means the
 * same thing on all three dialects (a backslash does not).
 */
function contains(column: string, q: string): Expression<SqlBool> {
  const pattern = `%${q.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '!'`;
}

// A correlated subquery rather than a GROUP BY, so the joined columns need no aggregation.
const enrolledCount = () =>
  sql<number>`(select count(*) from enrollments e where e.offering_id = o.id)`.as('enrolled_count');

const count = (r: { n: number | string | bigint } | undefined) => Number(r?.n ?? 0);

export class AcademicsRepository {
  constructor(private readonly db: Executor) {}

  withExecutor(db: Executor): AcademicsRepository {
    return new AcademicsRepository(db);
  }

  // ---- semesters ---------------------------------------------------------------------------

  findSemesterById(id: string): Promise<SemesterRow | undefined> {
    return this.db.selectFrom('semesters').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findSemesterByCode(code: string): Promise<SemesterRow | undefined> {
    return this.db.selectFrom('semesters').selectAll().where('code', '=', code).executeTakeFirst();
  }

  findSemesterContaining(date: string): Promise<SemesterRow | undefined> {
    return this.db
      .selectFrom('semesters')
      .selectAll()
      .where('starts_on', '<=', date)
      .where('ends_on', '>=', date)
      .orderBy('starts_on', 'desc')
      .executeTakeFirst();
  }

  async listSemesters(f: SemesterListFilter): Promise<{ items: SemesterRow[]; total: number }> {
    let q = this.db.selectFrom('semesters');
    if (f.year !== undefined) q = q.where('year', '=', f.year);
    if (f.q) {
      const term = f.q;
      q = q.where((eb) => eb.or([contains('code', term), contains('name', term)]));
    }
    const column = ({ code: 'code', year: 'year', startsOn: 'starts_on' } as const)[f.sort];
    const [items, total] = await Promise.all([
      q.selectAll().orderBy(column, f.order).orderBy('code', f.order).limit(f.limit).offset(f.offset).execute(),
      q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
    ]);
    return { items, total: count(total) };
  }

  async insertSemester(row: Insertable<SemestersTable>): Promise<void> {
    await this.db.insertInto('semesters').values(row).execute();
  }

  async updateSemester(id: string, patch: Updateable<SemestersTable>): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await this.db.updateTable('semesters').set(patch).where('id', '=', id).execute();
  }

  async deleteSemester(id: string): Promise<void> {
    await this.db.deleteFrom('semesters').where('id', '=', id).execute();
  }

  async countOfferingsOfSemester(semesterId: string): Promise<number> {
    return count(
      await this.db
        .selectFrom('offerings')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('semester_id', '=', semesterId)
        .executeTakeFirst(),
    );
  }

  // ---- courses -----------------------------------------------------------------------------

  findCourseById(id: string): Promise<CourseRow | undefined> {
    return this.db.selectFrom('courses').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findCourseByCode(code: string): Promise<CourseRow | undefined> {
    return this.db.selectFrom('courses').selectAll().where('code', '=', code).executeTakeFirst();
  }

  async listCourses(f: CourseListFilter): Promise<{ items: CourseRow[]; total: number }> {
    let q = this.db.selectFrom('courses');
    if (f.q) {
      const term = f.q;
      q = q.where((eb) => eb.or([contains('code', term), contains('name', term)]));
    }
    const [items, total] = await Promise.all([
      q.selectAll().orderBy(f.sort, f.order).orderBy('id').limit(f.limit).offset(f.offset).execute(),
      q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
    ]);
    return { items, total: count(total) };
  }

  async insertCourse(row: Insertable<CoursesTable>): Promise<void> {
    await this.db.insertInto('courses').values(row).execute();
  }

  async updateCourse(id: string, patch: Updateable<CoursesTable>): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await this.db.updateTable('courses').set(patch).where('id', '=', id).execute();
  }

  async deleteCourse(id: string): Promise<void> {
    await this.db.deleteFrom('courses').where('id', '=', id).execute();
  }

  async countOfferingsOfCourse(courseId: string): Promise<number> {
    return count(
      await this.db
        .selectFrom('offerings')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('course_id', '=', courseId)
        .executeTakeFirst(),
    );
  }

  // ---- offerings ---------------------------------------------------------------------------

  findOfferingById(id: string): Promise<OfferingRow | undefined> {
    return this.db.selectFrom('offerings').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findOfferingByKey(courseId: string, semesterId: string, section: string): Promise<OfferingRow | undefined> {
    return this.db
      .selectFrom('offerings')
      .selectAll()
      .where('course_id', '=', courseId)
      .where('semester_id', '=', semesterId)
      .where('section', '=', section)
      .executeTakeFirst();
  }

  listOfferingsOfCourseInSemester(courseId: string, semesterId: string): Promise<OfferingRow[]> {
    return this.db
      .selectFrom('offerings')
      .selectAll()
      .where('course_id', '=', courseId)
      .where('semester_id', '=', semesterId)
      .orderBy('section')
      .execute();
  }

  /** Offerings with their course, semester and teacher names and enrolment count. */
  private offeringViews() {
    return this.db
      .selectFrom('offerings as o')
      .innerJoin('courses as c', 'c.id', 'o.course_id')
      .innerJoin('semesters as s', 's.id', 'o.semester_id')
      .leftJoin('users as t', 't.id', 'o.teacher_id');
  }

  async findOfferingView(id: string): Promise<OfferingViewRow | undefined> {
    const row = await this.offeringViews()
      .selectAll('o')
      .select([
        'c.code as course_code',
        'c.name as course_name',
        's.code as semester_code',
        't.full_name as teacher_name',
      ])
      .select(enrolledCount())
      .where('o.id', '=', id)
      .executeTakeFirst();
    return row && { ...row, enrolled_count: Number(row.enrolled_count) };
  }

  async listOfferingViews(f: OfferingListFilter): Promise<{ items: OfferingViewRow[]; total: number }> {
    let q = this.offeringViews();
    if (f.semesterId) q = q.where('o.semester_id', '=', f.semesterId);
    if (f.courseId) q = q.where('o.course_id', '=', f.courseId);
    if (f.teacherId) q = q.where('o.teacher_id', '=', f.teacherId);
    if (f.onlyTaughtBy) q = q.where('o.teacher_id', '=', f.onlyTaughtBy);
    if (f.onlyEnrolled) {
      const sid = f.onlyEnrolled;
      q = q.where('o.id', 'in', (eb) =>
        eb.selectFrom('enrollments').select('enrollments.offering_id').where('enrollments.student_id', '=', sid),
      );
    }
    if (f.q) {
      const term = f.q;
      q = q.where((eb) =>
        eb.or([
          contains('c.code', term),
          contains('c.name', term),
          contains('s.code', term),
          contains('o.section', term),
          contains('o.room', term),
          contains('t.full_name', term),
        ]),
      );
    }
    const column = (
      {
        course: 'c.code',
        semester: 's.starts_on',
        section: 'o.section',
        teacher: 't.full_name',
        room: 'o.room',
      } as const
    )[f.sort];
    const [items, total] = await Promise.all([
      q
        .selectAll('o')
        .select([
          'c.code as course_code',
          'c.name as course_name',
          's.code as semester_code',
          't.full_name as teacher_name',
        ])
        .select(enrolledCount())
        .orderBy(column, f.order)
        .orderBy('c.code')
        .orderBy('o.section')
        .orderBy('o.id')
        .limit(f.limit)
        .offset(f.offset)
        .execute(),
      q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
    ]);
    return { items: items.map((r) => ({ ...r, enrolled_count: Number(r.enrolled_count) })), total: count(total) };
  }

  async listEnrollmentViewsOfStudent(
    studentId: string,
    f: MyEnrollmentListFilter,
  ): Promise<{ items: MyEnrollmentRow[]; total: number }> {
    let q = this.offeringViews()
      .innerJoin('enrollments as me', 'me.offering_id', 'o.id')
      .where('me.student_id', '=', studentId);
    if (f.semesterId) q = q.where('o.semester_id', '=', f.semesterId);
    if (f.q) {
      const term = f.q;
      q = q.where((eb) => eb.or([contains('c.code', term), contains('c.name', term), contains('s.code', term)]));
    }
    const [items, total] = await Promise.all([
      q
        .selectAll('o')
        .select([
          'c.code as course_code',
          'c.name as course_name',
          's.code as semester_code',
          't.full_name as teacher_name',
          'me.id as enrollment_id',
          'me.created_at as enrolled_at',
        ])
        .select(enrolledCount())
        .orderBy('s.starts_on', 'desc')
        .orderBy('c.code')
        .orderBy('o.section')
        .limit(f.limit)
        .offset(f.offset)
        .execute(),
      q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
    ]);
    return { items: items.map((r) => ({ ...r, enrolled_count: Number(r.enrolled_count) })), total: count(total) };
  }

  async insertOffering(row: Insertable<OfferingsTable>): Promise<void> {
    await this.db.insertInto('offerings').values(row).execute();
  }

  async updateOffering(id: string, patch: Updateable<OfferingsTable>): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await this.db.updateTable('offerings').set(patch).where('id', '=', id).execute();
  }

  async deleteOffering(id: string): Promise<void> {
    await this.db.deleteFrom('offerings').where('id', '=', id).execute();
  }

  // ---- enrollments -------------------------------------------------------------------------

  findEnrollment(offeringId: string, studentId: string): Promise<EnrollmentRow | undefined> {
    return this.db
      .selectFrom('enrollments')
      .selectAll()
      .where('offering_id', '=', offeringId)
      .where('student_id', '=', studentId)
      .executeTakeFirst();
  }

  findEnrollmentView(id: string): Promise<EnrolledStudentRow | undefined> {
    return this.enrollmentViews().where('e.id', '=', id).executeTakeFirst();
  }

  private enrollmentViews() {
    return this.db
      .selectFrom('enrollments as e')
      .innerJoin('users as u', 'u.id', 'e.student_id')
      .select([
        'e.id',
        'e.offering_id',
        'e.student_id',
        'u.student_code',
        'u.username',
        'u.full_name',
        'u.email',
        'e.created_at',
      ]);
  }

  async listEnrollmentViews(
    offeringId: string,
    f: EnrollmentListFilter,
  ): Promise<{ items: EnrolledStudentRow[]; total: number }> {
    let q = this.db
      .selectFrom('enrollments as e')
      .innerJoin('users as u', 'u.id', 'e.student_id')
      .where('e.offering_id', '=', offeringId);
    if (f.onlyStudentId) q = q.where('e.student_id', '=', f.onlyStudentId);
    if (f.q) {
      const term = f.q;
      q = q.where((eb) =>
        eb.or([
          contains('u.full_name', term),
          contains('u.student_code', term),
          contains('u.email', term),
          contains('u.username', term),
        ]),
      );
    }
    const column = ({ studentCode: 'u.student_code', fullName: 'u.full_name', enrolledAt: 'e.created_at' } as const)[
      f.sort
    ];
    const [items, total] = await Promise.all([
      q
        .select([
          'e.id',
          'e.offering_id',
          'e.student_id',
          'u.student_code',
          'u.username',
          'u.full_name',
          'u.email',
          'e.created_at',
        ])
        .orderBy(column, f.order)
        .orderBy('e.id')
        .limit(f.limit)
        .offset(f.offset)
        .execute(),
      q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
    ]);
    return { items, total: count(total) };
  }

  listEnrolledStudents(offeringId: string): Promise<EnrolledStudentRow[]> {
    return this.enrollmentViews().where('e.offering_id', '=', offeringId).orderBy('u.full_name').execute();
  }

  async listEnrolledStudentIds(offeringId: string, among: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const part of chunks(among)) {
      const rows = await this.db
        .selectFrom('enrollments')
        .select('student_id')
        .where('offering_id', '=', offeringId)
        .where('student_id', 'in', part)
        .execute();
      for (const r of rows) out.push(r.student_id);
    }
    return out;
  }

  async insertEnrollment(row: Insertable<EnrollmentsTable>): Promise<void> {
    await this.db.insertInto('enrollments').values(row).execute();
  }

  async insertEnrollments(rows: readonly Insertable<EnrollmentsTable>[]): Promise<void> {
    for (const part of chunks(rows)) await this.db.insertInto('enrollments').values(part).execute();
  }

  async deleteEnrollment(offeringId: string, studentId: string): Promise<number> {
    const r = await this.db
      .deleteFrom('enrollments')
      .where('offering_id', '=', offeringId)
      .where('student_id', '=', studentId)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // ---- users, read-only (accounts are written by the identity module) ----------------------

  findUserById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listUsersByStudentCodes(codes: readonly string[]): Promise<UserRow[]> {
    const out: UserRow[] = [];
    for (const part of chunks(codes)) {
      out.push(...(await this.db.selectFrom('users').selectAll().where('student_code', 'in', part).execute()));
    }
    return out;
  }

  async listUsersByEmails(emails: readonly string[]): Promise<UserRow[]> {
    const out: UserRow[] = [];
    for (const part of chunks(emails)) {
      out.push(...(await this.db.selectFrom('users').selectAll().where('email', 'in', part).execute()));
    }
    return out;
  }

  async listUsersByUsernames(usernames: readonly string[]): Promise<UserRow[]> {
    const out: UserRow[] = [];
    for (const part of chunks(usernames)) {
      out.push(...(await this.db.selectFrom('users').selectAll().where('username', 'in', part).execute()));
    }
    return out;
  }

  // ---- class sessions ----------------------------------------------------------------------

  findSessionById(id: string): Promise<ClassSessionRow | undefined> {
    return this.db.selectFrom('class_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The meeting of an offering in progress at `at` (started, not yet ended). */
  findSessionAt(offeringId: string, at: number): Promise<ClassSessionRow | undefined> {
    return this.db
      .selectFrom('class_sessions')
      .selectAll()
      .where('offering_id', '=', offeringId)
      .where('starts_at', '<=', at)
      .where('ends_at', '>', at)
      .orderBy('starts_at', 'desc')
      .executeTakeFirst();
  }

  async listSessions(offeringId: string, f: SessionListFilter): Promise<{ items: ClassSessionRow[]; total: number }> {
    let q = this.db.selectFrom('class_sessions').where('offering_id', '=', offeringId);
    if (f.from !== undefined) q = q.where('starts_at', '>=', f.from);
    if (f.to !== undefined) q = q.where('starts_at', '<', f.to);
    if (f.status) q = q.where('status', '=', f.status);
    const [items, total] = await Promise.all([
      q.selectAll().orderBy('starts_at', f.order).limit(f.limit).offset(f.offset).execute(),
      q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
    ]);
    return { items, total: count(total) };
  }

  async listSessionStarts(offeringId: string, from: number, to: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('class_sessions')
      .select('starts_at')
      .where('offering_id', '=', offeringId)
      .where('starts_at', '>=', from)
      .where('starts_at', '<=', to)
      .execute();
    return rows.map((r) => Number(r.starts_at));
  }

  async countSessionsNotScheduled(offeringId: string): Promise<number> {
    return count(
      await this.db
        .selectFrom('class_sessions')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('offering_id', '=', offeringId)
        .where('status', '<>', 'scheduled')
        .executeTakeFirst(),
    );
  }

  async insertSession(row: Insertable<ClassSessionsTable>): Promise<void> {
    await this.db.insertInto('class_sessions').values(row).execute();
  }

  async insertSessions(rows: readonly Insertable<ClassSessionsTable>[]): Promise<void> {
    for (const part of chunks(rows, 200)) await this.db.insertInto('class_sessions').values(part).execute();
  }

  async updateSession(id: string, patch: Updateable<ClassSessionsTable>): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await this.db.updateTable('class_sessions').set(patch).where('id', '=', id).execute();
  }

  async deleteSession(id: string): Promise<void> {
    await this.db.deleteFrom('class_sessions').where('id', '=', id).execute();
  }
}
