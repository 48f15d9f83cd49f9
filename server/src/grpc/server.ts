import * as grpc from '@grpc/grpc-js';
import type { AppContext } from '../context.ts';
import type { Actor } from '../modules/identity/actor.ts';
import {
  CODE_TRAILER,
  DETAILS_TRAILER,
  fromGradeMessage,
  GRADES_SERVICE,
  gradesPackageDefinition,
  grpcStatusOf,
  type GradeMessage,
  wireFormatProblem,
} from '../modules/grades/grades.proto.ts';
import { parseGrades, type Ack, type NormalizedGrade, type RecordError } from '../modules/grades/grades.schemas.ts';
import { AppError } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';

/**
 * The gRPC transport of grade ingest: aula.grades.v1.Grades on GRPC_PORT.
 *
 * Per-call semantics:
 * - Submit and SubmitBatch are all or nothing: any invalid record → INVALID_ARGUMENT, nothing
 *   stored; the Ack comes only after the records are durably committed.
 * - SubmitStream is committed in chunks of up to 1000 records while the stream is open, so a
 *   long stream needs no memory for all of it and never waits for its end. A bad message ends
 *   the call with INVALID_ARGUMENT: chunks committed before it stay stored (the status message and
 *   the trailers `aula-accepted` / `aula-duplicates` say how many), the rest of the stream is
 *   not stored. With idempotency keys, resending the whole stream is always safe.
 * - Authentication: metadata `authorization: Bearer <token>` with the grades:write scope
 *   (UNAUTHENTICATED / PERMISSION_DENIED otherwise). Bytes that are not a valid message →
 *   INVALID_ARGUMENT.
 */

const MALFORMED = Symbol('malformed');
type Incoming<T> = T | { [MALFORMED]: string };

const STREAM_CHUNK = 1000;
const STREAM_MAX_INFLIGHT = 4;

export interface GrpcServerHandle {
  port: number;
  stop(graceMs?: number): Promise<void>;
}

export async function startGrpcServer(
  ctx: AppContext,
  opts: { host?: string; port?: number } = {},
): Promise<GrpcServerHandle> {
  const host = opts.host ?? ctx.config.grpcHost;
  const port = opts.port ?? ctx.config.grpcPort;
  const logger = ctx.logger.child({ component: 'grpc' });
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });
  server.addService(tolerantService(), handlers(ctx, logger));
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  logger.info({ port: bound }, 'gRPC grade ingest listening');
  let stopping: Promise<void> | undefined;
  return {
    port: bound,
    stop: (graceMs = 10_000) =>
      (stopping ??= new Promise<void>((resolve) => {
        // Calls in flight finish (their commits are acknowledged); after the grace period, cut.
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      })),
  };
}

/**
 * The generated definition, with deserializers that report bad bytes to the handler instead of
 * throwing (grpc-js would answer INTERNAL; a malformed request is the client's fault).
 */
function tolerantService(): grpc.ServiceDefinition {
  const service = gradesPackageDefinition()[GRADES_SERVICE] as grpc.ServiceDefinition;
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service)) {
    const message = name === 'SubmitBatch' ? 'GradeBatch' : 'Grade';
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        const problem = wireFormatProblem(bytes, message);
        if (problem) return { [MALFORMED]: problem };
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          return { [MALFORMED]: (err as Error).message };
        }
      },
    };
  }
  return out;
}

function isMalformed<T>(m: Incoming<T>): m is { [MALFORMED]: string } {
  return typeof m === 'object' && m !== null && MALFORMED in m;
}

function malformedError(index: number | null, why: string): AppError {
  const where = index === null ? 'The request' : `Message ${index}`;
  return new AppError('malformed_message', 400, `${where} is not a valid protobuf message: ${why}`);
}

function handlers(ctx: AppContext, logger: Logger): grpc.UntypedServiceImplementation {
  const grades = ctx.grades;

  async function authenticate(md: grpc.Metadata): Promise<Actor> {
    const values = md.get('authorization');
    if (values.length === 0) {
      throw new AppError('unauthorized', 401, 'Send metadata "authorization: Bearer <API token>"');
    }
    const m = /^Bearer\s+(\S+)$/i.exec(String(values[0]));
    if (!m) throw new AppError('invalid_authorization', 401, 'Authorization must be "Bearer <token>"');
    const actor = await ctx.identity.resolveApiToken(m[1]);
    if (!actor) throw new AppError('invalid_token', 401, 'The API token is not valid, expired or revoked');
    return grades.authorizeIngest(actor);
  }

  const sourceOf = (md: grpc.Metadata): 'rest' | 'grpc' =>
    String(md.get('aula-source')[0] ?? '') === 'rest' ? 'rest' : 'grpc';

  function toStatus(err: unknown, extra?: Record<string, string>): Partial<grpc.StatusObject> {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(extra ?? {})) metadata.set(k, v);
    if (err instanceof AppError) {
      metadata.set(CODE_TRAILER, err.code);
      const { retryAfterSeconds, errors, ...rest } = err.details ?? {};
      const details: Record<string, unknown> = { ...rest };
      if (Array.isArray(errors)) details.errors = errors.slice(0, 20);
      if (typeof retryAfterSeconds === 'number') details.retryAfterSeconds = retryAfterSeconds;
      // Metadata values must be printable ASCII: escape the rest the JSON way.
      const json = JSON.stringify(details).replace(
        /[^\x20-\x7e]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      );
      if (json !== '{}' && json.length < 6000) metadata.set(DETAILS_TRAILER, json);
      return { code: grpcStatusOf(err), details: err.message, metadata };
    }
    logger.error({ err }, 'gRPC call failed');
    return { code: grpc.status.INTERNAL, details: 'Internal error; nothing was acknowledged', metadata };
  }

  function unary<Req>(run: (req: Req, md: grpc.Metadata) => Promise<Ack>): grpc.handleUnaryCall<Incoming<Req>, Ack> {
    return (call, callback) => {
      const req = call.request;
      const p = isMalformed(req) ? Promise.reject(malformedError(null, req[MALFORMED])) : run(req, call.metadata);
      p.then(
        (ack) => callback(null, ack),
        (err: unknown) => callback(toStatus(err)),
      );
    };
  }

  const Submit = unary<GradeMessage>(async (msg, md) =>
    grades.ingest(await authenticate(md), fromGradeMessage(msg), sourceOf(md)),
  );

  const SubmitBatch = unary<{ grades: GradeMessage[] }>(async (msg, md) =>
    grades.ingest(await authenticate(md), (msg.grades ?? []).map(fromGradeMessage), sourceOf(md)),
  );

  const SubmitStream: grpc.handleClientStreamingCall<Incoming<GradeMessage>, Ack> = (call, callback) => {
    const source = sourceOf(call.metadata);
    const auth = authenticate(call.metadata);
    auth.catch(() => undefined);
    let index = 0;
    let pending: NormalizedGrade[] = [];
    let accepted = 0;
    let duplicates = 0;
    let finished = false;
    const inflight = new Set<Promise<void>>();

    const finish = async (err: unknown) => {
      if (finished) return;
      finished = true;
      pending = [];
      await Promise.allSettled([...inflight]);
      if (err === undefined) {
        callback(null, { accepted, duplicates });
        return;
      }
      const status = toStatus(err, { 'aula-accepted': String(accepted), 'aula-duplicates': String(duplicates) });
      if (accepted + duplicates > 0) {
        status.details = `${status.details ?? ''} (${accepted} record(s) from earlier in this stream were stored, ${duplicates} duplicate(s))`;
      }
      callback(status);
    };

    const flush = () => {
      if (pending.length === 0) return;
      const chunk = pending;
      pending = [];
      const p = auth
        .then((actor) => grades.submitValidated(actor, chunk, source))
        .then(
          (ack) => {
            accepted += ack.accepted;
            duplicates += ack.duplicates;
          },
          (err: unknown) => void finish(err),
        )
        .finally(() => {
          inflight.delete(p);
          if (inflight.size < STREAM_MAX_INFLIGHT && call.isPaused()) call.resume();
        });
      inflight.add(p);
      // Backpressure: stop reading while enough chunks are waiting for their commit.
      if (inflight.size >= STREAM_MAX_INFLIGHT) call.pause();
    };

    auth.catch((err: unknown) => void finish(err));
    call.on('data', (msg: Incoming<GradeMessage>) => {
      if (finished) return;
      const i = index++;
      if (isMalformed(msg)) {
        void finish(malformedError(i, msg[MALFORMED]));
        return;
      }
      try {
        pending.push(parseGrades(fromGradeMessage(msg))[0]);
      } catch (err) {
        if (err instanceof AppError && Array.isArray(err.details?.errors)) {
          const errors = (err.details.errors as RecordError[]).map((e) => ({ ...e, index: i }));
          const first = errors[0];
          void finish(
            new AppError(
              'validation_failed',
              400,
              `Message ${i}, ${first?.path || 'record'}: ${first?.message ?? 'invalid'}`,
              {
                errors,
              },
            ),
          );
        } else {
          void finish(err);
        }
        return;
      }
      if (pending.length >= STREAM_CHUNK) flush();
    });
    call.on('end', () => {
      if (finished) return;
      flush();
      void (async () => {
        try {
          await auth;
        } catch (err) {
          await finish(err);
          return;
        }
        while (inflight.size > 0 && !finished) await Promise.allSettled([...inflight]);
        await finish(undefined);
      })();
    });
    call.on('error', (err) => void finish(err));
  };

  return { Submit, SubmitBatch, SubmitStream };
}
