import { api, type Page } from '../../app/api.ts';

export interface Semester {
  id: string;
  code: string;
  name: string;
  year: number;
  term: number;
  startsOn: string;
  endsOn: string;
}

export interface Course {
  id: string;
  code: string;
  name: string;
  description: string | null;
  passingGrade: number;
}

/** One weekly meeting: day 1..7 is Monday..Sunday, times are HH:MM in the school's time zone. */
export interface ScheduleSlot {
  day: number;
  start: string;
  end: string;
}

export interface Offering {
  id: string;
  courseId: string;
  courseCode: string;
  courseName: string;
  semesterId: string;
  semesterCode: string;
  section: string;
  teacherId: string | null;
  teacherName: string | null;
  room: string | null;
  schedule: ScheduleSlot[];
  lateAfterMinutes: number;
  enrolledCount: number;
}

export interface Enrollment {
  id: string;
  studentId: string;
  studentCode: string | null;
  fullName: string;
  email: string;
  enrolledAt: string;
}

export type SessionStatus = 'scheduled' | 'open' | 'closed';

export interface ClassSession {
  id: string;
  offeringId: string;
  startsAt: string;
  endsAt: string;
  lateAfterMinutes: number;
  status: SessionStatus;
}

export interface RosterResult {
  created: number;
  enrolled: number;
  alreadyEnrolled: number;
  rows: number;
}

export interface ListParams {
  limit?: number;
  offset?: number;
  q?: string;
  sort?: string;
  order?: 'asc' | 'desc';
}

export type SemesterInput = Omit<Semester, 'id'>;
export type CourseInput = { code: string; name: string; description?: string | null; passingGrade?: number };
export interface OfferingInput {
  courseId: string;
  semesterId: string;
  section?: string;
  teacherId?: string | null;
  room?: string | null;
  schedule?: ScheduleSlot[];
  lateAfterMinutes?: number;
}

const enc = encodeURIComponent;

export const academicsApi = {
  listSemesters: (p: ListParams = {}, signal?: AbortSignal) => api.get<Page<Semester>>('/semesters', { ...p }, signal),
  createSemester: (input: SemesterInput) => api.post<Semester>('/semesters', input),
  updateSemester: (id: string, patch: Partial<SemesterInput>) => api.patch<Semester>(`/semesters/${enc(id)}`, patch),
  deleteSemester: (id: string) => api.del(`/semesters/${enc(id)}`),

  listCourses: (p: ListParams = {}, signal?: AbortSignal) => api.get<Page<Course>>('/courses', { ...p }, signal),
  createCourse: (input: CourseInput) => api.post<Course>('/courses', input),
  updateCourse: (id: string, patch: Partial<CourseInput>) => api.patch<Course>(`/courses/${enc(id)}`, patch),
  deleteCourse: (id: string) => api.del(`/courses/${enc(id)}`),

  listOfferings: (
    p: ListParams & { semesterId?: string; courseId?: string; teacherId?: string } = {},
    signal?: AbortSignal,
  ) => api.get<Page<Offering>>('/offerings', { ...p }, signal),
  getOffering: (id: string) => api.get<Offering>(`/offerings/${enc(id)}`),
  createOffering: (input: OfferingInput) => api.post<Offering>('/offerings', input),
  updateOffering: (id: string, patch: Partial<OfferingInput>) => api.patch<Offering>(`/offerings/${enc(id)}`, patch),
  deleteOffering: (id: string) => api.del(`/offerings/${enc(id)}`),

  listEnrollments: (offeringId: string, p: ListParams = {}, signal?: AbortSignal) =>
    api.get<Page<Enrollment>>(`/offerings/${enc(offeringId)}/enrollments`, { ...p }, signal),
  enroll: (offeringId: string, studentId: string) =>
    api.post<Enrollment>(`/offerings/${enc(offeringId)}/enrollments`, { studentId }),
  unenroll: (offeringId: string, studentId: string) =>
    api.del(`/offerings/${enc(offeringId)}/enrollments/${enc(studentId)}`),
  importRoster: (offeringId: string, file: File) =>
    api.upload<RosterResult>('POST', `/offerings/${enc(offeringId)}/roster`, file),

  listSessions: (offeringId: string, p: ListParams & { from?: string; to?: string } = {}, signal?: AbortSignal) =>
    api.get<Page<ClassSession>>(`/offerings/${enc(offeringId)}/sessions`, { ...p }, signal),
  createSession: (offeringId: string, input: { startsAt: string; endsAt: string; lateAfterMinutes?: number }) =>
    api.post<ClassSession>(`/offerings/${enc(offeringId)}/sessions`, input),
  generateSessions: (offeringId: string, from: string, to: string) =>
    api.post<{ created: number; existing: number }>(`/offerings/${enc(offeringId)}/sessions/generate`, { from, to }),
  updateSession: (
    id: string,
    patch: { status?: SessionStatus; lateAfterMinutes?: number; startsAt?: string; endsAt?: string },
  ) => api.patch<ClassSession>(`/sessions/${enc(id)}`, patch),
  deleteSession: (id: string) => api.del(`/sessions/${enc(id)}`),

  myEnrollments: () => api.get<Page<Offering> | Offering[]>('/me/enrollments', { limit: 200 }),
};

export const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
export const DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** "Mon, Wed 07:00–08:40" style summary of a weekly schedule. */
export function scheduleSummary(schedule: ScheduleSlot[]): string {
  if (!schedule.length) return 'No schedule';
  const byTime = new Map<string, number[]>();
  for (const s of [...schedule].sort((a, b) => a.day - b.day || a.start.localeCompare(b.start))) {
    const key = `${s.start}–${s.end}`;
    byTime.set(key, [...(byTime.get(key) ?? []), s.day]);
  }
  return [...byTime.entries()].map(([time, days]) => `${days.map((d) => DAYS[d - 1]).join(', ')} ${time}`).join(' · ');
}

export const SESSION_STATUS_COLORS: Record<SessionStatus, string> = {
  scheduled: 'gray',
  open: 'teal',
  closed: 'blue',
};
