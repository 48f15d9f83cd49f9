import type { Insertable } from 'kysely';
import type { Db } from '../../platform/db/database.ts';
import type { GradeEffectiveTable, GradeRecordsTable } from '../../platform/db/tables/grades.ts';
import {
  effectiveKey,
  firstOccurrences,
  RetryableCommitError,
  SummaryDeltas,
  type CommitResult,
  type CommitUnit,
  type EffectiveState,
  type PreparedGrade,
} from './commit.ts';
import type { BucketDeltaRow, GradesRepository, GroupDeltaRow } from './grades.repository.ts';

/**
 * The scaled path (MySQL/MariaDB, PostgreSQL): one transaction of multi-row statements per commit.
 * Effective grades of the students involved are locked first, so summaries are computed from
 * the true previous state; if another process slipped in anyway, the commit is retried.
 */
export class KyselyCommitter {
  constructor(
    private readonly db: Db,
    private readonly repo: GradesRepository,
  ) {}

  commit(units: readonly CommitUnit[]): Promise<CommitResult> {
    return this.db.kysely.transaction().execute((trx) => this.apply(this.repo.withExecutor(trx), units));
  }

  private async apply(repo: GradesRepository, units: readonly CommitUnit[]): Promise<CommitResult> {
    const firsts = firstOccurrences(units);
    const fresh: PreparedGrade[] = [];
    units.forEach((u, ui) => u.grades.forEach((g, gi) => firsts[ui][gi] && fresh.push(g)));

    const { users, courses } = await repo.findLinks(
      unique(fresh.map((g) => g.studentCode)),
      unique(fresh.map((g) => g.courseCode)),
    );
    const link = (g: PreparedGrade) => ({
      studentId: users.get(g.studentCode) ?? null,
      courseId: courses.get(g.courseCode) ?? null,
    });

    const rows: Insertable<GradeRecordsTable>[] = fresh.map((g) => ({
      id: g.id,
      student_code: g.studentCode,
      student_name: g.studentName,
      course_code: g.courseCode,
      year: g.year,
      semester: g.semester,
      score_x100: g.scoreX100,
      source: g.source,
      idempotency_key: g.idempotencyKey,
      received_at: g.receivedAt,
      created_by: g.createdBy,
      student_id: link(g).studentId,
      course_id: link(g).courseId,
    }));
    let inserted = await repo.insertRecords(rows);
    if (inserted === null) {
      // MySQL does not say which rows it skipped: a keyed record is ours if the stored id is ours.
      const keyed = fresh.filter((g) => g.idempotencyKey !== null);
      const stored = await repo.findRecordIdsByKeys(keyed.map((g) => g.idempotencyKey!));
      inserted = new Set(
        fresh.filter((g) => g.idempotencyKey === null || stored.get(g.idempotencyKey) === g.id).map((g) => g.id),
      );
    }
    const insertedIds = inserted;

    const accepted = fresh.filter((g) => insertedIds.has(g.id));
    const locked = await repo.lockEffectiveOfStudents(unique(accepted.map((g) => g.studentCode)));
    const state = new Map<string, EffectiveState>();
    for (const r of locked) {
      state.set(`${r.course_code}|${r.year}|${r.semester}|${r.student_code}`, {
        scoreX100: Number(r.score_x100),
        recordId: r.record_id,
      });
    }

    const deltas = new SummaryDeltas();
    const writes = new Map<string, { action: 'insert' | 'update'; grade: PreparedGrade }>();
    const results = units.map((u, ui) => {
      let acc = 0;
      let dup = 0;
      u.grades.forEach((g, gi) => {
        if (!firsts[ui][gi] || !insertedIds.has(g.id)) {
          dup++;
          deltas.duplicate();
          return;
        }
        acc++;
        const k = effectiveKey(g);
        const action = deltas.record(g, state.get(k));
        if (action === 'keep') return;
        state.set(k, { scoreX100: g.scoreX100, recordId: g.id });
        const before = writes.get(k);
        writes.set(k, { action: before?.action ?? action, grade: g });
      });
      return { accepted: acc, duplicates: dup };
    });

    const effective: Insertable<GradeEffectiveTable>[] = [...writes.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, { grade: g }]) => ({
        course_code: g.courseCode,
        year: g.year,
        semester: g.semester,
        student_code: g.studentCode,
        student_name: g.studentName,
        score_x100: g.scoreX100,
        record_id: g.id,
        received_at: g.receivedAt,
        student_id: link(g).studentId,
        course_id: link(g).courseId,
      }));
    const expectInserts = [...writes.values()].filter((w) => w.action === 'insert').length;
    const written = await repo.upsertEffective(effective);
    if (written.inserted !== expectInserts || written.updated !== effective.length - expectInserts) {
      throw new RetryableCommitError('Another writer changed the same effective grades; retrying');
    }

    const now = Date.now();
    const groupRows: GroupDeltaRow[] = [];
    const bucketRows: BucketDeltaRow[] = [];
    for (const d of deltas.groups.values()) {
      groupRows.push({
        course_code: d.course,
        year: d.year,
        semester: d.semester,
        records: d.records,
        students: d.newStudents,
        sum_x100: d.sumX100,
        updated_at: now,
      });
      for (const [bucket, n] of d.buckets) {
        bucketRows.push({ course_code: d.course, year: d.year, semester: d.semester, bucket, students: n });
      }
    }
    // One lock order for every process: concurrent writers queue on these rows instead of deadlocking.
    const order = (a: { course_code: string; year: number; semester: number }, b: typeof a) =>
      a.course_code < b.course_code
        ? -1
        : a.course_code > b.course_code
          ? 1
          : a.year - b.year || a.semester - b.semester;
    await repo.addGroupDeltas(groupRows.sort(order));
    await repo.addBucketDeltas(bucketRows.sort((a, b) => order(a, b) || a.bucket - b.bucket));
    return { units: results, summary: deltas.summary() };
  }
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}
