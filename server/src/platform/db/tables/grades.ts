export type GradeSource = 'rest' | 'grpc' | 'ui' | 'csv';

/** Append-only: every grade ever received. Scores are integer hundredths, so 61.15 is stored as 6115. */
export interface GradeRecordsTable {
  /** Time-ordered and monotonic within a process: a larger id is a later record. */
  id: string;
  student_code: string;
  student_name: string;
  course_code: string;
  year: number;
  semester: number;
  score_x100: number;
  source: GradeSource;
  idempotency_key: string | null;
  received_at: number;
  created_by: string | null;
  student_id: string | null;
  course_id: string | null;
}

/** The effective grade: the latest record per (course, year, semester, student), kept in the ingest transaction. */
export interface GradeEffectiveTable {
  course_code: string;
  year: number;
  semester: number;
  student_code: string;
  student_name: string;
  score_x100: number;
  record_id: string;
  received_at: number;
  student_id: string | null;
  course_id: string | null;
}

/** One row per (course, year, semester): all records received and the distinct students graded there. */
export interface GradeGroupsTable {
  course_code: string;
  year: number;
  semester: number;
  records: number;
  students: number;
  /** Sum of the effective scores, in hundredths (course averages without a scan). */
  sum_x100: number;
  updated_at: number;
}

/** Histogram of effective scores per group: `bucket` is the whole part of the score (0..100). */
export interface GradeBucketsTable {
  course_code: string;
  year: number;
  semester: number;
  bucket: number;
  students: number;
}

export interface GradesTables {
  grade_records: GradeRecordsTable;
  grade_effective: GradeEffectiveTable;
  grade_groups: GradeGroupsTable;
  grade_buckets: GradeBucketsTable;
}
