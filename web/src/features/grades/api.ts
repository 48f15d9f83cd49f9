import { api, API_BASE } from '../../app/api.ts';

// ---- live counters (Socket.IO) ---------------------------------------------------------------

/** Counters of one course in one semester (`semester` is the term number, 1 or 2). */
export interface GroupCounters {
  course: string;
  year: number;
  semester: number;
  records: number;
  students: number;
}

/** `grades:counters`: the snapshot on join holds every group, later updates only changed ones. */
export interface GradeCounters {
  total: number;
  groups: GroupCounters[];
}

export const groupKey = (g: { course: string; year: number; semester: number }) =>
  `${g.course}:${g.year}-${g.semester}`;

export const semesterKey = (g: { year: number; semester: number }) => `${g.year}-${g.semester}`;

export function parseSemesterKey(key: string): { year: number; semester: number } | undefined {
  const m = /^(\d{4})-(\d{1,2})$/.exec(key);
  return m ? { year: Number(m[1]), semester: Number(m[2]) } : undefined;
}

// ---- analytics (static charts) ---------------------------------------------------------------

export interface AnalyticsFilter {
  course?: string;
  year?: number;
  semester?: number;
}

export interface TopCourse {
  course: string;
  students: number;
}

export interface TopStudent {
  studentCode: string;
  studentName: string;
  average: number;
}

export const analyticsApi = {
  total: () => api.get<{ total: number }>('/analytics/grades/total'),
  passFail: (f: AnalyticsFilter, signal?: AbortSignal) =>
    api.get<{ passed: number; failed: number }>('/analytics/grades/pass-fail', { ...f }, signal),
  topCourses: (f: Omit<AnalyticsFilter, 'course'>, limit = 3, signal?: AbortSignal) =>
    api.get<TopCourse[]>('/analytics/grades/top-courses', { ...f, limit }, signal),
  topStudents: (f: Omit<AnalyticsFilter, 'course'>, limit = 5, signal?: AbortSignal) =>
    api.get<TopStudent[]>('/analytics/grades/top-students', { ...f, limit }, signal),
};

// ---- gradebook -------------------------------------------------------------------------------

export type GradeSource = 'rest' | 'grpc' | 'ui' | 'csv';

export interface GradebookOffering {
  id: string;
  courseCode: string;
  courseName: string;
  semesterCode: string;
  year: number;
  term: number;
  section: string;
  teacherName: string | null;
  passingGrade: number;
}

export interface GradebookRow {
  studentId: string;
  studentCode: string | null;
  fullName: string;
  score: number | null;
  passed: boolean | null;
  source: GradeSource | null;
  updatedAt: string | null;
}

export interface Gradebook {
  offering: GradebookOffering;
  summary: { enrolled: number; graded: number; passed: number; failed: number; average: number | null };
  students: GradebookRow[];
}

export interface GradeHistoryEntry {
  id: string;
  score: number;
  source: GradeSource;
  createdBy: { id: string; name: string } | null;
  receivedAt: string;
}

export interface GradeHistory {
  studentCode: string;
  studentName: string;
  passingGrade: number;
  records: GradeHistoryEntry[];
}

export interface ImportResult {
  rows: number;
  accepted: number;
  duplicates: number;
  /** Rows without a score (students not graded yet), left out. */
  skipped: number;
}

export interface MyGrade {
  course: string;
  courseName: string | null;
  year: number;
  semester: number;
  score: number;
  passed: boolean;
  passingGrade: number;
  updatedAt: string;
  history: { score: number; source: GradeSource; receivedAt: string }[];
}

const offeringPath = (id: string) => `/offerings/${encodeURIComponent(id)}/gradebook`;

export const gradebookApi = {
  get: (offeringId: string) => api.get<Gradebook>(offeringPath(offeringId)),
  history: (offeringId: string, studentCode: string) =>
    api.get<GradeHistory>(`${offeringPath(offeringId)}/${encodeURIComponent(studentCode)}/history`),
  setGrade: (offeringId: string, studentCode: string, score: number) =>
    api.post<GradebookRow>(offeringPath(offeringId), { studentCode, score }),
  importCsv: (offeringId: string, file: File) =>
    api.upload<ImportResult>('POST', `${offeringPath(offeringId)}/import`, file),
  /** A plain link: the browser downloads it with the session cookie. */
  exportUrl: (offeringId: string) => `${API_BASE}${offeringPath(offeringId)}/export.csv`,
  mine: () => api.get<{ studentCode: string | null; grades: MyGrade[] }>('/me/grades'),
};

export const SOURCE_LABELS: Record<GradeSource, string> = {
  rest: 'REST API',
  grpc: 'gRPC',
  ui: 'Gradebook',
  csv: 'CSV import',
};
