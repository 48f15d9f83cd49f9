import type { Generated } from 'kysely';

export type CaptureKind = 'photo' | 'video' | 'frame';
export type CaptureSource = 'upload' | 'webcam' | 'camera';
export type CaptureStatus = 'queued' | 'running' | 'done' | 'failed';
export type AttendanceStatus = 'present' | 'late' | 'absent' | 'excused';
export type AttendanceSource = 'camera' | 'manual' | 'face_login';
/** auto: as the pipeline decided; confirmed/rejected/assigned: after the teacher's review. */
export type ObservationReview = 'auto' | 'confirmed' | 'rejected' | 'assigned';
export type UnknownFaceStatus = 'open' | 'assigned' | 'dismissed';
export type ActionKind = 'hand_raised' | 'facing_away' | 'not_seen';

export interface CapturesTable {
  id: string;
  session_id: string;
  offering_id: string;
  kind: CaptureKind;
  source: CaptureSource;
  /** null once the raw capture has been deleted by retention. */
  blob_id: string | null;
  content_type: string;
  size_bytes: number;
  filename: string | null;
  /** When the photo was taken, or when the video recording started (epoch ms). */
  captured_at: number;
  status: CaptureStatus;
  progress: Generated<number>;
  error_code: string | null;
  error: string | null;
  attempts: Generated<number>;
  duration_ms: number | null;
  width: number | null;
  height: number | null;
  /** Frames fully written; a retried job resumes after them. */
  frames_done: Generated<number>;
  faces_seen: Generated<number>;
  created_by: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  purged_at: number | null;
}

export interface CaptureFramesTable {
  id: string;
  capture_id: string;
  frame_index: number;
  offset_ms: number;
  at: number;
  blob_id: string | null;
  width: number;
  height: number;
  faces: number;
  people: Generated<number>;
}

export interface ObservationsTable {
  id: string;
  capture_id: string;
  session_id: string;
  frame_index: number;
  face_index: number;
  /** The same person across consecutive frames (of a video, or of one live stream). */
  track_id: string;
  at: number;
  /** JSON [x, y, w, h] in frame pixels. */
  box: string;
  student_id: string | null;
  distance: number | null;
  confidence: number;
  quality: number;
  /** 1 when this face was matched against the gallery in this frame, 0 when it inherited its track's identity. */
  identified: Generated<number>;
  review: Generated<ObservationReview>;
  hand_raised: Generated<number>;
  facing: string | null;
  crop_blob_id: string | null;
}

export interface UnknownFacesTable {
  id: string;
  session_id: string;
  /** The capture the track started in. */
  capture_id: string;
  track_id: string;
  first_seen_at: number;
  last_seen_at: number;
  observations: number;
  box: string;
  quality: number;
  crop_blob_id: string | null;
  nearest_student_id: string | null;
  nearest_distance: number | null;
  status: Generated<UnknownFaceStatus>;
  student_id: string | null;
  template_id: string | null;
  resolved_by: string | null;
  resolved_at: number | null;
}

export interface AttendanceTable {
  id: string;
  session_id: string;
  offering_id: string;
  student_id: string;
  status: AttendanceStatus;
  first_seen_at: number | null;
  last_seen_at: number | null;
  confidence: number | null;
  evidence_blob_id: string | null;
  source: AttendanceSource;
  confirmed: Generated<number>;
  note: string | null;
  changed_by: string | null;
  changed_at: number;
  created_at: number;
}

export interface ActionEventsTable {
  id: string;
  session_id: string;
  student_id: string;
  capture_id: string | null;
  kind: ActionKind;
  at: number;
  ends_at: number | null;
  /** JSON */
  details: string | null;
  created_at: number;
}

export interface AttendanceTables {
  captures: CapturesTable;
  capture_frames: CaptureFramesTable;
  observations: ObservationsTable;
  unknown_faces: UnknownFacesTable;
  attendance: AttendanceTable;
  action_events: ActionEventsTable;
}
