import type { GradeSource } from '../../platform/db/tables/grades.ts';
import type { NormalizedGrade } from './grades.schemas.ts';

/** A grade with everything the writer adds before it reaches SQL. */
export interface PreparedGrade extends NormalizedGrade {
  id: string;
  source: GradeSource;
  createdBy: string | null;
  receivedAt: number;
}

/** One caller's records: they commit together or not at all. */
export interface CommitUnit {
  grades: PreparedGrade[];
}

export interface EffectiveState {
  scoreX100: number;
  recordId: string;
}

/** What one commit changed in one (course, year, semester) group. */
export interface GroupDelta {
  course: string;
  year: number;
  semester: number;
  records: number;
  newStudents: number;
  sumX100: number;
  /** score bucket (whole points) → change in the number of effective grades there */
  buckets: Map<number, number>;
  /** students whose first effective grade in the group came with this commit */
  studentCodes: string[];
}

export interface CommitSummary {
  accepted: number;
  duplicates: number;
  groups: Map<string, GroupDelta>;
}

export interface UnitResult {
  accepted: number;
  duplicates: number;
}

export interface CommitResult {
  units: UnitResult[];
  summary: CommitSummary;
}

export const groupKey = (course: string, year: number, semester: number): string => `${course}|${year}|${semester}`;
export const effectiveKey = (g: NormalizedGrade): string => `${g.courseCode}|${g.year}|${g.semester}|${g.studentCode}`;
export const bucketOf = (scoreX100: number): number => Math.floor(scoreX100 / 100);

/** A transient failure the writer may retry: deadlocks, serialization failures, lost races. */
export class RetryableCommitError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryableCommitError';
  }
}

/**
 * Folds inserted records into summary deltas. Feed records in commit order; `previous` is the
 * effective grade before this record (from SQL, or from an earlier record of the same commit).
 * Returns the change to make to the effective row.
 */
export class SummaryDeltas {
  readonly groups = new Map<string, GroupDelta>();
  accepted = 0;
  duplicates = 0;

  duplicate(): void {
    this.duplicates++;
  }

  record(g: PreparedGrade, previous: EffectiveState | undefined): 'insert' | 'update' | 'keep' {
    this.accepted++;
    const key = groupKey(g.courseCode, g.year, g.semester);
    let d = this.groups.get(key);
    if (!d) {
      d = {
        course: g.courseCode,
        year: g.year,
        semester: g.semester,
        records: 0,
        newStudents: 0,
        sumX100: 0,
        buckets: new Map(),
        studentCodes: [],
      };
      this.groups.set(key, d);
    }
    d.records++;
    if (!previous) {
      d.newStudents++;
      d.sumX100 += g.scoreX100;
      bump(d.buckets, bucketOf(g.scoreX100), 1);
      d.studentCodes.push(g.studentCode);
      return 'insert';
    }
    // Another process may have committed a later record first; the latest record stays effective.
    if (g.id <= previous.recordId) return 'keep';
    d.sumX100 += g.scoreX100 - previous.scoreX100;
    bump(d.buckets, bucketOf(previous.scoreX100), -1);
    bump(d.buckets, bucketOf(g.scoreX100), 1);
    return 'update';
  }

  summary(): CommitSummary {
    return { accepted: this.accepted, duplicates: this.duplicates, groups: this.groups };
  }
}

function bump(m: Map<number, number>, k: number, by: number): void {
  const v = (m.get(k) ?? 0) + by;
  if (v === 0) m.delete(k);
  else m.set(k, v);
}

/**
 * Marks repeated idempotency keys within one commit: the first occurrence is stored, the rest
 * are duplicates. SQL enforces the same across commits.
 */
export function firstOccurrences(units: readonly CommitUnit[]): boolean[][] {
  const seen = new Set<string>();
  return units.map((u) =>
    u.grades.map((g) => {
      if (g.idempotencyKey === null) return true;
      if (seen.has(g.idempotencyKey)) return false;
      seen.add(g.idempotencyKey);
      return true;
    }),
  );
}
