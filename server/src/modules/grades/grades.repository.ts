import { sql, type Insertable, type Selectable } from 'kysely';
import type { DialectName, Executor } from '../../platform/db/database.ts';
import type { GradeEffectiveTable, GradeGroupsTable, GradeRecordsTable } from '../../platform/db/tables/grades.ts';
import type { GroupFilter } from './grades.schemas.ts';

export type GradeRecordRow = Selectable<GradeRecordsTable>;
export type GradeEffectiveRow = Selectable<GradeEffectiveTable>;
export type GradeGroupRow = Selectable<GradeGroupsTable>;

export interface EffectiveLockRow {
  course_code: string;
  year: number;
  semester: number;
  student_code: string;
  score_x100: number;
  record_id: string;
}

export interface RankRow {
  student_code: string;
  score_x100: number;
}

export interface CandidateScoreRow {
  student_code: string;
  student_name: string;
  score_x100: number;
  record_id: string;
}

export interface GroupDeltaRow {
  course_code: string;
  year: number;
  semester: number;
  records: number;
  students: number;
  sum_x100: number;
  updated_at: number;
}

export interface BucketDeltaRow {
  course_code: string;
  year: number;
  semester: number;
  bucket: number;
  students: number;
}

/** Rows per multi-row statement: 13 parameters each stays far below every dialect's limit. */
const CHUNK = 500;
function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const num = (v: unknown): number => Number(v ?? 0);

export interface EffectiveKey {
  course: string;
  year: number;
  semester: number;
  student: string;
}

const toKey = (r: { student_code: string; course_code: string; year: number; semester: number }): EffectiveKey => ({
  course: r.course_code,
  year: Number(r.year),
  semester: Number(r.semester),
  student: r.student_code,
});

export class GradesRepository {
  constructor(
    private readonly db: Executor,
    readonly dialect: DialectName,
  ) {}

  withExecutor(db: Executor): GradesRepository {
    return new GradesRepository(db, this.dialect);
  }

  // ---- writer (MySQL/MariaDB and PostgreSQL; SQLite uses prepared statements) ---------------

  /**
   * Inserts records, skipping those whose idempotency key is already stored. On PostgreSQL the
   * ids actually inserted come back; on MySQL the caller asks with `findRecordIdsByKeys`.
   */
  async insertRecords(rows: readonly Insertable<GradeRecordsTable>[]): Promise<Set<string> | null> {
    if (this.dialect === 'postgres') {
      const inserted = new Set<string>();
      for (const part of chunks(rows)) {
        const r = await this.db
          .insertInto('grade_records')
          .values(part)
          .onConflict((oc) => oc.column('idempotency_key').doNothing())
          .returning('id')
          .execute();
        for (const x of r) inserted.add(x.id);
      }
      return inserted;
    }
    for (const part of chunks(rows)) {
      // A no-op update instead of INSERT IGNORE, which would also turn real errors into warnings.
      await this.db
        .insertInto('grade_records')
        .values(part)
        .onDuplicateKeyUpdate({ idempotency_key: sql<string>`idempotency_key` })
        .execute();
    }
    return null;
  }

  async findRecordIdsByKeys(keys: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const part of chunks(keys)) {
      const rows = await this.db
        .selectFrom('grade_records')
        .select(['id', 'idempotency_key'])
        .where('idempotency_key', 'in', part)
        .execute();
      for (const r of rows) out.set(r.idempotency_key!, r.id);
    }
    return out;
  }

  /** The effective grades of these students, locked until the transaction ends. */
  async lockEffectiveOfStudents(codes: readonly string[]): Promise<EffectiveLockRow[]> {
    const out: EffectiveLockRow[] = [];
    for (const part of chunks([...codes].sort())) {
      const rows = await this.db
        .selectFrom('grade_effective')
        .select(['course_code', 'year', 'semester', 'student_code', 'score_x100', 'record_id'])
        .where('student_code', 'in', part)
        .orderBy('student_code')
        .forUpdate()
        .execute();
      out.push(...rows);
    }
    return out;
  }

  /**
   * Writes effective grades the caller has already decided on (rows are locked). Returns, per
   * row, whether SQL inserted it, so the caller can detect a concurrent writer that got there first.
   */
  async upsertEffective(
    rows: readonly Insertable<GradeEffectiveTable>[],
  ): Promise<{ inserted: number; updated: number }> {
    let inserted = 0;
    let updated = 0;
    for (const part of chunks(rows)) {
      if (this.dialect === 'postgres') {
        const r = await this.db
          .insertInto('grade_effective')
          .values(part)
          .onConflict((oc) =>
            oc
              .columns(['course_code', 'year', 'semester', 'student_code'])
              .doUpdateSet((eb) => ({
                student_name: eb.ref('excluded.student_name'),
                score_x100: eb.ref('excluded.score_x100'),
                record_id: eb.ref('excluded.record_id'),
                received_at: eb.ref('excluded.received_at'),
                student_id: eb.ref('excluded.student_id'),
                course_id: eb.ref('excluded.course_id'),
              }))
              .where('grade_effective.record_id', '<', (eb) => eb.ref('excluded.record_id')),
          )
          .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
          .execute();
        for (const x of r) {
          if (x.inserted) inserted++;
          else updated++;
        }
      } else {
        const r = await this.db
          .insertInto('grade_effective')
          .values(part)
          .onDuplicateKeyUpdate({
            student_name: sql<string>`values(student_name)`,
            score_x100: sql<number>`values(score_x100)`,
            record_id: sql<string>`values(record_id)`,
            received_at: sql<number>`values(received_at)`,
            student_id: sql<string | null>`values(student_id)`,
            course_id: sql<string | null>`values(course_id)`,
          })
          .executeTakeFirst();
        // MySQL reports 1 per inserted row and 2 per changed row.
        const affected = Number(r.numInsertedOrUpdatedRows ?? 0n);
        const ups = affected - part.length;
        updated += ups;
        inserted += part.length - ups;
      }
    }
    return { inserted, updated };
  }

  async addGroupDeltas(rows: readonly GroupDeltaRow[]): Promise<void> {
    if (rows.length === 0) return;
    for (const part of chunks(rows)) {
      const q = this.db.insertInto('grade_groups').values(part);
      if (this.dialect === 'postgres') {
        await q
          .onConflict((oc) =>
            oc.columns(['course_code', 'year', 'semester']).doUpdateSet({
              records: sql<number>`grade_groups.records + excluded.records`,
              students: sql<number>`grade_groups.students + excluded.students`,
              sum_x100: sql<number>`grade_groups.sum_x100 + excluded.sum_x100`,
              updated_at: sql<number>`excluded.updated_at`,
            }),
          )
          .execute();
      } else {
        await q
          .onDuplicateKeyUpdate({
            records: sql<number>`records + values(records)`,
            students: sql<number>`students + values(students)`,
            sum_x100: sql<number>`sum_x100 + values(sum_x100)`,
            updated_at: sql<number>`values(updated_at)`,
          })
          .execute();
      }
    }
  }

  async addBucketDeltas(rows: readonly BucketDeltaRow[]): Promise<void> {
    if (rows.length === 0) return;
    for (const part of chunks(rows)) {
      const q = this.db.insertInto('grade_buckets').values(part);
      if (this.dialect === 'postgres') {
        await q
          .onConflict((oc) =>
            oc
              .columns(['course_code', 'year', 'semester', 'bucket'])
              .doUpdateSet({ students: sql<number>`grade_buckets.students + excluded.students` }),
          )
          .execute();
      } else {
        await q.onDuplicateKeyUpdate({ students: sql<number>`students + values(students)` }).execute();
      }
    }
  }

  /**
   * Users by student code and courses by code, in one round trip per chunk: on a networked
   * database every round trip of the commit adds to every request's wait.
   */
  async findLinks(
    studentCodes: readonly string[],
    courseCodes: readonly string[],
  ): Promise<{ users: Map<string, string>; courses: Map<string, string> }> {
    const users = new Map<string, string>();
    const courses = new Map<string, string>();
    const parts = chunks(studentCodes, 1000);
    if (parts.length === 0) parts.push([]);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      const wantCourses = i === 0 && courseCodes.length > 0;
      if (part.length === 0 && !wantCourses) continue;
      const userQuery = this.db
        .selectFrom('users')
        .select([sql<string>`'u'`.as('kind'), sql<string>`student_code`.as('code'), 'id'])
        .where('student_code', 'in', part.length ? part : ['']);
      const rows = wantCourses
        ? await userQuery
            .unionAll(
              this.db
                .selectFrom('courses')
                .select([sql<string>`'c'`.as('kind'), sql<string>`code`.as('code'), 'id'])
                .where('code', 'in', courseCodes),
            )
            .execute()
        : await userQuery.execute();
      for (const r of rows) (r.kind === 'u' ? users : courses).set(r.code, r.id);
    }
    return { users, courses };
  }

  // ---- analytics -----------------------------------------------------------------------------

  async sumRecords(f: GroupFilter): Promise<number> {
    const r = await this.filterGroups(f)
      .select((eb) => eb.fn.sum<number>('records').as('n'))
      .executeTakeFirst();
    return num(r?.n);
  }

  async sumStudents(f: GroupFilter): Promise<number> {
    const r = await this.filterGroups(f)
      .select((eb) => eb.fn.sum<number>('students').as('n'))
      .executeTakeFirst();
    return num(r?.n);
  }

  /** Effective grades at or above / below each course's passing grade (61 for unknown courses). */
  async passFail(f: GroupFilter, defaultPassing: number): Promise<{ passed: number; failed: number }> {
    let q = this.db
      .selectFrom('grade_buckets as b')
      .leftJoin('courses as c', 'c.code', 'b.course_code')
      .select([
        sql<number>`sum(case when b.bucket >= coalesce(c.passing_grade, ${defaultPassing}) then b.students else 0 end)`.as(
          'passed',
        ),
        sql<number>`sum(case when b.bucket < coalesce(c.passing_grade, ${defaultPassing}) then b.students else 0 end)`.as(
          'failed',
        ),
      ]);
    if (f.course !== undefined) q = q.where('b.course_code', '=', f.course);
    if (f.year !== undefined) q = q.where('b.year', '=', f.year);
    if (f.semester !== undefined) q = q.where('b.semester', '=', f.semester);
    const r = await q.executeTakeFirst();
    return { passed: num(r?.passed), failed: num(r?.failed) };
  }

  async topCourses(f: GroupFilter, limit: number): Promise<{ course: string; students: number }[]> {
    const rows = await this.filterGroups(f)
      .select(['course_code', (eb) => eb.fn.sum<number>('students').as('students')])
      .groupBy('course_code')
      .orderBy('students', 'desc')
      .orderBy('course_code', 'asc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ course: r.course_code, students: num(r.students) }));
  }

  /**
   * Effective grades from the highest score down (ties by student code), after a keyset position.
   * Served by grade_effective_rank_idx without sorting.
   */
  rankPage(f: GroupFilter, after: RankRow | null, limit: number): Promise<RankRow[]> {
    let q = this.db.selectFrom('grade_effective').select(['student_code', 'score_x100']);
    if (f.year !== undefined) q = q.where('year', '=', f.year);
    if (f.semester !== undefined) q = q.where('semester', '=', f.semester);
    if (after) {
      q = q
        .where('score_x100', '<=', after.score_x100)
        .where((eb) =>
          eb.or([
            eb('score_x100', '<', after.score_x100),
            eb.and([eb('score_x100', '=', after.score_x100), eb('student_code', '>', after.student_code)]),
          ]),
        );
    }
    return q.orderBy('score_x100', 'desc').orderBy('student_code', 'asc').limit(limit).execute();
  }

  /** Sum and count of each student's effective grades in scope. */
  async totalsOfStudents(
    codes: readonly string[],
    f: GroupFilter,
  ): Promise<{ student_code: string; sum: number; n: number }[]> {
    const out: { student_code: string; sum: number; n: number }[] = [];
    // Few, larger statements: on a networked database the walk's cost is mostly round trips.
    for (const part of chunks(codes, 2000)) {
      let q = this.db
        .selectFrom('grade_effective')
        .select([
          'student_code',
          (eb) => eb.fn.sum<number>('score_x100').as('sum'),
          (eb) => eb.fn.countAll<number>().as('n'),
        ])
        .where('student_code', 'in', part);
      if (f.year !== undefined) q = q.where('year', '=', f.year);
      if (f.semester !== undefined) q = q.where('semester', '=', f.semester);
      for (const r of await q.groupBy('student_code').execute())
        out.push({ student_code: r.student_code, sum: num(r.sum), n: num(r.n) });
    }
    return out;
  }

  async scoresOfStudents(codes: readonly string[], f: GroupFilter): Promise<CandidateScoreRow[]> {
    const out: CandidateScoreRow[] = [];
    for (const part of chunks(codes)) {
      let q = this.db
        .selectFrom('grade_effective')
        .select(['student_code', 'student_name', 'score_x100', 'record_id'])
        .where('student_code', 'in', part);
      if (f.year !== undefined) q = q.where('year', '=', f.year);
      if (f.semester !== undefined) q = q.where('semester', '=', f.semester);
      out.push(...(await q.execute()));
    }
    return out;
  }

  // ---- counters' source of truth ------------------------------------------------------------

  listGroups(): Promise<GradeGroupRow[]> {
    return this.db
      .selectFrom('grade_groups')
      .selectAll()
      .orderBy('course_code')
      .orderBy('year')
      .orderBy('semester')
      .execute();
  }

  /**
   * Every effective grade's group and student, in key order, a page of whole students at a time
   * (a page never splits one student's rows, so `after` is simply the last student returned).
   */
  async effectiveKeysPage(after: string | null, limit: number): Promise<{ keys: EffectiveKey[]; last: string | null }> {
    let q = this.db.selectFrom('grade_effective').select(['student_code', 'course_code', 'year', 'semester']);
    if (after !== null) q = q.where('student_code', '>', after);
    const rows = await q.orderBy('student_code').limit(limit).execute();
    if (rows.length === 0) return { keys: [], last: null };
    let keep = rows;
    if (rows.length === limit) {
      // The last student may continue on the next page: leave them whole for it.
      const lastCode = rows[rows.length - 1].student_code;
      keep = rows.filter((r) => r.student_code !== lastCode);
      if (keep.length === 0) {
        const all = await this.db
          .selectFrom('grade_effective')
          .select(['student_code', 'course_code', 'year', 'semester'])
          .where('student_code', '=', lastCode)
          .execute();
        return { keys: all.map(toKey), last: lastCode };
      }
    }
    return { keys: keep.map(toKey), last: keep[keep.length - 1].student_code };
  }

  async countRecords(): Promise<number> {
    const r = await this.db
      .selectFrom('grade_records')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return num(r?.n);
  }

  findRecordByKey(key: string): Promise<GradeRecordRow | undefined> {
    return this.db.selectFrom('grade_records').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
  }

  findEffective(
    course: string,
    year: number,
    semester: number,
    student: string,
  ): Promise<GradeEffectiveRow | undefined> {
    return this.db
      .selectFrom('grade_effective')
      .selectAll()
      .where('course_code', '=', course)
      .where('year', '=', year)
      .where('semester', '=', semester)
      .where('student_code', '=', student)
      .executeTakeFirst();
  }

  private filterGroups(f: GroupFilter) {
    let q = this.db.selectFrom('grade_groups');
    if (f.course !== undefined) q = q.where('course_code', '=', f.course);
    if (f.year !== undefined) q = q.where('year', '=', f.year);
    if (f.semester !== undefined) q = q.where('semester', '=', f.semester);
    return q;
  }
}
