import { z } from 'zod';
import { ID_PATTERN } from '../../platform/ids.ts';
import { page, paginationQuery } from '../../platform/pagination.ts';

export { page, paginationQuery };

export const PREDICTION_SOURCES = ['lab', 'api', 'cli', 'album', 'attendance'] as const;

const id = z.string().regex(ID_PATTERN, 'not an id');

/** An instant as epoch milliseconds or an ISO 8601 date-time (or date). */
const instant = z.string().transform((v, ctx) => {
  const ms = /^\d{1,15}$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be epoch milliseconds or an ISO 8601 date-time' });
    return z.NEVER;
  }
  return ms;
});

export const jobParams = z.strictObject({ id });
export const inputParams = z.strictObject({ id, inputId: id });
export const predictionParams = z.strictObject({ id });
export const modelParams = z.strictObject({ name: z.string().min(1).max(100) });

export const predictionFilterQuery = z.strictObject({
  model: z.string().min(1).max(100).optional(),
  user: id.optional(),
  from: instant.optional(),
  to: instant.optional(),
  input_sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be a sha256 in hex')
    .transform((v) => v.toLowerCase())
    .optional(),
  job: id.optional(),
  source: z.enum(PREDICTION_SOURCES).optional(),
});

export const listPredictionsQuery = predictionFilterQuery.extend(paginationQuery.shape);
export const exportPredictionsQuery = predictionFilterQuery.extend({ format: z.enum(['csv', 'json']).default('json') });
export const listJobsQuery = paginationQuery;

/** The `parameters` multipart field: a JSON object. */
export const parametersField = z
  .string()
  .max(64 * 1024)
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return {};
    try {
      const parsed: unknown = JSON.parse(v);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
    return z.NEVER;
  });

export const analysisFields = z.strictObject({
  model: z.string().min(1, 'choose a model').max(100),
  parameters: parametersField,
  /** Lets a client say what it is (the CLI sends "cli"); by default sessions are "lab", tokens "api". */
  source: z.enum(['lab', 'api', 'cli']).optional(),
});

export const predictFields = z.strictObject({ parameters: parametersField });

export const predictionOut = z.object({
  id: z.string(),
  jobId: z.string().nullable(),
  userId: z.string(),
  source: z.enum(PREDICTION_SOURCES),
  createdAt: z.string(),
  model: z.string(),
  modelVersion: z.string(),
  weightsSha256: z.string().nullable(),
  parameters: z.record(z.string(), z.unknown()),
  inputBlobId: z.string().nullable(),
  inputSha256: z.string(),
  output: z.unknown(),
  durationMs: z.number(),
});
export type PredictionOut = z.infer<typeof predictionOut>;

export const jobOut = z.object({
  id: z.string(),
  userId: z.string(),
  source: z.enum(PREDICTION_SOURCES),
  model: z.string(),
  modelVersion: z.string(),
  weightsSha256: z.string().nullable(),
  parameters: z.record(z.string(), z.unknown()),
  status: z.enum(['queued', 'running', 'done', 'failed']),
  total: z.number(),
  processed: z.number(),
  failed: z.number(),
  error: z.string().nullable(),
  rerunOf: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type JobOut = z.infer<typeof jobOut>;

export const inputOut = z.object({
  id: z.string(),
  position: z.number(),
  filename: z.string(),
  sha256: z.string().nullable(),
  size: z.number(),
  status: z.enum(['pending', 'done', 'failed']),
  errorCode: z.string().nullable(),
  error: z.string().nullable(),
  predictionId: z.string().nullable(),
  hasImage: z.boolean(),
});

export const jobDetailOut = jobOut.extend({ inputs: z.array(inputOut), predictions: z.array(predictionOut) });
export type JobDetailOut = z.infer<typeof jobDetailOut>;
