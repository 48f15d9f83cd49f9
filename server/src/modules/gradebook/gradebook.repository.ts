import type { Executor } from '../../platform/db/database.ts';
import type { GradeSource } from '../../platform/db/tables/grades.ts';

/** An offering with what grading needs: the course code and semester that key its grade records. */
export interface OfferingGradingRow {
  id: string;
  section: string;
  teacher_id: string | null;
  teacher_name: string | null;
  course_code: string;
  course_name: string;
  passing_grade: number;
  semester_code: string;
  year: number;
  term: number;
}

/** A student's effective grade in one course and semester: their latest record there. */
export interface EffectiveRow {
  student_code: string;
  score_x100: number;
  record_id: string;
  received_at: number;
  source: GradeSource | null;
}

export interface RecordRow {
  id: string;
  student_code: string;
  course_code: string;
  year: number;
  semester: number;
  score_x100: number;
  source: GradeSource;
  received_at: number;
  created_by: string | null;
  created_by_name: string | null;
}

export interface CourseGradingRow {
  code: string;
  name: string;
  passing_grade: number;
}

// IN lists stay well under every dialect's bound-parameter limit.
const CHUNK = 500;
function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * The gradebook's reads of `grade_records` (owned by the grades module, which writes it) and of
 * the academic tables that key it. Records are append-only; nothing here writes them.
 */
export class GradebookRepository {
  constructor(private readonly db: Executor) {}

  async findOffering(id: string): Promise<OfferingGradingRow | undefined> {
    const row = await this.db
      .selectFrom('offerings as o')
      .innerJoin('courses as c', 'c.id', 'o.course_id')
      .innerJoin('semesters as s', 's.id', 'o.semester_id')
      .leftJoin('users as t', 't.id', 'o.teacher_id')
      .select([
        'o.id',
        'o.section',
        'o.teacher_id',
        't.full_name as teacher_name',
        'c.code as course_code',
        'c.name as course_name',
        'c.passing_grade',
        's.code as semester_code',
        's.year',
        's.term',
      ])
      .where('o.id', '=', id)
      .executeTakeFirst();
    return row && { ...row, passing_grade: Number(row.passing_grade), year: Number(row.year), term: Number(row.term) };
  }

  /**
   * The effective grades of these students in one course and semester (`grade_effective` is kept
   * by the ingest transaction), with the source of the record behind each.
   */
  async listEffective(course: string, year: number, semester: number, studentCodes: readonly string[]) {
    const out: EffectiveRow[] = [];
    for (const part of chunks(studentCodes)) {
      const rows = await this.db
        .selectFrom('grade_effective as e')
        .leftJoin('grade_records as r', 'r.id', 'e.record_id')
        .select(['e.student_code', 'e.score_x100', 'e.record_id', 'e.received_at', 'r.source'])
        .where('e.course_code', '=', course)
        .where('e.year', '=', year)
        .where('e.semester', '=', semester)
        .where('e.student_code', 'in', part)
        .execute();
      for (const r of rows) out.push({ ...r, score_x100: Number(r.score_x100), received_at: Number(r.received_at) });
    }
    return out;
  }

  /**
   * Records in the order they were received, newest first (ids grow with time). `grade_records`
   * carries no index but its key, to keep ingest fast; these reads of one student scan it.
   */
  async listHistory(studentCode: string, group?: { course: string; year: number; semester: number }) {
    let q = this.db
      .selectFrom('grade_records as g')
      .leftJoin('users as u', 'u.id', 'g.created_by')
      .select([
        'g.id',
        'g.student_code',
        'g.course_code',
        'g.year',
        'g.semester',
        'g.score_x100',
        'g.source',
        'g.received_at',
        'g.created_by',
        'u.full_name as created_by_name',
      ])
      .where('g.student_code', '=', studentCode);
    if (group) {
      q = q
        .where('g.course_code', '=', group.course)
        .where('g.year', '=', group.year)
        .where('g.semester', '=', group.semester);
    }
    const rows = await q.orderBy('g.id', 'desc').execute();
    return rows.map((r): RecordRow => ({
      ...r,
      year: Number(r.year),
      semester: Number(r.semester),
      score_x100: Number(r.score_x100),
      received_at: Number(r.received_at),
    }));
  }

  /** A student's effective grades in every course and semester. */
  async listEffectiveOfStudent(studentCode: string) {
    const rows = await this.db
      .selectFrom('grade_effective')
      .select(['course_code', 'year', 'semester', 'score_x100', 'received_at'])
      .where('student_code', '=', studentCode)
      .execute();
    return rows.map((r) => ({
      ...r,
      year: Number(r.year),
      semester: Number(r.semester),
      score_x100: Number(r.score_x100),
      received_at: Number(r.received_at),
    }));
  }

  async listCoursesByCodes(codes: readonly string[]): Promise<CourseGradingRow[]> {
    const out: CourseGradingRow[] = [];
    for (const part of chunks(codes)) {
      const rows = await this.db
        .selectFrom('courses')
        .select(['code', 'name', 'passing_grade'])
        .where('code', 'in', part)
        .execute();
      for (const r of rows) out.push({ ...r, passing_grade: Number(r.passing_grade) });
    }
    return out;
  }
}
