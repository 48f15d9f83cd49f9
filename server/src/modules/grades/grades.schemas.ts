import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';

export const MAX_BATCH = 1000;

// eslint-disable-next-line no-control-regex -- rejecting control characters is the point
const noControl = /^[^\u0000-\u001f\u007f]*$/;

export const gradeCodeSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/, 'letters, digits, dot, dash or underscore; 1–32 characters');

export const gradeInput = z.strictObject({
  student_code: gradeCodeSchema,
  student_name: z
    .string()
    .trim()
    .min(1, 'required')
    .max(200, 'at most 200 characters')
    .regex(noControl, 'no control characters'),
  course_code: gradeCodeSchema,
  semester: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 or 2' }),
  year: z.number().int('must be a whole number').min(1900, 'must be 1900 to 2200').max(2200, 'must be 1900 to 2200'),
  score: z
    .number()
    .min(0, 'must be between 0 and 100')
    .max(100, 'must be between 0 and 100')
    .refine(hasAtMostTwoDecimals, 'at most two decimals'),
  idempotency_key: z
    .string()
    .min(1)
    .max(128, 'at most 128 characters')
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional(),
});
export type GradeInput = z.input<typeof gradeInput>;

export const gradesBody = z
  .union([gradeInput, z.array(gradeInput).min(1).max(MAX_BATCH)])
  .describe(
    `One grade, or an array of 1 to ${MAX_BATCH}. The whole request is stored in one transaction or not at all.`,
  );

/** A validated grade, as the writer stores it. */
export interface NormalizedGrade {
  studentCode: string;
  studentName: string;
  courseCode: string;
  semester: number;
  year: number;
  scoreX100: number;
  idempotencyKey: string | null;
}

export interface RecordError {
  index: number | null;
  path: string;
  message: string;
}

function hasAtMostTwoDecimals(v: number): boolean {
  // Binary doubles cannot hold 61.15 exactly; it is two decimals when 100× is an integer within rounding noise.
  const x = v * 100;
  return Math.abs(x - Math.round(x)) < 1e-6;
}

const MAX_REPORTED_ERRORS = 100;

/**
 * Validates one grade or an array of grades. Every bad record is reported by index and field;
 * any error rejects the whole request, so a bad request stores nothing.
 */
export function parseGrades(body: unknown): NormalizedGrade[] {
  let items: unknown[];
  if (Array.isArray(body)) {
    if (body.length === 0) throw batchError('The array holds no grades; send 1 to 1000');
    if (body.length > MAX_BATCH)
      throw batchError(`The array holds ${body.length} grades; send at most ${MAX_BATCH} per request`);
    items = body;
  } else if (typeof body === 'object' && body !== null) {
    items = [body];
  } else {
    throw batchError(`The body must be a grade object or an array of 1 to ${MAX_BATCH} grades`);
  }
  const out: NormalizedGrade[] = new Array(items.length);
  const errors: RecordError[] = [];
  let errorCount = 0;
  for (let i = 0; i < items.length; i++) {
    const r = gradeInput.safeParse(items[i]);
    if (r.success) {
      out[i] = normalize(r.data);
      continue;
    }
    for (const issue of r.error.issues) {
      errorCount++;
      if (errors.length < MAX_REPORTED_ERRORS) {
        errors.push({ index: i, path: issue.path.join('.') || pathOfUnknownKeys(issue), message: issue.message });
      }
    }
  }
  if (errors.length > 0) {
    const first = errors[0];
    const summary = `${errorCount} problem(s) in ${new Set(errors.map((e) => e.index)).size} record(s); nothing was stored. First: record ${first.index}, ${first.path || 'record'}: ${first.message}`;
    throw new AppError('validation_failed', 400, summary, { errors });
  }
  return out;
}

function pathOfUnknownKeys(issue: z.core.$ZodIssue): string {
  return issue.code === 'unrecognized_keys' ? issue.keys.join(',') : '';
}

function batchError(message: string): AppError {
  return new AppError('validation_failed', 400, message, { errors: [{ index: null, path: '', message }] });
}

export function normalize(g: z.output<typeof gradeInput>): NormalizedGrade {
  return {
    studentCode: g.student_code,
    studentName: g.student_name,
    courseCode: g.course_code,
    semester: g.semester,
    year: g.year,
    scoreX100: Math.round(g.score * 100),
    idempotencyKey: g.idempotency_key ?? null,
  };
}

export const ackOut = z.object({
  accepted: z.number().int().describe('records newly stored'),
  duplicates: z.number().int().describe('records whose idempotency key was already stored (not stored again)'),
});
export type Ack = z.infer<typeof ackOut>;

// ---- analytics -----------------------------------------------------------------------------

// Dashboards send empty parameters for "any"; they mean the same as leaving the parameter out.
const blankIsAbsent = (v: unknown) => (v === '' ? undefined : v);

const courseFilter = z.preprocess(blankIsAbsent, gradeCodeSchema.optional());
const yearFilter = z.preprocess(blankIsAbsent, z.coerce.number().int().min(1900).max(2200).optional());
const semesterFilter = z.preprocess(
  blankIsAbsent,
  z.coerce
    .number()
    .int()
    .refine((v) => v === 1 || v === 2, 'must be 1 or 2')
    .optional(),
);
const limitOf = (def: number) => z.preprocess(blankIsAbsent, z.coerce.number().int().min(1).max(100).default(def));

export const groupFilterQuery = z.strictObject({ course: courseFilter, year: yearFilter, semester: semesterFilter });
export const termFilterQuery = z.strictObject({ year: yearFilter, semester: semesterFilter });
export const topCoursesQuery = termFilterQuery.extend({ limit: limitOf(3) });
export const topStudentsQuery = termFilterQuery.extend({ limit: limitOf(5) });

export interface GroupFilter {
  course?: string | undefined;
  year?: number | undefined;
  semester?: number | undefined;
}

export const totalOut = z.object({ total: z.number().int() });
export const passFailOut = z.object({ passed: z.number().int(), failed: z.number().int() });
export const topCoursesOut = z.array(z.object({ course: z.string(), students: z.number().int() }));
export const topStudentsOut = z.array(
  z.object({ studentCode: z.string(), studentName: z.string(), average: z.number() }),
);
export const studentsOut = z.object({ students: z.number().int() });
export const countersOut = z.object({
  total: z.number().int(),
  groups: z.array(
    z.object({
      course: z.string(),
      year: z.number().int(),
      semester: z.number().int(),
      records: z.number().int(),
      students: z.number().int(),
    }),
  ),
});
