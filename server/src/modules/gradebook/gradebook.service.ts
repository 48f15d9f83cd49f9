import { createHash } from 'node:crypto';
import { AppError, notFound } from '../../platform/errors.ts';
import { toIso } from '../../platform/time.ts';
import type { AcademicsService, EnrolledStudentRow } from '../academics/academics.service.ts';
import { DEFAULT_PASSING_GRADE } from '../grades/grades.service.ts';
import { requireRole, requireScope, type Actor } from '../identity/actor.ts';
import type { IdentityService } from '../identity/identity.service.ts';
import type { GradeInput } from '../grades/grades.schemas.ts';
import type { GradesService } from '../grades/grades.service.ts';
import { gradesCsv, parseGradesCsv } from './gradebook-csv.ts';
import type { EffectiveRow, GradebookRepository, OfferingGradingRow, RecordRow } from './gradebook.repository.ts';
import type { GradebookOut, GradebookRowOut, HistoryOut, MyGradesOut } from './gradebook.schemas.ts';

/**
 * The teacher's view of grades: one offering's students against their effective grades (the
 * latest record per student, course and semester), with history, manual edits and CSV files.
 * Edits never change a record: they append one with source `ui` (or `csv`) through the same
 * durable writer as every other source, so the live dashboard and analytics see them too.
 */
export class GradebookService {
  constructor(
    private readonly repo: GradebookRepository,
    private readonly academics: AcademicsService,
    private readonly identity: IdentityService,
    private readonly grades: Pick<GradesService, 'append'>,
  ) {}

  /** The offering, if the actor may grade it: admins, or the teacher who teaches it. */
  async assertCanGrade(
    actor: Actor,
    offeringId: string,
    scope: 'grades:read' | 'grades:write',
  ): Promise<OfferingGradingRow> {
    requireRole(actor, 'admin', 'teacher');
    requireScope(actor, scope);
    await this.academics.assertCanManageOffering(actor, offeringId);
    const o = await this.repo.findOffering(offeringId);
    if (!o) throw notFound('Offering');
    return o;
  }

  private async rows(o: OfferingGradingRow, students?: EnrolledStudentRow[]): Promise<GradebookRowOut[]> {
    const enrolled = students ?? (await this.academics.listEnrolledStudents(o.id));
    const codes = enrolled.map((s) => s.student_code).filter((c): c is string => !!c);
    const effective = new Map<string, EffectiveRow>();
    for (const e of await this.repo.listEffective(o.course_code, o.year, o.term, codes))
      effective.set(e.student_code, e);
    return enrolled.map((s) => {
      const e = s.student_code ? effective.get(s.student_code) : undefined;
      const score = e ? toScore(e.score_x100) : null;
      return {
        studentId: s.student_id,
        studentCode: s.student_code,
        fullName: s.full_name,
        score,
        passed: score === null ? null : score >= o.passing_grade,
        source: e?.source ?? null,
        updatedAt: e ? toIso(e.received_at) : null,
      };
    });
  }

  async getGradebook(actor: Actor, offeringId: string): Promise<GradebookOut> {
    const o = await this.assertCanGrade(actor, offeringId, 'grades:read');
    const students = await this.rows(o);
    const graded = students.filter((s) => s.score !== null);
    const passed = graded.filter((s) => s.passed).length;
    const average = graded.length ? graded.reduce((sum, s) => sum + s.score!, 0) / graded.length : null;
    return {
      offering: {
        id: o.id,
        courseCode: o.course_code,
        courseName: o.course_name,
        semesterCode: o.semester_code,
        year: o.year,
        term: o.term,
        section: o.section,
        teacherName: o.teacher_name,
        passingGrade: o.passing_grade,
      },
      summary: {
        enrolled: students.length,
        graded: graded.length,
        passed,
        failed: graded.length - passed,
        average: average === null ? null : Math.round(average * 100) / 100,
      },
      students,
    };
  }

  private async enrolledByCode(o: OfferingGradingRow): Promise<Map<string, EnrolledStudentRow>> {
    const byCode = new Map<string, EnrolledStudentRow>();
    for (const s of await this.academics.listEnrolledStudents(o.id)) {
      if (s.student_code) byCode.set(s.student_code.toLowerCase(), s);
    }
    return byCode;
  }

  async history(actor: Actor, offeringId: string, studentCode: string): Promise<HistoryOut> {
    const o = await this.assertCanGrade(actor, offeringId, 'grades:read');
    const student = (await this.enrolledByCode(o)).get(studentCode.toLowerCase());
    if (!student?.student_code) throw notEnrolled(studentCode);
    const rows = await this.repo.listHistory(student.student_code, {
      course: o.course_code,
      year: o.year,
      semester: o.term,
    });
    return {
      studentCode: student.student_code,
      studentName: student.full_name,
      passingGrade: o.passing_grade,
      records: rows.map((r) => ({
        id: r.id,
        score: toScore(r.score_x100),
        source: r.source,
        createdBy: r.created_by ? { id: r.created_by, name: r.created_by_name ?? 'Deleted user' } : null,
        receivedAt: toIso(r.received_at)!,
      })),
    };
  }

  /** A manual entry or correction: appends a `ui` record and leaves an audit entry. */
  async setGrade(actor: Actor, offeringId: string, studentCode: string, score: number): Promise<GradebookRowOut> {
    const o = await this.assertCanGrade(actor, offeringId, 'grades:write');
    const student = (await this.enrolledByCode(o)).get(studentCode.toLowerCase());
    if (!student?.student_code) throw notEnrolled(studentCode);
    const [before] = await this.rows(o, [student]);
    await this.grades.append(
      actor,
      [
        {
          student_code: student.student_code,
          student_name: student.full_name,
          course_code: o.course_code,
          semester: termOf(o),
          year: o.year,
          score,
        },
      ],
      'ui',
    );
    await this.identity.audit(actor, 'grade.edit', 'offering', o.id, {
      studentCode: student.student_code,
      course: o.course_code,
      year: o.year,
      semester: o.term,
      score,
      previous: before.score,
    });
    const [after] = await this.rows(o, [student]);
    return after;
  }

  /**
   * Imports a CSV of grades, all rows or none: every row is checked (shape, then enrolment)
   * before anything is written, and every problem is reported with its line. Each row carries an
   * idempotency key made of the file's hash and its line, so sending the same file again (a
   * retried upload) stores nothing twice.
   */
  async importCsv(actor: Actor, offeringId: string, data: Buffer) {
    const o = await this.assertCanGrade(actor, offeringId, 'grades:write');
    const { rows, errors, skipped } = parseGradesCsv(data);
    const byCode = await this.enrolledByCode(o);
    for (const r of rows) {
      if (!byCode.has(r.studentCode.toLowerCase())) {
        errors.push({ line: r.line, message: `student ${r.studentCode} is not enrolled in this offering` });
      }
    }
    if (errors.length > 0) {
      errors.sort((a, b) => a.line - b.line);
      throw new AppError(
        'csv_invalid',
        400,
        `${errors.length} line(s) of the file have problems; nothing was imported`,
        { errors },
      );
    }
    const fileKey = createHash('sha256').update(o.id).update(data).digest('hex').slice(0, 24);
    const records: GradeInput[] = rows.map((r) => {
      const s = byCode.get(r.studentCode.toLowerCase())!;
      return {
        student_code: s.student_code!,
        student_name: s.full_name,
        course_code: o.course_code,
        semester: termOf(o),
        year: o.year,
        score: r.score,
        idempotency_key: `csv-${fileKey}-${r.line}`,
      };
    });
    const { accepted, duplicates } = await this.grades.append(actor, records, 'csv');
    const result = { rows: rows.length, accepted, duplicates, skipped };
    await this.identity.audit(actor, 'grade.import', 'offering', o.id, {
      course: o.course_code,
      year: o.year,
      semester: o.term,
      ...result,
    });
    return result;
  }

  async exportCsv(actor: Actor, offeringId: string): Promise<{ filename: string; csv: string }> {
    const o = await this.assertCanGrade(actor, offeringId, 'grades:read');
    const rows = await this.rows(o);
    const csv = gradesCsv(
      rows.map((r) => ({
        studentCode: r.studentCode ?? '',
        studentName: r.fullName,
        score: r.score,
        status: r.passed === null ? 'not graded' : r.passed ? 'passed' : 'failed',
        updatedAt: r.updatedAt,
      })),
    );
    const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '');
    return { filename: `${safe(o.course_code)}-${o.year}-${o.term}-${safe(o.section)}-grades.csv`, csv };
  }

  /** A student's own effective grades, with every record behind each. */
  async myGrades(actor: Actor): Promise<MyGradesOut> {
    requireRole(actor, 'student');
    requireScope(actor, 'grades:read');
    if (!actor.studentCode) return { studentCode: null, grades: [] };
    const [effective, records] = await Promise.all([
      this.repo.listEffectiveOfStudent(actor.studentCode),
      this.repo.listHistory(actor.studentCode),
    ]);
    const history = new Map<string, RecordRow[]>();
    for (const r of records) {
      const key = `${r.course_code}\u0000${r.year}\u0000${r.semester}`;
      const list = history.get(key);
      if (list) list.push(r);
      else history.set(key, [r]);
    }
    const courses = new Map(
      (await this.repo.listCoursesByCodes([...new Set(effective.map((e) => e.course_code))])).map((c) => [c.code, c]),
    );
    const grades = effective.map((e) => {
      const course = courses.get(e.course_code);
      const passingGrade = course?.passing_grade ?? DEFAULT_PASSING_GRADE;
      const score = toScore(e.score_x100);
      return {
        course: e.course_code,
        courseName: course?.name ?? null,
        year: e.year,
        semester: e.semester,
        score,
        passed: score >= passingGrade,
        passingGrade,
        updatedAt: toIso(e.received_at)!,
        history: (history.get(`${e.course_code}\u0000${e.year}\u0000${e.semester}`) ?? []).map((r) => ({
          score: toScore(r.score_x100),
          source: r.source,
          receivedAt: toIso(r.received_at)!,
        })),
      };
    });
    grades.sort((a, b) => b.year - a.year || b.semester - a.semester || a.course.localeCompare(b.course));
    return { studentCode: actor.studentCode, grades };
  }
}

/** Grade records name terms 1 and 2; a semester of another term cannot be graded. */
function termOf(o: OfferingGradingRow): 1 | 2 {
  if (o.term === 1 || o.term === 2) return o.term;
  throw new AppError('unsupported_term', 409, `Grades are kept for terms 1 and 2; this semester is term ${o.term}`);
}

// Scores are stored as integer hundredths.
const toScore = (x100: number): number => x100 / 100;

function notEnrolled(studentCode: string): AppError {
  return new AppError('not_enrolled', 404, `No student with code ${studentCode} is enrolled in this offering`);
}
