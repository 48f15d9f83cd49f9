import type SQLite from 'better-sqlite3';
import { firstOccurrences, SummaryDeltas, type CommitResult, type CommitUnit, type EffectiveState } from './commit.ts';

/**
 * The embedded hot path: prepared statements on the raw better-sqlite3 handle, every unit of a
 * commit inside one synchronous transaction (one WAL fsync for all of them under synchronous=FULL).
 * Records, the effective grade, the group counts and the score histogram change together.
 */
export class SqliteCommitter {
  private readonly insertRecord: SQLite.Statement;
  private readonly findEffective: SQLite.Statement;
  private readonly insertEffective: SQLite.Statement;
  private readonly updateEffective: SQLite.Statement;
  private readonly addGroup: SQLite.Statement;
  private readonly addBucket: SQLite.Statement;
  private readonly findUser: SQLite.Statement;
  private readonly findCourse: SQLite.Statement;
  private readonly run: (units: readonly CommitUnit[]) => CommitResult;

  constructor(handle: SQLite.Database) {
    // The default 2 MB page cache thrashes once the grade indexes outgrow it; inserts land at
    // random places in the effective-grade and idempotency indexes.
    const cacheKib = Number(handle.pragma('cache_size', { simple: true }));
    if (cacheKib < 0 && cacheKib > -65536) handle.pragma('cache_size = -65536');

    this.insertRecord = handle.prepare(
      `insert into grade_records (id, student_code, student_name, course_code, year, semester, score_x100, source,
         idempotency_key, received_at, created_by, student_id, course_id)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (idempotency_key) do nothing`,
    );
    this.findEffective = handle
      .prepare(
        `select score_x100, record_id from grade_effective
         where course_code = ? and year = ? and semester = ? and student_code = ?`,
      )
      .raw(true);
    this.insertEffective = handle.prepare(
      `insert into grade_effective (course_code, year, semester, student_code, student_name, score_x100, record_id,
         received_at, student_id, course_id)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.updateEffective = handle.prepare(
      `update grade_effective set student_name = ?, score_x100 = ?, record_id = ?, received_at = ?, student_id = ?, course_id = ?
       where course_code = ? and year = ? and semester = ? and student_code = ?`,
    );
    this.addGroup = handle.prepare(
      `insert into grade_groups (course_code, year, semester, records, students, sum_x100, updated_at)
       values (?, ?, ?, ?, ?, ?, ?)
       on conflict (course_code, year, semester) do update set
         records = records + excluded.records, students = students + excluded.students,
         sum_x100 = sum_x100 + excluded.sum_x100, updated_at = excluded.updated_at`,
    );
    this.addBucket = handle.prepare(
      `insert into grade_buckets (course_code, year, semester, bucket, students) values (?, ?, ?, ?, ?)
       on conflict (course_code, year, semester, bucket) do update set students = students + excluded.students`,
    );
    this.findUser = handle.prepare('select id from users where student_code = ?').pluck(true);
    this.findCourse = handle.prepare('select id from courses where code = ?').pluck(true);
    this.run = handle.transaction((units: readonly CommitUnit[]) => this.apply(units));
  }

  commit(units: readonly CommitUnit[]): CommitResult {
    return this.run(units);
  }

  private apply(units: readonly CommitUnit[]): CommitResult {
    const deltas = new SummaryDeltas();
    const firsts = firstOccurrences(units);
    const users = new Map<string, string | null>();
    const courses = new Map<string, string | null>();
    const results = units.map((unit, u) => {
      let accepted = 0;
      let duplicates = 0;
      for (let i = 0; i < unit.grades.length; i++) {
        const g = unit.grades[i];
        if (!firsts[u][i]) {
          duplicates++;
          deltas.duplicate();
          continue;
        }
        let studentId = users.get(g.studentCode);
        if (studentId === undefined) {
          studentId = (this.findUser.get(g.studentCode) as string | undefined) ?? null;
          users.set(g.studentCode, studentId);
        }
        let courseId = courses.get(g.courseCode);
        if (courseId === undefined) {
          courseId = (this.findCourse.get(g.courseCode) as string | undefined) ?? null;
          courses.set(g.courseCode, courseId);
        }
        const info = this.insertRecord.run(
          g.id,
          g.studentCode,
          g.studentName,
          g.courseCode,
          g.year,
          g.semester,
          g.scoreX100,
          g.source,
          g.idempotencyKey,
          g.receivedAt,
          g.createdBy,
          studentId,
          courseId,
        );
        if (info.changes === 0) {
          duplicates++;
          deltas.duplicate();
          continue;
        }
        accepted++;
        const row = this.findEffective.get(g.courseCode, g.year, g.semester, g.studentCode) as
          [number, string] | undefined;
        const previous: EffectiveState | undefined = row ? { scoreX100: row[0], recordId: row[1] } : undefined;
        const action = deltas.record(g, previous);
        if (action === 'insert') {
          this.insertEffective.run(
            g.courseCode,
            g.year,
            g.semester,
            g.studentCode,
            g.studentName,
            g.scoreX100,
            g.id,
            g.receivedAt,
            studentId,
            courseId,
          );
        } else if (action === 'update') {
          this.updateEffective.run(
            g.studentName,
            g.scoreX100,
            g.id,
            g.receivedAt,
            studentId,
            courseId,
            g.courseCode,
            g.year,
            g.semester,
            g.studentCode,
          );
        }
      }
      return { accepted, duplicates };
    });
    const now = Date.now();
    for (const d of deltas.groups.values()) {
      this.addGroup.run(d.course, d.year, d.semester, d.records, d.newStudents, d.sumX100, now);
      for (const [bucket, n] of d.buckets) this.addBucket.run(d.course, d.year, d.semester, bucket, n);
    }
    return { units: results, summary: deltas.summary() };
  }
}
