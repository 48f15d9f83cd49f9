import { z } from 'zod';
import { page, paginationQuery } from '../../platform/pagination.ts';

const id = z.string().min(1).max(64);
export const idParams = z.strictObject({ id });
export const sessionStudentParams = z.strictObject({ id, studentId: id });
export const frameParams = z.strictObject({ id, index: z.coerce.number().int().min(0).max(1_000_000) });
export const unknownFaceParams = z.strictObject({ id, faceId: id });

export const attendanceStatuses = ['present', 'late', 'absent', 'excused'] as const;
export const captureKinds = ['photo', 'video', 'frame'] as const;
export const captureStatuses = ['queued', 'running', 'done', 'failed'] as const;
export const actionKinds = ['hand_raised', 'facing_away', 'not_seen'] as const;

const dateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });
const iso = z.string().nullable();
const box = z.tuple([z.number(), z.number(), z.number(), z.number()]);

/** Multipart fields that may come before the files of a capture upload. */
export const captureFields = z.strictObject({
  /** When the photos were taken, or when the video recording started. */
  capturedAt: dateTime.optional(),
});

export const frameFields = z.strictObject({
  source: z.enum(['webcam', 'camera']).default('webcam'),
});

export const captureListQuery = paginationQuery.extend({
  kind: z.enum(captureKinds).optional(),
});

export const captureOut = z.object({
  id: z.string(),
  sessionId: z.string(),
  offeringId: z.string(),
  kind: z.enum(captureKinds),
  source: z.enum(['upload', 'webcam', 'camera']),
  status: z.enum(captureStatuses),
  progress: z.number(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  attempts: z.number(),
  filename: z.string().nullable(),
  contentType: z.string(),
  sizeBytes: z.number(),
  capturedAt: z.string(),
  durationMs: z.number().nullable(),
  width: z.number().nullable(),
  height: z.number().nullable(),
  framesDone: z.number(),
  facesSeen: z.number(),
  /** false once retention deleted the raw capture (results stay). */
  available: z.boolean(),
  createdAt: z.string(),
  startedAt: iso,
  finishedAt: iso,
});
export type CaptureOut = z.infer<typeof captureOut>;

export const captureListOut = page(captureOut);
export const capturesCreatedOut = z.object({ items: z.array(captureOut) });

export const faceOut = z.object({
  box,
  trackId: z.string(),
  studentId: z.string().nullable(),
  name: z.string().nullable(),
  known: z.boolean(),
  confidence: z.number(),
  distance: z.number().nullable(),
  handRaised: z.boolean(),
  facing: z.string().nullable(),
  review: z.string(),
});
export type FaceOut = z.infer<typeof faceOut>;

export const frameOut = z.object({
  index: z.number(),
  offsetMs: z.number(),
  at: z.string(),
  width: z.number(),
  height: z.number(),
  available: z.boolean(),
  faces: z.array(faceOut),
});
export type FrameOut = z.infer<typeof frameOut>;
export const frameListOut = page(frameOut);

export const liveFrameOut = z.object({
  capture: captureOut,
  frame: frameOut,
  /** How often the page should send a frame (ms). */
  intervalMs: z.number(),
});

export const rosterEntryOut = z.object({
  studentId: z.string(),
  fullName: z.string(),
  studentCode: z.string().nullable(),
  /** null while the session is open and the student has not been seen. */
  status: z.enum(attendanceStatuses).nullable(),
  firstSeenAt: iso,
  lastSeenAt: iso,
  confidence: z.number().nullable(),
  /** A camera match below the confidence threshold that nobody confirmed yet. */
  needsReview: z.boolean(),
  confirmed: z.boolean(),
  hasEvidence: z.boolean(),
  source: z.enum(['camera', 'manual', 'face_login']).nullable(),
  note: z.string().nullable(),
  changedBy: z.object({ id: z.string(), name: z.string().nullable() }).nullable(),
  changedAt: iso,
  handRaises: z.number(),
});
export type RosterEntryOut = z.infer<typeof rosterEntryOut>;

export const rosterOut = z.object({
  sessionId: z.string(),
  offeringId: z.string(),
  sessionStatus: z.enum(['scheduled', 'open', 'closed']),
  startsAt: z.string(),
  endsAt: z.string(),
  lateAfterMinutes: z.number(),
  counts: z.object({
    enrolled: z.number(),
    present: z.number(),
    late: z.number(),
    absent: z.number(),
    excused: z.number(),
    unseen: z.number(),
    needsReview: z.number(),
    unknownFaces: z.number(),
  }),
  /** Low-confidence matches first, then by name. */
  items: z.array(rosterEntryOut),
});
export type RosterOut = z.infer<typeof rosterOut>;

export const setStatusBody = z.strictObject({
  status: z.enum(attendanceStatuses),
  note: z.string().trim().max(500).nullable().optional(),
});

export const unknownFaceOut = z.object({
  id: z.string(),
  captureId: z.string(),
  trackId: z.string(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  observations: z.number(),
  box,
  quality: z.number(),
  hasImage: z.boolean(),
  nearest: z.object({ studentId: z.string(), name: z.string().nullable(), distance: z.number() }).nullable(),
  status: z.enum(['open', 'assigned', 'dismissed']),
  studentId: z.string().nullable(),
  templateId: z.string().nullable(),
});
export const unknownFaceListOut = z.object({ items: z.array(unknownFaceOut) });
export const unknownFaceQuery = z.strictObject({ status: z.enum(['open', 'assigned', 'dismissed']).optional() });

export const assignBody = z.strictObject({
  studentId: id,
  /** Also keep the face as a new template of the student (asked for confirmation in the UI). */
  enroll: z.boolean().default(false),
});
export const assignOut = z.object({
  face: unknownFaceOut,
  enrolled: z.boolean(),
  /** Why enrollment was refused (e.g. the face is too small), when it was asked for. */
  enrollError: z.object({ code: z.string(), message: z.string() }).nullable(),
});

export const actionOut = z.object({
  id: z.string(),
  studentId: z.string(),
  name: z.string().nullable(),
  kind: z.enum(actionKinds),
  at: z.string(),
  endsAt: iso,
  details: z.record(z.string(), z.unknown()),
});
export const actionListOut = z.object({
  items: z.array(actionOut),
  /** Per student: how many of each kind, with the times of each. */
  summary: z.record(
    z.string(),
    z.record(z.enum(actionKinds), z.object({ count: z.number(), at: z.array(z.string()) })),
  ),
});

export const reportQuery = z.strictObject({
  threshold: z.coerce.number().min(0).max(100).optional(),
});

export const reportStudentOut = z.object({
  studentId: z.string(),
  fullName: z.string(),
  studentCode: z.string().nullable(),
  email: z.string(),
  present: z.number(),
  late: z.number(),
  absent: z.number(),
  excused: z.number(),
  /** Sessions held so far that count (excused ones do not). */
  counted: z.number(),
  /** (present + late) / counted × 100, or null before any session counted. */
  percent: z.number().nullable(),
  belowThreshold: z.boolean(),
  /** Percent after each held session, in order: the trend over the term. */
  trend: z.array(z.number().nullable()),
});

export const reportOut = z.object({
  offeringId: z.string(),
  courseCode: z.string(),
  courseName: z.string(),
  semesterCode: z.string(),
  section: z.string(),
  threshold: z.number(),
  sessions: z.array(
    z.object({
      id: z.string(),
      startsAt: z.string(),
      status: z.string(),
      present: z.number(),
      late: z.number(),
      absent: z.number(),
      excused: z.number(),
      /** Share of enrolled students present or late. */
      percent: z.number().nullable(),
    }),
  ),
  students: z.array(reportStudentOut),
  /** The offering's attendance after each held session, for the trend chart. */
  trend: z.array(z.object({ sessionId: z.string(), startsAt: z.string(), percent: z.number().nullable() })),
});
export type ReportOut = z.infer<typeof reportOut>;

export const exportQuery = z.strictObject({
  format: z.enum(['csv', 'moodle', 'xlsx']).default('csv'),
});

export const myAttendanceQuery = paginationQuery.extend({ offeringId: id.optional() });
export const myAttendanceOut = z.object({
  items: z.array(
    z.object({
      sessionId: z.string(),
      offeringId: z.string(),
      courseCode: z.string(),
      courseName: z.string(),
      semesterCode: z.string(),
      section: z.string(),
      startsAt: z.string(),
      status: z.enum(attendanceStatuses),
      firstSeenAt: iso,
      source: z.string(),
    }),
  ),
  offerings: z.array(
    z.object({
      offeringId: z.string(),
      courseCode: z.string(),
      courseName: z.string(),
      percent: z.number().nullable(),
      counted: z.number(),
      belowThreshold: z.boolean(),
    }),
  ),
  limit: z.number(),
  offset: z.number(),
});

export const dashboardOut = z.object({
  threshold: z.number(),
  items: z.array(
    z.object({
      offeringId: z.string(),
      courseCode: z.string(),
      courseName: z.string(),
      section: z.string(),
      today: z
        .object({
          sessionId: z.string(),
          startsAt: z.string(),
          status: z.string(),
          present: z.number(),
          late: z.number(),
          absent: z.number(),
          enrolled: z.number(),
        })
        .nullable(),
      lowest: z.array(z.object({ studentId: z.string(), fullName: z.string(), percent: z.number().nullable() })),
      percent: z.number().nullable(),
    }),
  ),
});
