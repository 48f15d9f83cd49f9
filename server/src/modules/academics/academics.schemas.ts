import { z } from 'zod';
import { paginationQuery } from '../../platform/pagination.ts';

export { page, paginationQuery } from '../../platform/pagination.ts';

// ---- shared pieces -------------------------------------------------------------------------

const id = z.string().min(1).max(64);
export const idParams = z.strictObject({ id });
export const offeringStudentParams = z.strictObject({ id, studentId: id });

/** A calendar day, checked against the calendar (2025-02-30 is refused). */
export const dateSchema = z.iso.date({ message: 'must be a date YYYY-MM-DD' });
export const dateTimeSchema = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });
const dateOrDateTime = z.union([dateSchema, dateTimeSchema], {
  message: 'must be a date YYYY-MM-DD or an ISO 8601 date-time',
});

export const timeOfDaySchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM (00:00–23:59)');

const minutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

export const scheduleSlotSchema = z
  .strictObject({
    day: z.number().int().min(1).max(7), // ISO weekday: 1 = Monday … 7 = Sunday
    start: timeOfDaySchema,
    end: timeOfDaySchema,
  })
  .refine((s) => minutes(s.end) > minutes(s.start), { message: 'end must be after start', path: ['end'] });
export type ScheduleSlot = z.infer<typeof scheduleSlotSchema>;

export const scheduleSchema = z
  .array(scheduleSlotSchema)
  .max(21)
  .superRefine((slots, ctx) => {
    // Two meetings of one offering cannot overlap: the second could never be told apart.
    for (let i = 0; i < slots.length; i++) {
      for (let j = 0; j < i; j++) {
        const a = slots[i];
        const b = slots[j];
        if (a.day === b.day && minutes(a.start) < minutes(b.end) && minutes(b.start) < minutes(a.end)) {
          ctx.addIssue({ code: 'custom', path: [i], message: `overlaps slot ${j} on day ${a.day}` });
        }
      }
    }
  });

const order = z.enum(['asc', 'desc']);
const search = z.string().trim().max(100).optional();
export const lateAfterMinutesSchema = z.number().int().min(0).max(240);

// ---- semesters -----------------------------------------------------------------------------

const semesterCode = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$/, 'letters, digits, dash or underscore; up to 16');
const semesterName = z.string().trim().min(1).max(100);
const year = z.number().int().min(2000).max(2100);
const term = z.union([z.literal(1), z.literal(2)], { message: 'must be 1 or 2' });

export const createSemesterBody = z
  .strictObject({
    code: semesterCode.optional(),
    name: semesterName.optional(),
    year,
    term,
    startsOn: dateSchema,
    endsOn: dateSchema,
  })
  .refine((s) => s.startsOn <= s.endsOn, { message: 'endsOn must not be before startsOn', path: ['endsOn'] });

export const updateSemesterBody = z.strictObject({
  code: semesterCode.optional(),
  name: semesterName.optional(),
  year: year.optional(),
  term: term.optional(),
  startsOn: dateSchema.optional(),
  endsOn: dateSchema.optional(),
});

export const listSemestersQuery = paginationQuery.extend({
  q: search,
  year: z.coerce.number().int().min(2000).max(2100).optional(),
  sort: z.enum(['code', 'year', 'startsOn']).default('startsOn'),
  order: order.default('desc'),
});

export const semesterOut = z.object({
  id: z.string(),
  code: z.string(),
  name: z.string(),
  year: z.number(),
  term: z.number(),
  startsOn: z.string(),
  endsOn: z.string(),
});
export type SemesterOut = z.infer<typeof semesterOut>;

// ---- courses -------------------------------------------------------------------------------

const courseCode = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$/, 'letters, digits, dash or underscore; up to 16')
  .transform((v) => v.toUpperCase());
const passingGrade = z.number().int().min(0).max(100);

export const createCourseBody = z.strictObject({
  code: courseCode,
  name: z.string().trim().min(1).max(200),
  description: z.string().trim().max(2000).nullable().optional(),
  passingGrade: passingGrade.optional(),
});

export const updateCourseBody = z.strictObject({
  code: courseCode.optional(),
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().trim().max(2000).nullable().optional(),
  passingGrade: passingGrade.optional(),
});

export const listCoursesQuery = paginationQuery.extend({
  q: search,
  sort: z.enum(['code', 'name']).default('code'),
  order: order.default('asc'),
});

export const courseOut = z.object({
  id: z.string(),
  code: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  passingGrade: z.number(),
});
export type CourseOut = z.infer<typeof courseOut>;

// ---- offerings -----------------------------------------------------------------------------

const section = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,7}$/, 'letters, digits or dash; up to 8');
const room = z.string().trim().max(64);

export const createOfferingBody = z.strictObject({
  courseId: id,
  semesterId: id,
  section: section.optional(),
  teacherId: id.nullable().optional(),
  room: room.nullable().optional(),
  schedule: scheduleSchema.optional(),
  lateAfterMinutes: lateAfterMinutesSchema.optional(),
});

export const updateOfferingBody = z.strictObject({
  courseId: id.optional(),
  semesterId: id.optional(),
  section: section.optional(),
  teacherId: id.nullable().optional(),
  room: room.nullable().optional(),
  schedule: scheduleSchema.optional(),
  lateAfterMinutes: lateAfterMinutesSchema.optional(),
});

export const listOfferingsQuery = paginationQuery.extend({
  semesterId: id.optional(),
  courseId: id.optional(),
  teacherId: id.optional(),
  q: search,
  sort: z.enum(['course', 'semester', 'section', 'teacher', 'room']).default('course'),
  order: order.default('asc'),
});

export const offeringOut = z.object({
  id: z.string(),
  courseId: z.string(),
  courseCode: z.string(),
  courseName: z.string(),
  semesterId: z.string(),
  semesterCode: z.string(),
  section: z.string(),
  teacherId: z.string().nullable(),
  teacherName: z.string().nullable(),
  room: z.string().nullable(),
  schedule: z.array(z.object({ day: z.number(), start: z.string(), end: z.string() })),
  lateAfterMinutes: z.number(),
  enrolledCount: z.number(),
});
export type OfferingOut = z.infer<typeof offeringOut>;

export const myEnrollmentOut = offeringOut.extend({ enrollmentId: z.string(), enrolledAt: z.string() });

export const listMyEnrollmentsQuery = paginationQuery.extend({
  semesterId: id.optional(),
  q: search,
});

// ---- enrollments ---------------------------------------------------------------------------

export const listEnrollmentsQuery = paginationQuery.extend({
  q: search,
  sort: z.enum(['studentCode', 'fullName', 'enrolledAt']).default('fullName'),
  order: order.default('asc'),
});

export const createEnrollmentBody = z.strictObject({ studentId: id });

export const enrollmentOut = z.object({
  id: z.string(),
  studentId: z.string(),
  studentCode: z.string().nullable(),
  fullName: z.string(),
  email: z.string(),
  enrolledAt: z.string(),
});
export type EnrollmentOut = z.infer<typeof enrollmentOut>;

export const rosterResultOut = z.object({
  created: z.number(),
  enrolled: z.number(),
  alreadyEnrolled: z.number(),
  rows: z.number(),
});

// ---- class sessions ------------------------------------------------------------------------

export const sessionStatusSchema = z.enum(['scheduled', 'open', 'closed']);

export const listSessionsQuery = paginationQuery.extend({
  from: dateOrDateTime.optional(),
  to: dateOrDateTime.optional(),
  status: sessionStatusSchema.optional(),
  order: order.default('asc'),
});

export const createSessionBody = z.strictObject({
  startsAt: dateTimeSchema,
  endsAt: dateTimeSchema,
  lateAfterMinutes: lateAfterMinutesSchema.optional(),
});

export const generateSessionsBody = z.strictObject({ from: dateSchema, to: dateSchema });

export const updateSessionBody = z.strictObject({
  status: sessionStatusSchema.optional(),
  lateAfterMinutes: lateAfterMinutesSchema.optional(),
  startsAt: dateTimeSchema.optional(),
  endsAt: dateTimeSchema.optional(),
});

export const sessionOut = z.object({
  id: z.string(),
  offeringId: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  lateAfterMinutes: z.number(),
  status: sessionStatusSchema,
});
export type SessionOut = z.infer<typeof sessionOut>;

export const generateResultOut = z.object({ created: z.number(), existing: z.number() });
