import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { GradeRecord } from './data.ts';
import { ackedGrades, type Engine } from './engine.ts';
import type { Outcome } from './stats.ts';

export const PROTO_FILE = path.resolve(import.meta.dirname, '../../../proto/grades.proto');

export interface GrpcEngineOptions {
  /** host:port */
  address: string;
  token: string | undefined;
  /** Separate HTTP/2 connections; requests are spread over them round-robin. */
  channels: number;
  timeoutMs: number;
}

type WireGrade = GradeRecord;

type UnaryFn<Req> = (
  req: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: { accepted: number; duplicates: number }) => void,
) => grpc.ClientUnaryCall;

interface GradesClient extends grpc.Client {
  Submit: UnaryFn<WireGrade>;
  SubmitBatch: UnaryFn<{ grades: WireGrade[] }>;
}

type GradesClientCtor = new (
  address: string,
  creds: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => GradesClient;

let ctorPromise: Promise<GradesClientCtor> | undefined;

/** The generated client constructor for aula.grades.v1.Grades, loaded once from proto/. */
export function gradesClientCtor(): Promise<GradesClientCtor> {
  ctorPromise ??= protoLoader
    .load(PROTO_FILE, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true })
    .then((def) => {
      const pkg = grpc.loadPackageDefinition(def) as unknown as {
        aula: { grades: { v1: { Grades: GradesClientCtor } } };
      };
      return pkg.aula.grades.v1.Grades;
    });
  return ctorPromise;
}

const STATUS_NAMES = new Map<number, string>(
  Object.entries(grpc.status)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k]),
);

/** grpc_UNAVAILABLE, grpc_PERMISSION_DENIED…; a missed deadline is `timeout` like on REST. */
export function grpcErrorKind(err: grpc.ServiceError): string {
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return 'timeout';
  return `grpc_${STATUS_NAMES.get(err.code) ?? String(err.code)}`;
}

/** gRPC with @grpc/grpc-js: Submit for one grade, SubmitBatch for several. */
export class GrpcEngine implements Engine {
  readonly transport = 'grpc' as const;
  private next = 0;

  private constructor(
    private readonly clients: GradesClient[],
    private readonly metadata: grpc.Metadata,
    private readonly timeoutMs: number,
  ) {}

  static async create(opts: GrpcEngineOptions): Promise<GrpcEngine> {
    const Ctor = await gradesClientCtor();
    const clients: GradesClient[] = [];
    for (let i = 0; i < opts.channels; i++) {
      clients.push(
        new Ctor(opts.address, grpc.credentials.createInsecure(), {
          // Without a private subchannel pool, every client would share one connection.
          'grpc.use_local_subchannel_pool': 1,
          'grpc.max_send_message_length': 64 * 1024 * 1024,
          'grpc.keepalive_time_ms': 30_000,
          'grpc.enable_retries': 0,
        }),
      );
    }
    const md = new grpc.Metadata();
    if (opts.token) md.set('authorization', `Bearer ${opts.token}`);
    return new GrpcEngine(clients, md, opts.timeoutMs);
  }

  send(grades: GradeRecord[]): Promise<Outcome> {
    const client = this.clients[this.next++ % this.clients.length];
    const options: grpc.CallOptions = { deadline: Date.now() + this.timeoutMs };
    return new Promise<Outcome>((resolve) => {
      const done = (err: grpc.ServiceError | null, res?: { accepted: number; duplicates: number }) => {
        if (err) return resolve({ ok: false, kind: grpcErrorKind(err) });
        const acked = ackedGrades(res);
        resolve(acked === undefined ? { ok: false, kind: 'bad_response' } : { ok: true, grades: acked });
      };
      try {
        // The record's fields are the proto's; an absent idempotency_key encodes as empty (none).
        if (grades.length === 1) client.Submit(grades[0], this.metadata, options, done);
        else client.SubmitBatch({ grades }, this.metadata, options, done);
      } catch (err) {
        resolve({ ok: false, kind: `grpc_${(err as Error).name || 'error'}` });
      }
    });
  }

  /** Waits until every channel is connected, or rejects after `timeoutMs`. */
  async waitForReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.all(
      this.clients.map(
        (c) =>
          new Promise<void>((resolve, reject) => c.waitForReady(deadline, (err) => (err ? reject(err) : resolve()))),
      ),
    );
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.close();
  }
}
