import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError } from 'zod';
import { classifyDriverError } from '../platform/db/db-errors.ts';
import { AppError } from '../platform/errors.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance?: string;
  errors?: { path: string; message: string }[];
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

// Fastify and plugin error codes that are the client's fault, mapped to stable product codes.
const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_EMPTY_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'unsupported_media_type'],
  FST_REQ_FILE_TOO_LARGE: [413, 'payload_too_large'],
  FST_PARTS_LIMIT: [413, 'too_many_parts'],
  FST_FILES_LIMIT: [413, 'too_many_files'],
  FST_FIELDS_LIMIT: [413, 'too_many_fields'],
  FST_PROTO_VIOLATION: [400, 'invalid_multipart'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_VALIDATION: [400, 'validation_failed'],
  FST_ERR_BAD_URL: [400, 'bad_url'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'bad_request'],
};

export function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  return { type: `/problems/${code}`, title: TITLES[status] ?? 'Error', status, code, detail, ...extra };
}

export function toProblem(err: unknown, instance?: string): { problem: Problem; internal: boolean } {
  if (err instanceof AppError) {
    const { retryAfterSeconds: _r, ...details } = err.details ?? {};
    return {
      problem: problem(err.status, err.code, err.message, { ...details, instance }),
      internal: err.status >= 500,
    };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const errors = err.validation.map((v) => ({
      path: `${err.validationContext ?? 'body'}${v.instancePath.replace(/\//g, '.')}`,
      message: v.message ?? 'invalid',
    }));
    return {
      problem: problem(400, 'validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
        errors,
        instance,
      }),
      internal: false,
    };
  }
  if (err instanceof ZodError) {
    const errors = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    return {
      problem: problem(400, 'validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
        errors,
        instance,
      }),
      internal: false,
    };
  }
  const fe = err as Partial<FastifyError> & { status?: number };
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return { problem: problem(mapped[0], mapped[1], fe.message ?? mapped[1], { instance }), internal: false };
  const status = fe.statusCode ?? fe.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { problem: problem(status, 'bad_request', fe.message ?? 'Bad request', { instance }), internal: false };
  }
  // A lost or refused database connection is an outage, not a bug: the client may retry, and
  // nothing was acknowledged, because every write answers only after its commit.
  if (classifyDriverError(err) !== 'error') {
    return {
      problem: problem(503, 'database_unavailable', 'The database is unavailable; retry shortly', { instance }),
      internal: true,
    };
  }
  // Everything else is ours: the client learns nothing of the internals.
  return { problem: problem(500, 'internal_error', 'Internal server error', { instance }), internal: true };
}

const DEFAULT_RETRY_AFTER_SECONDS = 2;

export function sendProblem(reply: FastifyReply, req: FastifyRequest, err: unknown): FastifyReply {
  const { problem: p, internal } = toProblem(err, req.url.split('?')[0]);
  if (internal) req.log.error({ err }, 'request failed');
  if (err instanceof AppError && typeof err.details?.retryAfterSeconds === 'number') {
    void reply.header('retry-after', String(err.details.retryAfterSeconds));
  } else if (p.status === 503) {
    // Every outage answer tells clients when to come back, so retries do not stampede.
    void reply.header('retry-after', String(DEFAULT_RETRY_AFTER_SECONDS));
  }
  return reply.status(p.status).type('application/problem+json').send(p);
}
