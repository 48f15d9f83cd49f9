import { api, request, type Page } from '../../app/api.ts';

export type AttendanceStatus = 'present' | 'late' | 'absent' | 'excused';
export type CaptureStatus = 'queued' | 'running' | 'done' | 'failed';
export type Box = [number, number, number, number];

export interface Capture {
  id: string;
  sessionId: string;
  offeringId: string;
  kind: 'photo' | 'video' | 'frame';
  source: 'upload' | 'webcam' | 'camera';
  status: CaptureStatus;
  progress: number;
  error: { code: string; message: string } | null;
  attempts: number;
  filename: string | null;
  contentType: string;
  sizeBytes: number;
  capturedAt: string;
  durationMs: number | null;
  width: number | null;
  height: number | null;
  framesDone: number;
  facesSeen: number;
  available: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Face {
  box: Box;
  trackId: string;
  studentId: string | null;
  name: string | null;
  known: boolean;
  confidence: number;
  distance: number | null;
  handRaised: boolean;
  facing: string | null;
  review: string;
}

export interface Frame {
  index: number;
  offsetMs: number;
  at: string;
  width: number;
  height: number;
  available: boolean;
  faces: Face[];
}

export interface RosterEntry {
  studentId: string;
  fullName: string;
  studentCode: string | null;
  status: AttendanceStatus | null;
  firstSeenAt: string | null;
  lastSeenAt: string | null;
  confidence: number | null;
  needsReview: boolean;
  confirmed: boolean;
  hasEvidence: boolean;
  source: 'camera' | 'manual' | 'face_login' | null;
  note: string | null;
  changedBy: { id: string; name: string | null } | null;
  changedAt: string | null;
  handRaises: number;
}

export interface Roster {
  sessionId: string;
  offeringId: string;
  sessionStatus: 'scheduled' | 'open' | 'closed';
  startsAt: string;
  endsAt: string;
  lateAfterMinutes: number;
  counts: {
    enrolled: number;
    present: number;
    late: number;
    absent: number;
    excused: number;
    unseen: number;
    needsReview: number;
    unknownFaces: number;
  };
  items: RosterEntry[];
}

export interface UnknownFace {
  id: string;
  captureId: string;
  trackId: string;
  firstSeenAt: string;
  lastSeenAt: string;
  observations: number;
  box: Box;
  quality: number;
  hasImage: boolean;
  nearest: { studentId: string; name: string | null; distance: number } | null;
  status: 'open' | 'assigned' | 'dismissed';
  studentId: string | null;
  templateId: string | null;
}

export interface ActionEvent {
  id: string;
  studentId: string;
  name: string | null;
  kind: 'hand_raised' | 'facing_away' | 'not_seen';
  at: string;
  endsAt: string | null;
  details: Record<string, unknown>;
}

export interface ReportStudent {
  studentId: string;
  fullName: string;
  studentCode: string | null;
  email: string;
  present: number;
  late: number;
  absent: number;
  excused: number;
  counted: number;
  percent: number | null;
  belowThreshold: boolean;
  trend: (number | null)[];
}

export interface Report {
  offeringId: string;
  courseCode: string;
  courseName: string;
  semesterCode: string;
  section: string;
  threshold: number;
  sessions: {
    id: string;
    startsAt: string;
    status: string;
    present: number;
    late: number;
    absent: number;
    excused: number;
    percent: number | null;
  }[];
  students: ReportStudent[];
  trend: { sessionId: string; startsAt: string; percent: number | null }[];
}

export interface MyAttendance {
  items: {
    sessionId: string;
    offeringId: string;
    courseCode: string;
    courseName: string;
    semesterCode: string;
    section: string;
    startsAt: string;
    status: AttendanceStatus;
    firstSeenAt: string | null;
    source: string;
  }[];
  offerings: {
    offeringId: string;
    courseCode: string;
    courseName: string;
    percent: number | null;
    counted: number;
    belowThreshold: boolean;
  }[];
}

export interface DashboardCard {
  offeringId: string;
  courseCode: string;
  courseName: string;
  section: string;
  today: {
    sessionId: string;
    startsAt: string;
    status: string;
    present: number;
    late: number;
    absent: number;
    enrolled: number;
  } | null;
  lowest: { studentId: string; fullName: string; percent: number | null }[];
  percent: number | null;
}

export interface LiveFrame {
  capture: Capture;
  frame: Frame;
  intervalMs: number;
}

const s = (id: string) => `/sessions/${encodeURIComponent(id)}`;

export const attendanceApi = {
  roster: (sessionId: string) => api.get<Roster>(`${s(sessionId)}/attendance`),
  setStatus: (sessionId: string, studentId: string, status: AttendanceStatus, note?: string | null) =>
    api.patch<Roster>(`${s(sessionId)}/attendance/${studentId}`, note === undefined ? { status } : { status, note }),
  confirm: (sessionId: string, studentId: string) =>
    api.post<Roster>(`${s(sessionId)}/attendance/${studentId}/confirm`),
  reject: (sessionId: string, studentId: string) => api.post<Roster>(`${s(sessionId)}/attendance/${studentId}/reject`),
  close: (sessionId: string) => api.post<Roster>(`${s(sessionId)}/attendance/close`),
  evidenceUrl: (sessionId: string, studentId: string) => `/api/v1${s(sessionId)}/attendance/${studentId}/evidence`,

  captures: (sessionId: string) => api.get<Page<Capture>>(`${s(sessionId)}/captures`, { limit: 50 }),
  upload: (sessionId: string, files: File[], capturedAt?: string) => {
    const form = new FormData();
    if (capturedAt) form.append('capturedAt', capturedAt);
    for (const f of files) form.append('file', f, f.name);
    return request<{ items: Capture[] }>('POST', `${s(sessionId)}/captures`, { form });
  },
  sendFrame: (sessionId: string, jpeg: Blob, signal?: AbortSignal) => {
    const form = new FormData();
    form.append('source', 'webcam');
    form.append('frame', jpeg, 'frame.jpg');
    return request<LiveFrame>('POST', `${s(sessionId)}/frames`, { form, signal });
  },
  frames: (captureId: string, offset = 0) =>
    api.get<Page<Frame>>(`/captures/${captureId}/frames`, { limit: 100, offset }),
  frameUrl: (captureId: string, index: number) => `/api/v1/captures/${captureId}/frames/${index}/image`,

  unknown: (sessionId: string, status?: string) =>
    api.get<{ items: UnknownFace[] }>(`${s(sessionId)}/unknown-faces`, { status }),
  unknownUrl: (sessionId: string, faceId: string) => `/api/v1${s(sessionId)}/unknown-faces/${faceId}/image`,
  assign: (sessionId: string, faceId: string, studentId: string, enroll: boolean) =>
    api.post<{ face: UnknownFace; enrolled: boolean; enrollError: { code: string; message: string } | null }>(
      `${s(sessionId)}/unknown-faces/${faceId}/assign`,
      { studentId, enroll },
    ),
  dismiss: (sessionId: string, faceId: string) =>
    api.post<UnknownFace>(`${s(sessionId)}/unknown-faces/${faceId}/dismiss`),
  actions: (sessionId: string) =>
    api.get<{ items: ActionEvent[]; summary: Record<string, Record<string, { count: number; at: string[] }>> }>(
      `${s(sessionId)}/actions`,
    ),

  report: (offeringId: string) => api.get<Report>(`/offerings/${offeringId}/attendance/report`),
  exportUrl: (offeringId: string, format: 'csv' | 'moodle' | 'xlsx') =>
    `/api/v1/offerings/${offeringId}/attendance/export?format=${format}`,
  mine: () => api.get<MyAttendance>('/me/attendance', { limit: 200 }),
  dashboard: () => api.get<{ threshold: number; items: DashboardCard[] }>('/attendance/dashboard'),
};

export const STATUS_COLOR: Record<AttendanceStatus, string> = {
  present: 'teal',
  late: 'yellow',
  absent: 'red',
  excused: 'blue',
};
export const STATUS_LABEL: Record<AttendanceStatus, string> = {
  present: 'Present',
  late: 'Late',
  absent: 'Absent',
  excused: 'Excused',
};
