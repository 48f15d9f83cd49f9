import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { BlobUrlError, parseBlobUrl } from './platform/blobs/blob-url.ts';

/**
 * The only reader of process.env. Every setting of the product is declared here once,
 * parsed once, and passed down; tests build a Config from a plain object.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);

const databaseUrl = z
  .string()
  .refine((v) => /^(sqlite:|mysql:\/\/|mariadb:\/\/|postgres:\/\/|postgresql:\/\/)/.test(v), {
    message: 'must start with sqlite:, mysql://, mariadb://, postgres:// or postgresql://',
  });

// Parsed in full at start-up so a typo in a bucket, parameter or key is reported by name.
const blobUrl = z.string().superRefine((v, ctx) => {
  try {
    parseBlobUrl(v);
  } catch (err) {
    if (!(err instanceof BlobUrlError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
  }
});

const redisUrl = z
  .string()
  .refine((v) => /^rediss?:\/\//.test(v), { message: 'must start with redis:// or rediss://' });

const hostPort = z.string().regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must be host:port');

const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration such as 500ms, 30s, 10m, 12h or 30d')
  .transform(parseDuration);

export function parseDuration(v: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v);
  if (!m) throw new Error(`bad duration ${v}`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return n * unit;
}

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(8000),
  GRPC_HOST: z.string().min(1).default('0.0.0.0'),
  GRPC_PORT: port.default(50051),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: databaseUrl.optional(),
  BLOB_URL: blobUrl.optional(),
  REDIS_URL: redisUrl.optional(),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_TTL: duration.default(parseDuration('7d')),
  PUBLIC_URL: z.string().url().optional(),
  AULA_ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  SEED_DEMO: bool.default(true),
  LOGIN_RATE_LIMIT_PER_IP: z.coerce.number().int().positive().default(20),
  LOGIN_RATE_LIMIT_PER_ACCOUNT: z.coerce.number().int().positive().default(10),
  LOGIN_RATE_LIMIT_WINDOW: duration.default(parseDuration('15m')),
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\//.test(v), { message: 'must start with smtp:// or smtps://' })
    .optional(),
  MAIL_FROM: z.string().min(3).max(254).default('Aula <no-reply@localhost>'),
  PASSWORD_RESET_TTL: duration.default(parseDuration('1h')),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(2 * 1024 * 1024),
  UPLOAD_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(25 * 1024 * 1024),
  VIDEO_UPLOAD_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(2 * 1024 * 1024 * 1024),
  IMAGE_MAX_PIXELS: z.coerce.number().int().positive().default(50_000_000),
  TRUST_PROXY: bool.default(false),
  GRADES_FORWARD_GRPC: hostPort.optional(),
  GRADES_COMMIT_WINDOW_MS: z.coerce.number().int().min(0).max(100).default(2),
  GRADES_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and :_.-')
    .default('aula:grades:'),
  RATE_LIMIT_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and :_.-')
    .default('aula:rl:'),
  WEB_DIST: z.string().optional(),
  WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  VISION_TASK_TIMEOUT: duration.default(parseDuration('60s')),
  VISION_MAX_SIDE: z.coerce.number().int().min(256).max(16384).default(4096),
  VISION_BACKEND: z.enum(['auto', 'wasm']).default('auto'),
  VISION_TILE_SIZE: z.coerce.number().int().min(256).max(8192).default(1024),
  FACE_API_MODEL_DIR: z.string().min(1).optional(),
  HUMAN_MODEL_DIR: z.string().min(1).optional(),
  FACE_DETECT_MIN_CONFIDENCE: z.coerce.number().gt(0).max(1).default(0.3),
  FACE_MATCH_THRESHOLD: z.coerce.number().gt(0).max(2).default(0.645),
  FACE_MATCH_MARGIN: z.coerce.number().min(0).max(1).default(0.02),
  FACE_ENROLL_MIN_SIZE: z.coerce.number().int().min(16).max(4096).default(80),
  FACE_ENROLL_MIN_SHARPNESS: z.coerce.number().min(0).default(40),
  FACE_ENROLL_MAX_YAW: z.coerce.number().gt(0).max(1).default(0.6),
  FACE_LOGIN_MIN_ANTISPOOF: z.coerce.number().min(0).max(1).default(0.3),
  FACE_LOGIN_MIN_LIVENESS: z.coerce.number().min(0).max(1).default(0.5),
  FACE_LOGIN_RATE_LIMIT_PER_IP: z.coerce.number().int().positive().optional(),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and :_.-')
    .default('aula:q'),
  QUEUE_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  QUEUE_BACKOFF: duration.default(parseDuration('5s')),
  QUEUE_LOCK_DURATION: duration.default(parseDuration('30s')),
  QUEUE_STALLED_INTERVAL: duration.default(parseDuration('30s')),
  QUEUE_MAX_STALLED: z.coerce.number().int().min(0).max(20).default(2),
  ATTENDANCE_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  ATTENDANCE_RETENTION: duration.default(parseDuration('30d')),
  ATTENDANCE_RETENTION_SWEEP: duration.default(parseDuration('1h')),
  ATTENDANCE_SAMPLE_MAX_INTERVAL: duration.default(parseDuration('10s')),
  ATTENDANCE_SAMPLE_MIN_INTERVAL: duration.default(parseDuration('1s')),
  ATTENDANCE_SCENE_THRESHOLD: z.coerce.number().gt(0).max(1).default(0.04),
  ATTENDANCE_VIDEO_MAX_DURATION: duration.default(parseDuration('6h')),
  ATTENDANCE_STILL_DIFF: z.coerce.number().min(0).max(255).default(1),
  ATTENDANCE_LOW_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.57),
  ATTENDANCE_REPORT_THRESHOLD: z.coerce.number().min(0).max(100).default(80),
  ATTENDANCE_WEBCAM_INTERVAL: duration.default(parseDuration('5s')),
  ATTENDANCE_GAP: duration.default(parseDuration('10m')),
  ATTENDANCE_FACING_AWAY: duration.default(parseDuration('2m')),
  TRANSLATE_PROVIDER: z.enum(['apertium', 'libretranslate', 'aws', 'none']).optional(),
  APERTIUM_BIN: z.string().min(1).default('apertium'),
  LIBRETRANSLATE_URL: z.string().url().optional(),
  LIBRETRANSLATE_API_KEY: z.string().min(1).optional(),
  TRANSLATE_AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1')
    .optional(),
  AWS_REGION: z.string().min(1).optional(),
  TRANSLATE_MAX_CHARS: z.coerce.number().int().min(1).max(100_000).default(5000),
  TRANSLATE_TIMEOUT: duration.default(parseDuration('20s')),
  OCR_LANG_DIR: z.string().min(1).optional(),
  MEDIA_AUTO_OCR: bool.default(true),
  ZIP_MAX_ENTRIES: z.coerce.number().int().min(1).max(100_000).default(500),
  ZIP_MAX_TOTAL_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(512 * 1024 * 1024),
  ZIP_MAX_RATIO: z.coerce.number().min(1).max(10_000).default(100),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  host: string;
  port: number;
  grpcHost: string;
  grpcPort: number;
  dataDir: string;
  databaseUrl: string;
  blobUrl: string;
  redisUrl: string | undefined;
  sessionSecret: string | undefined;
  sessionTtlMs: number;
  publicUrl: string | undefined;
  adminPassword: string | undefined;
  seedDemo: boolean;
  loginRateLimit: { perIp: number; perAccount: number; windowMs: number };
  /** Outgoing mail (password reset links); without smtpUrl the links are written to the log. */
  mail: { smtpUrl: string | undefined; from: string };
  passwordResetTtlMs: number;
  bodyLimitBytes: number;
  uploadLimitBytes: number;
  videoUploadLimitBytes: number;
  imageMaxPixels: number;
  trustProxy: boolean;
  gradesForwardGrpc: string | undefined;
  gradesCommitWindowMs: number;
  /** Key prefix of the live grade counters in Redis. */
  gradesRedisPrefix: string;
  rateLimitRedisPrefix: string;
  webDist: string;
  workers: number | undefined;
  vision: {
    /** Worker processes for inference (one per core unless WORKERS says otherwise; at least one). */
    workers: number;
    taskTimeoutMs: number;
    /** Longest side an image is decoded to for inference. */
    maxSide: number;
    backend: 'auto' | 'wasm';
    tileSize: number;
    /** Weight folders; undefined means the installed packages' own. */
    faceApiModelDir: string | undefined;
    humanModelDir: string | undefined;
    detectMinConfidence: number;
  };
  faces: {
    /** Largest L2 distance between descriptors still taken as the same person. */
    matchThreshold: number;
    /** How much nearer the best identity must be than the second best. */
    matchMargin: number;
    enrollMinSize: number;
    enrollMinSharpness: number;
    enrollMaxYaw: number;
    loginMinAntispoof: number;
    loginMinLiveness: number;
    /** Face sign-in attempts per client address per LOGIN_RATE_LIMIT_WINDOW (default: as passwords). */
    loginRateLimitPerIp: number;
  };
  queue: {
    /** Redis key prefix of the BullMQ queues. */
    prefix: string;
    /** Runs per job, the first included. */
    attempts: number;
    /** First retry delay; doubles on each further retry. */
    backoffMs: number;
    /** A dead worker's job is taken over by another after this long. */
    lockDurationMs: number;
    stalledIntervalMs: number;
    /** A job whose worker died this many times fails instead of being taken over again. */
    maxStalledCount: number;
  };
  attendance: {
    /** Capture jobs run at once per worker process. */
    concurrency: number;
    /** Raw captures (photos, videos, frames) are deleted this long after upload. */
    retentionMs: number;
    retentionSweepMs: number;
    /** Video sampling: a frame at least this often, and at most this often on scene changes. */
    sampleMaxIntervalMs: number;
    sampleMinIntervalMs: number;
    /** ffmpeg scene score (0..1) above which a frame counts as a change. */
    sceneThreshold: number;
    videoMaxDurationMs: number;
    /**
     * A sampled frame whose 64×36 grey thumbnail differs from the last analysed one by less than
     * this (mean absolute difference, 0–255) reuses its detections; 0 analyses every frame.
     */
    stillDiff: number;
    /** Matches below this confidence are listed first for the teacher to confirm. */
    lowConfidence: number;
    /** Offering reports highlight students whose attendance % is below this. */
    reportThreshold: number;
    /** How often the teacher's page sends a webcam frame. */
    webcamIntervalMs: number;
    /** A present student not seen for this long is flagged as possibly out of the room. */
    gapMs: number;
    /** Facing away for at least this long becomes an action event. */
    facingAwayMs: number;
  };
  translate: {
    /** Default: apertium when its binary is installed, otherwise none. */
    provider: 'apertium' | 'libretranslate' | 'aws' | 'none';
    apertiumBin: string;
    libreTranslateUrl: string | undefined;
    libreTranslateApiKey: string | undefined;
    awsRegion: string | undefined;
    /** Longest text accepted for translation, in characters. */
    maxChars: number;
    timeoutMs: number;
  };
  media: {
    /** Folder holding the OCR language data (eng, spa); default DATA_DIR/ocr, filled on first use. */
    ocrLangDir: string;
    /** Extract text on upload when a photo looks like a document. */
    autoOcr: boolean;
  };
  /** Limits on zip archives uploaded to the analysis lab. */
  zip: { maxEntries: number; maxTotalBytes: number; maxRatio: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; reason: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.reason}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; every bad variable is reported at once. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset", as they do in most shells and orchestrators.
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') cleaned[key] = v;
  }
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), reason: i.message })));
  }
  const e = parsed.data;
  if (e.TRANSLATE_PROVIDER === 'libretranslate' && !e.LIBRETRANSLATE_URL) {
    throw new ConfigError([
      { variable: 'LIBRETRANSLATE_URL', reason: 'is required when TRANSLATE_PROVIDER=libretranslate' },
    ]);
  }
  if (e.TRANSLATE_PROVIDER === 'aws' && !e.TRANSLATE_AWS_REGION && !e.AWS_REGION) {
    throw new ConfigError([
      { variable: 'TRANSLATE_AWS_REGION', reason: 'or AWS_REGION is required when TRANSLATE_PROVIDER=aws' },
    ]);
  }
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    host: e.HOST,
    port: e.PORT,
    grpcHost: e.GRPC_HOST,
    grpcPort: e.GRPC_PORT,
    dataDir,
    databaseUrl: e.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'aula.db')}`,
    blobUrl: e.BLOB_URL ?? `file:${path.join(dataDir, 'blobs')}`,
    redisUrl: e.REDIS_URL,
    sessionSecret: e.SESSION_SECRET,
    sessionTtlMs: e.SESSION_TTL,
    publicUrl: e.PUBLIC_URL,
    adminPassword: e.AULA_ADMIN_PASSWORD,
    seedDemo: e.SEED_DEMO,
    loginRateLimit: {
      perIp: e.LOGIN_RATE_LIMIT_PER_IP,
      perAccount: e.LOGIN_RATE_LIMIT_PER_ACCOUNT,
      windowMs: e.LOGIN_RATE_LIMIT_WINDOW,
    },
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
    passwordResetTtlMs: e.PASSWORD_RESET_TTL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    uploadLimitBytes: e.UPLOAD_LIMIT_BYTES,
    videoUploadLimitBytes: e.VIDEO_UPLOAD_LIMIT_BYTES,
    imageMaxPixels: e.IMAGE_MAX_PIXELS,
    trustProxy: e.TRUST_PROXY,
    gradesForwardGrpc: e.GRADES_FORWARD_GRPC,
    gradesCommitWindowMs: e.GRADES_COMMIT_WINDOW_MS,
    gradesRedisPrefix: e.GRADES_REDIS_PREFIX,
    rateLimitRedisPrefix: e.RATE_LIMIT_REDIS_PREFIX,
    webDist: path.resolve(e.WEB_DIST ?? path.join(import.meta.dirname, '../../web/dist')),
    workers: e.WORKERS,
    vision: {
      workers: Math.max(1, e.WORKERS ?? os.availableParallelism()),
      taskTimeoutMs: e.VISION_TASK_TIMEOUT,
      maxSide: e.VISION_MAX_SIDE,
      backend: e.VISION_BACKEND,
      tileSize: e.VISION_TILE_SIZE,
      faceApiModelDir: e.FACE_API_MODEL_DIR ? path.resolve(e.FACE_API_MODEL_DIR) : undefined,
      humanModelDir: e.HUMAN_MODEL_DIR ? path.resolve(e.HUMAN_MODEL_DIR) : undefined,
      detectMinConfidence: e.FACE_DETECT_MIN_CONFIDENCE,
    },
    faces: {
      matchThreshold: e.FACE_MATCH_THRESHOLD,
      matchMargin: e.FACE_MATCH_MARGIN,
      enrollMinSize: e.FACE_ENROLL_MIN_SIZE,
      enrollMinSharpness: e.FACE_ENROLL_MIN_SHARPNESS,
      enrollMaxYaw: e.FACE_ENROLL_MAX_YAW,
      loginMinAntispoof: e.FACE_LOGIN_MIN_ANTISPOOF,
      loginMinLiveness: e.FACE_LOGIN_MIN_LIVENESS,
      loginRateLimitPerIp: e.FACE_LOGIN_RATE_LIMIT_PER_IP ?? e.LOGIN_RATE_LIMIT_PER_IP,
    },
    queue: {
      prefix: e.QUEUE_PREFIX,
      attempts: e.QUEUE_ATTEMPTS,
      backoffMs: e.QUEUE_BACKOFF,
      lockDurationMs: e.QUEUE_LOCK_DURATION,
      stalledIntervalMs: e.QUEUE_STALLED_INTERVAL,
      maxStalledCount: e.QUEUE_MAX_STALLED,
    },
    attendance: {
      concurrency: e.ATTENDANCE_CONCURRENCY,
      retentionMs: e.ATTENDANCE_RETENTION,
      retentionSweepMs: e.ATTENDANCE_RETENTION_SWEEP,
      sampleMaxIntervalMs: e.ATTENDANCE_SAMPLE_MAX_INTERVAL,
      sampleMinIntervalMs: e.ATTENDANCE_SAMPLE_MIN_INTERVAL,
      sceneThreshold: e.ATTENDANCE_SCENE_THRESHOLD,
      videoMaxDurationMs: e.ATTENDANCE_VIDEO_MAX_DURATION,
      stillDiff: e.ATTENDANCE_STILL_DIFF,
      lowConfidence: e.ATTENDANCE_LOW_CONFIDENCE,
      reportThreshold: e.ATTENDANCE_REPORT_THRESHOLD,
      webcamIntervalMs: e.ATTENDANCE_WEBCAM_INTERVAL,
      gapMs: e.ATTENDANCE_GAP,
      facingAwayMs: e.ATTENDANCE_FACING_AWAY,
    },
    translate: {
      provider: e.TRANSLATE_PROVIDER ?? (onPath(e.APERTIUM_BIN, env.PATH ?? process.env.PATH) ? 'apertium' : 'none'),
      apertiumBin: e.APERTIUM_BIN,
      libreTranslateUrl: e.LIBRETRANSLATE_URL,
      libreTranslateApiKey: e.LIBRETRANSLATE_API_KEY,
      awsRegion: e.TRANSLATE_AWS_REGION ?? e.AWS_REGION,
      maxChars: e.TRANSLATE_MAX_CHARS,
      timeoutMs: e.TRANSLATE_TIMEOUT,
    },
    media: {
      ocrLangDir: path.resolve(e.OCR_LANG_DIR ?? path.join(dataDir, 'ocr')),
      autoOcr: e.MEDIA_AUTO_OCR,
    },
    zip: { maxEntries: e.ZIP_MAX_ENTRIES, maxTotalBytes: e.ZIP_MAX_TOTAL_BYTES, maxRatio: e.ZIP_MAX_RATIO },
  };
}

/** Whether `bin` names an executable file, directly or through the PATH (machine fact, not config). */
function onPath(bin: string, pathVar: string | undefined): boolean {
  const candidates = bin.includes('/')
    ? [bin]
    : (pathVar ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, bin));
  return candidates.some((f) => {
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return fs.statSync(f).isFile();
    } catch {
      return false;
    }
  });
}

/** Test and tooling helper: a Config from overrides only, ignoring the real environment. */
export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', SEED_DEMO: 'false', ...overrides });
}
