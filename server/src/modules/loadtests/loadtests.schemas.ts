import { z } from 'zod';

export { page, paginationQuery } from '../../platform/pagination.ts';

const idText = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore; up to 64');
const count = z.number().int().min(0).max(1e12);
const ms = z.number().min(0).max(3.6e6).nullable();
/** Epoch seconds between 2000 and 2200: anything else is a clock or unit mistake. */
const epochSecond = z.number().int().min(946_684_800).max(7_258_118_400);

export const runIdParams = z.strictObject({ runId: idText });

export const sampleIn = z.strictObject({
  second: epochSecond,
  requests: count,
  ok: count,
  errors: count,
  grades: count,
  p50: ms,
  p95: ms,
  p99: ms,
});
export type SampleIn = z.infer<typeof sampleIn>;

export const postSamplesBody = z.strictObject({
  workerId: idText,
  name: z.string().trim().max(200).optional(),
  mode: z.enum(['rest', 'grpc', 'split']).optional(),
  config: z.record(z.string().max(64), z.unknown()).optional(),
  samples: z.array(sampleIn).max(3600),
});
export type PostSamplesBody = z.infer<typeof postSamplesBody>;

export const workerSummaryIn = z.strictObject({
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  durationSec: z.number().min(0).max(1e7),
  requests: count,
  ok: count,
  errors: count,
  grades: count,
  rps: z.number().min(0).max(1e9),
  dropped: count.default(0),
  late: count.default(0),
  latencyMs: z.strictObject({ p50: ms, p90: ms, p95: ms, p99: ms, max: ms }),
  errorsByKind: z.record(z.string().max(64), count).refine((r) => Object.keys(r).length <= 100, 'at most 100 kinds'),
  split: z.strictObject({ rest: count, grpc: count }),
  /** The worker's HDR histogram as [microseconds, count] pairs. */
  histogram: z
    .array(z.tuple([z.number().int().min(1).max(3_600_000_000), z.number().int().min(1).max(1e12)]))
    .max(50_000)
    .optional(),
  thresholdsPassed: z.boolean().optional(),
});
export type WorkerSummaryIn = z.infer<typeof workerSummaryIn>;

export const finishBody = z.strictObject({ workerId: idText, summary: workerSummaryIn });

export const runSummaryOut = z.object({
  requests: z.number(),
  ok: z.number(),
  errors: z.number(),
  grades: z.number(),
  dropped: z.number(),
  late: z.number(),
  rps: z.number(),
  gradesPerSec: z.number(),
  errorRatePercent: z.number(),
  durationSec: z.number(),
  latencyMs: z.object({ p50: ms, p90: ms, p95: ms, p99: ms, max: ms }),
  /** `exact`: merged from every worker's histogram; `max`: the highest worker value (conservative). */
  latencyMerge: z.enum(['exact', 'max', 'per-second-max']),
  errorsByKind: z.record(z.string(), z.number()),
  split: z.object({ rest: z.number(), grpc: z.number() }),
  workers: z.number(),
  thresholdsPassed: z.boolean().nullable(),
  /** true while the run is going: figures come from the per-second samples received so far. */
  live: z.boolean(),
});
export type RunSummaryOut = z.infer<typeof runSummaryOut>;

export const runOut = z.object({
  runId: z.string(),
  name: z.string(),
  mode: z.string(),
  status: z.enum(['running', 'finished', 'interrupted']),
  startedAt: z.string(),
  lastSampleAt: z.string(),
  finishedAt: z.string().nullable(),
  workers: z.number(),
  workersFinished: z.number(),
  summary: runSummaryOut.nullable(),
});
export type RunOut = z.infer<typeof runOut>;

export const seriesPointOut = z.object({
  second: z.number(),
  /** Seconds since the run started. */
  t: z.number(),
  requests: z.number(),
  ok: z.number(),
  errors: z.number(),
  grades: z.number(),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
  workers: z.number(),
});
export type SeriesPointOut = z.infer<typeof seriesPointOut>;

export const workerOut = z.object({
  workerId: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  summary: z.unknown().nullable(),
});

export const runDetailOut = runOut.extend({
  config: z.record(z.string(), z.unknown()),
  workerList: z.array(workerOut),
  series: z.array(seriesPointOut),
});
export type RunDetailOut = z.infer<typeof runDetailOut>;

export const runDetailQuery = z.strictObject({
  /** Only series points after this epoch second (for incremental polling). */
  since: z.coerce.number().int().min(0).optional(),
});
