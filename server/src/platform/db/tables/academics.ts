import type { Generated } from 'kysely';

export interface SemestersTable {
  id: string;
  code: string;
  name: string;
  year: number;
  term: number;
  starts_on: string;
  ends_on: string;
  created_at: number;
}

export interface CoursesTable {
  id: string;
  code: string;
  name: string;
  description: string | null;
  passing_grade: Generated<number>;
  created_at: number;
}

export interface OfferingsTable {
  id: string;
  course_id: string;
  semester_id: string;
  section: Generated<string>;
  teacher_id: string | null;
  room: string | null;
  /** JSON: [{ "day": 1..7 (Mon..Sun), "start": "HH:MM", "end": "HH:MM" }] */
  schedule: Generated<string>;
  late_after_minutes: Generated<number>;
  created_at: number;
}

export interface EnrollmentsTable {
  id: string;
  offering_id: string;
  student_id: string;
  created_at: number;
}

export type ClassSessionStatus = 'scheduled' | 'open' | 'closed';

export interface ClassSessionsTable {
  id: string;
  offering_id: string;
  starts_at: number;
  ends_at: number;
  late_after_minutes: Generated<number>;
  status: Generated<ClassSessionStatus>;
  opened_at: number | null;
  closed_at: number | null;
  created_at: number;
}

export interface AcademicsTables {
  semesters: SemestersTable;
  courses: CoursesTable;
  offerings: OfferingsTable;
  enrollments: EnrollmentsTable;
  class_sessions: ClassSessionsTable;
}
