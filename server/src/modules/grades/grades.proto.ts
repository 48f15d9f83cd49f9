import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { AppError } from '../../platform/errors.ts';
import type { Ack, NormalizedGrade } from './grades.schemas.ts';

export const GRADES_PROTO = path.resolve(import.meta.dirname, '../../../../proto/grades.proto');
export const GRADES_SERVICE = 'aula.grades.v1.Grades';

/** A Grade message as proto-loader hands it over (field names as in the .proto). */
export interface GradeMessage {
  student_code: string;
  student_name: string;
  course_code: string;
  semester: number;
  year: number;
  score: number;
  idempotency_key: string;
}

export type GradesClient = grpc.Client & {
  SubmitBatch(
    req: { grades: GradeMessage[] },
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: Ack) => void,
  ): grpc.ClientUnaryCall;
};

// proto3 scalars default to 0 or '' when absent, which validation then rejects as missing.
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

let definition: protoLoader.PackageDefinition | undefined;

export function gradesPackageDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync(GRADES_PROTO, LOADER_OPTIONS);
  return definition;
}

export function gradesClientConstructor(): grpc.ServiceClientConstructor {
  const pkg = grpc.loadPackageDefinition(gradesPackageDefinition()) as unknown as {
    aula: { grades: { v1: { Grades: grpc.ServiceClientConstructor } } };
  };
  return pkg.aula.grades.v1.Grades;
}

export function toGradeMessage(g: NormalizedGrade): GradeMessage {
  return {
    student_code: g.studentCode,
    student_name: g.studentName,
    course_code: g.courseCode,
    semester: g.semester,
    year: g.year,
    score: g.scoreX100 / 100,
    idempotency_key: g.idempotencyKey ?? '',
  };
}

/** The REST field names of a gRPC message; an empty idempotency key means none. */
export function fromGradeMessage(m: GradeMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    student_code: m.student_code,
    student_name: m.student_name,
    course_code: m.course_code,
    semester: m.semester,
    year: m.year,
    score: m.score,
  };
  if (m.idempotency_key !== '') out.idempotency_key = m.idempotency_key;
  return out;
}

// ---- strict wire-format check --------------------------------------------------------------

type FieldKind = 'string' | 'varint' | 'fixed64' | 'grade';
const GRADE_FIELDS: Record<number, FieldKind> = {
  1: 'string',
  2: 'string',
  3: 'string',
  4: 'varint',
  5: 'varint',
  6: 'fixed64',
  7: 'string',
};
const BATCH_FIELDS: Record<number, FieldKind> = { 1: 'grade' };
const WIRE_OF: Record<FieldKind, number> = { string: 2, grade: 2, varint: 0, fixed64: 1 };
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * protobufjs decodes leniently (a truncated string is read short, a bad wire type is guessed
 * around), so bytes are checked first: every tag, wire type, length and nested message must be
 * well formed, known fields must have their declared wire type, and strings must be UTF-8.
 * Returns what is wrong, or null.
 */
export function wireFormatProblem(bytes: Uint8Array, message: 'Grade' | 'GradeBatch'): string | null {
  return walk(bytes, 0, bytes.length, message === 'Grade' ? GRADE_FIELDS : BATCH_FIELDS);
}

function walk(b: Uint8Array, start: number, end: number, fields: Record<number, FieldKind>): string | null {
  let pos = start;
  const varint = (): number | null => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) return null;
      const byte = b[pos++];
      result += (byte & 0x7f) * mul;
      mul *= 128;
      if ((byte & 0x80) === 0) return result;
    }
    return null;
  };
  while (pos < end) {
    const tag = varint();
    if (tag === null) return `truncated tag at byte ${pos}`;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) return 'field number 0';
    const kind = fields[field] as FieldKind | undefined;
    if (kind !== undefined && WIRE_OF[kind] !== wire) return `field ${field} has wire type ${wire}`;
    switch (wire) {
      case 0:
        if (varint() === null) return `truncated varint in field ${field}`;
        break;
      case 1:
        pos += 8;
        if (pos > end) return `truncated fixed64 in field ${field}`;
        break;
      case 5:
        pos += 4;
        if (pos > end) return `truncated fixed32 in field ${field}`;
        break;
      case 2: {
        const len = varint();
        if (len === null || pos + len > end) return `field ${field} is longer than the message`;
        if (kind === 'string') {
          try {
            utf8.decode(b.subarray(pos, pos + len));
          } catch {
            return `field ${field} is not UTF-8`;
          }
        } else if (kind === 'grade') {
          const inner = walk(b, pos, pos + len, GRADE_FIELDS);
          if (inner) return `grade: ${inner}`;
        }
        pos += len;
        break;
      }
      default:
        return `unsupported wire type ${wire} in field ${field}`;
    }
  }
  return null;
}

// Trailing metadata that carries an AppError across gRPC, so a REST front can rebuild the problem.
export const CODE_TRAILER = 'aula-code';
export const DETAILS_TRAILER = 'aula-details';

const STATUS_OF_HTTP: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  404: grpc.status.NOT_FOUND,
  409: grpc.status.ALREADY_EXISTS,
  413: grpc.status.RESOURCE_EXHAUSTED,
  429: grpc.status.RESOURCE_EXHAUSTED,
  503: grpc.status.UNAVAILABLE,
};

export function grpcStatusOf(err: AppError): grpc.status {
  return STATUS_OF_HTTP[err.status] ?? grpc.status.INTERNAL;
}

const HTTP_OF_STATUS: Partial<Record<grpc.status, [number, string]>> = {
  [grpc.status.INVALID_ARGUMENT]: [400, 'validation_failed'],
  [grpc.status.UNAUTHENTICATED]: [401, 'invalid_token'],
  [grpc.status.PERMISSION_DENIED]: [403, 'forbidden'],
  [grpc.status.RESOURCE_EXHAUSTED]: [429, 'ingest_overloaded'],
  [grpc.status.UNAVAILABLE]: [503, 'ingest_unavailable'],
  [grpc.status.DEADLINE_EXCEEDED]: [503, 'ingest_timeout'],
};

/** Rebuilds the AppError behind a gRPC failure (codes and details travel in trailers). */
export function appErrorFromGrpc(err: grpc.ServiceError): AppError {
  const mapped = HTTP_OF_STATUS[err.code];
  const code = String(err.metadata?.get(CODE_TRAILER)[0] ?? mapped?.[1] ?? 'ingest_upstream_failed');
  let details: Record<string, unknown> = {};
  const raw = err.metadata?.get(DETAILS_TRAILER)[0];
  if (raw !== undefined) {
    try {
      details = JSON.parse(String(raw)) as Record<string, unknown>;
    } catch {
      details = {};
    }
  }
  if (!mapped) {
    return new AppError('ingest_upstream_failed', 502, 'The grade ingest service failed; nothing was acknowledged');
  }
  const [status] = mapped;
  if (status === 503) details.retryAfterSeconds ??= 1;
  return new AppError(code, status, err.details || code, details);
}
