import { z } from 'zod';

const id = z.string().regex(/^[0-9a-hjkmnp-tv-z]{26}$/, 'must be an id');
const studentCode = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, 'must be a student code');
export const scoreSchema = z
  .number()
  .min(0, 'must be from 0 to 100')
  .max(100, 'must be from 0 to 100')
  .refine((n) => Math.round(n * 100) === n * 100, 'at most 2 decimals');

export const offeringParams = z.strictObject({ id });
export const studentHistoryParams = z.strictObject({ id, studentCode });

export const setGradeBody = z.strictObject({ studentCode, score: scoreSchema });

export const gradeSource = z.enum(['rest', 'grpc', 'ui', 'csv']);

export const gradebookRowOut = z.object({
  studentId: z.string(),
  studentCode: z.string().nullable(),
  fullName: z.string(),
  score: z.number().nullable(),
  passed: z.boolean().nullable(),
  source: gradeSource.nullable(),
  updatedAt: z.string().nullable(),
});
export type GradebookRowOut = z.infer<typeof gradebookRowOut>;

export const gradebookOut = z.object({
  offering: z.object({
    id: z.string(),
    courseCode: z.string(),
    courseName: z.string(),
    semesterCode: z.string(),
    year: z.number(),
    term: z.number(),
    section: z.string(),
    teacherName: z.string().nullable(),
    passingGrade: z.number(),
  }),
  summary: z.object({
    enrolled: z.number(),
    graded: z.number(),
    passed: z.number(),
    failed: z.number(),
    average: z.number().nullable(),
  }),
  students: z.array(gradebookRowOut),
});
export type GradebookOut = z.infer<typeof gradebookOut>;

export const historyEntryOut = z.object({
  id: z.string(),
  score: z.number(),
  source: gradeSource,
  createdBy: z.object({ id: z.string(), name: z.string() }).nullable(),
  receivedAt: z.string(),
});

export const historyOut = z.object({
  studentCode: z.string(),
  studentName: z.string(),
  passingGrade: z.number(),
  records: z.array(historyEntryOut),
});
export type HistoryOut = z.infer<typeof historyOut>;

export const importResultOut = z.object({
  rows: z.number(),
  accepted: z.number(),
  duplicates: z.number(),
  skipped: z.number(),
});

export const myGradesOut = z.object({
  studentCode: z.string().nullable(),
  grades: z.array(
    z.object({
      course: z.string(),
      courseName: z.string().nullable(),
      year: z.number(),
      semester: z.number(),
      score: z.number(),
      passed: z.boolean(),
      passingGrade: z.number(),
      updatedAt: z.string(),
      history: z.array(z.object({ score: z.number(), source: gradeSource, receivedAt: z.string() })),
    }),
  ),
});
export type MyGradesOut = z.infer<typeof myGradesOut>;
