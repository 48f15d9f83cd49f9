import fs from 'node:fs';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { MAX_STUDENTS } from './data.ts';
import { seedFrom } from './prng.ts';
import { parseThreshold, ThresholdSyntaxError, type Threshold } from './thresholds.ts';
import { parseDurationMs, parsePositiveInt, parseRate } from './units.ts';

export type Mode = 'rest' | 'grpc' | 'split';
export type Model = 'closed' | 'open';

/** A fully checked description of one load run. */
export interface LoadOptions {
  /** Base URL of the HTTP server; undefined only for gRPC-only runs that do not publish. */
  target: string | undefined;
  /** host:port of the gRPC server; undefined when no request goes over gRPC. */
  grpc: string | undefined;
  mode: Mode;
  /** Share of requests sent over REST in split mode, 0–100. */
  splitRestPercent: number;
  model: Model;
  users: number;
  rampMs: number;
  /** Open model: arrivals per second. */
  rate: number | undefined;
  maxInflight: number;
  durationMs: number | undefined;
  requests: number | undefined;
  batch: number;
  seed: number;
  students: number;
  idempotency: boolean;
  timeoutMs: number;
  connections: number;
  grpcChannels: number;
  token: string | undefined;
  reports: string[];
  thresholds: Threshold[];
  publish: boolean;
  runId: string | undefined;
  name: string;
  workerId: string;
  method: 'GET' | 'POST';
  path: string;
  selfTest: boolean;
  quiet: boolean;
}

/** Options as they come from the command line: strings, repeatable lists and switches. */
export interface RawOptions {
  target?: string;
  grpc?: string;
  mode?: string;
  split?: string;
  users?: string;
  ramp?: string;
  rate?: string;
  maxInflight?: string;
  duration?: string;
  requests?: string;
  batch?: string;
  seed?: string;
  students?: string;
  idempotency?: boolean;
  timeout?: string;
  connections?: string;
  grpcChannels?: string;
  token?: string;
  tokenFile?: string;
  report?: string[];
  threshold?: string[];
  publish?: boolean;
  runId?: string;
  name?: string;
  workerId?: string;
  method?: string;
  path?: string;
  selfTest?: boolean;
  quiet?: boolean;
}

/** A problem with the command line: the CLI prints it with the usage and exits with code 2. */
export class UsageError extends Error {}

export const REPORT_EXTENSIONS = ['.json', '.csv', '.html'] as const;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const DEFAULT_DURATION_MS = 30_000;

function wrap<T>(fn: () => T, flag?: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (err instanceof ThresholdSyntaxError) throw new UsageError(`--threshold: ${err.message}`);
    if (err instanceof Error) throw new UsageError(flag ? `${flag}: ${err.message}` : err.message);
    throw err;
  }
}

const intOpt = (v: string | undefined, flag: string, max?: number): number | undefined =>
  v === undefined ? undefined : wrap(() => parsePositiveInt(v, flag, max));
const durOpt = (v: string | undefined, flag: string): number | undefined =>
  v === undefined ? undefined : wrap(() => parseDurationMs(v), flag);

function parseTarget(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`--target "${v}" is not a URL (use e.g. http://localhost:8000)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UsageError(`--target must be an http:// or https:// URL, got "${v}"`);
  }
  if (u.search || u.hash) throw new UsageError('--target takes a base URL without query or fragment');
  return u.toString().replace(/\/+$/, '');
}

function parseHostPort(v: string): string {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v.trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new UsageError(`--grpc must be host:port (e.g. localhost:50051), got "${v}"`);
  }
  return v.trim();
}

export function defaultWorkerId(): string {
  const host =
    os
      .hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 40) || 'worker';
  return `${host}-${process.pid}`;
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `run-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Checks every flag and their combinations; throws UsageError with a message fit for the user. */
export function resolveOptions(
  raw: RawOptions,
  readFile: (f: string) => string = (f) => fs.readFileSync(f, 'utf8'),
): LoadOptions {
  const selfTest = raw.selfTest ?? false;
  let mode: Mode;
  if (raw.mode === undefined) mode = raw.split !== undefined ? 'split' : 'rest';
  else if (raw.mode === 'rest' || raw.mode === 'grpc' || raw.mode === 'split') mode = raw.mode;
  else throw new UsageError(`--mode must be rest, grpc or split, got "${raw.mode}"`);

  let splitRestPercent = mode === 'rest' ? 100 : mode === 'grpc' ? 0 : 50;
  if (raw.split !== undefined) {
    if (mode !== 'split') throw new UsageError('--split only applies to --mode split');
    const n = Number(raw.split.replace(/%$/, ''));
    if (!/^\d+(\.\d+)?%?$/.test(raw.split.trim()) || !(n >= 0 && n <= 100)) {
      throw new UsageError(`--split must be a percentage from 0 to 100 (the share sent over REST), got "${raw.split}"`);
    }
    splitRestPercent = Math.round(n * 100) / 100;
  }

  const method = (raw.method ?? 'POST').toUpperCase();
  if (method !== 'GET' && method !== 'POST') throw new UsageError(`--method must be GET or POST, got "${raw.method}"`);
  if (method === 'GET' && mode !== 'rest') throw new UsageError('--method GET only works with --mode rest');
  const path = raw.path ?? (method === 'GET' ? '/health/live' : '/api/v1/grades');
  if (!path.startsWith('/') || /\s/.test(path)) throw new UsageError(`--path must start with "/", got "${path}"`);

  // Load model: --rate means open (arrival rate); otherwise closed (virtual users).
  const rate = raw.rate === undefined ? undefined : wrap(() => parseRate(raw.rate!), '--rate');
  const model: Model = rate === undefined ? 'closed' : 'open';
  if (model === 'open' && raw.users !== undefined) {
    throw new UsageError('use either --users (closed model) or --rate (open model), not both');
  }
  if (model === 'open' && raw.ramp !== undefined) throw new UsageError('--ramp applies to --users, not to --rate');
  if (model === 'closed' && raw.maxInflight !== undefined) throw new UsageError('--max-inflight applies to --rate');
  const users = intOpt(raw.users, '--users', 100_000) ?? 10;
  const rampMs = durOpt(raw.ramp, '--ramp') ?? 0;
  const maxInflight = intOpt(raw.maxInflight, '--max-inflight', 1_000_000) ?? 1000;

  const requests = intOpt(raw.requests, '--requests');
  let durationMs = durOpt(raw.duration, '--duration');
  if (durationMs !== undefined && durationMs <= 0) throw new UsageError('--duration must be longer than 0');
  if (durationMs === undefined && requests === undefined) durationMs = DEFAULT_DURATION_MS;
  if (durationMs !== undefined && rampMs > durationMs) throw new UsageError('--ramp cannot be longer than --duration');
  if (rate !== undefined && requests === undefined && durationMs !== undefined && (durationMs * rate) / 1000 < 1) {
    throw new UsageError('--rate × --duration schedules no request at all');
  }

  const batch = intOpt(raw.batch, '--batch', 1000) ?? 1;
  if (method === 'GET' && batch !== 1) throw new UsageError('--batch needs --method POST');
  const students = intOpt(raw.students, '--students', MAX_STUDENTS) ?? 500;
  const timeoutMs = durOpt(raw.timeout, '--timeout') ?? 10_000;
  if (timeoutMs < 1) throw new UsageError('--timeout must be at least 1ms');
  const connections =
    intOpt(raw.connections, '--connections', 10_000) ??
    (model === 'closed' ? Math.min(users, 1024) : Math.min(maxInflight, 256));
  const grpcChannels = intOpt(raw.grpcChannels, '--grpc-channels', 64) ?? 2;

  let seed: number;
  if (raw.seed === undefined) seed = randomBytes(4).readUInt32BE(0);
  else if (raw.seed.trim() === '') throw new UsageError('--seed needs a value');
  else seed = seedFrom(raw.seed.trim());

  let token = raw.token;
  if (raw.token !== undefined && raw.tokenFile !== undefined)
    throw new UsageError('use --token or --token-file, not both');
  if (raw.tokenFile !== undefined) {
    try {
      token = readFile(raw.tokenFile).trim();
    } catch (err) {
      throw new UsageError(
        `cannot read --token-file ${raw.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    if (!token) throw new UsageError(`--token-file ${raw.tokenFile} is empty`);
  }
  if (token !== undefined && !/^\S+$/.test(token)) throw new UsageError('the token must be one word without spaces');

  const publish = raw.publish ?? false;
  if (selfTest && publish) throw new UsageError('--self-test cannot --publish (its target is a local stand-in)');
  if (!publish && raw.runId !== undefined) throw new UsageError('--run-id needs --publish');
  if (raw.runId !== undefined && !ID_PATTERN.test(raw.runId)) {
    throw new UsageError('--run-id may hold letters, digits, dot, dash and underscore (up to 64)');
  }
  const workerId = raw.workerId ?? defaultWorkerId();
  if (!ID_PATTERN.test(workerId))
    throw new UsageError('--worker-id may hold letters, digits, dot, dash and underscore (up to 64)');
  const name = (raw.name ?? '').trim();
  if (name.length > 200) throw new UsageError('--name is limited to 200 characters');

  const usesRest = mode !== 'grpc';
  const usesGrpc = mode !== 'rest';
  if (selfTest && (raw.target !== undefined || raw.grpc !== undefined)) {
    throw new UsageError('--self-test starts its own local server; leave out --target and --grpc');
  }
  let target = raw.target === undefined ? undefined : parseTarget(raw.target);
  if (target === undefined && !selfTest && (usesRest || publish)) target = 'http://localhost:8000';
  // An address alone is not a contradiction (shared argument lists); REST-only runs ignore it.
  let grpc = raw.grpc === undefined || !usesGrpc ? undefined : parseHostPort(raw.grpc);
  if (raw.grpc !== undefined) parseHostPort(raw.grpc);
  if (grpc === undefined && usesGrpc && !selfTest) {
    const host = target ? new URL(target).hostname : 'localhost';
    grpc = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:50051`;
  }

  if (!selfTest && method === 'POST' && !token) {
    throw new UsageError('grade ingest needs an API token with the grades:write scope: --token T or --token-file F');
  }
  if (publish && !token) throw new UsageError('--publish needs an API token with the loadtest:publish scope');

  const reports = raw.report ?? [];
  for (const r of reports) {
    if (!REPORT_EXTENSIONS.some((e) => r.toLowerCase().endsWith(e))) {
      throw new UsageError(`--report ${r}: the file name must end in ${REPORT_EXTENSIONS.join(', ')}`);
    }
  }
  const thresholds = (raw.threshold ?? []).map((t) => wrap(() => parseThreshold(t)));

  return {
    target,
    grpc,
    mode,
    splitRestPercent,
    model,
    users,
    rampMs,
    rate,
    maxInflight,
    durationMs,
    requests,
    batch,
    seed,
    students,
    idempotency: raw.idempotency ?? false,
    timeoutMs,
    connections,
    grpcChannels,
    token,
    reports,
    thresholds,
    publish,
    runId: publish ? (raw.runId ?? newRunId()) : undefined,
    name: name || `${mode} ${model === 'open' ? `${rate}/s` : `${users} users`}`,
    workerId,
    method,
    path,
    selfTest,
    quiet: raw.quiet ?? false,
  };
}

/** The options as written to reports and published: everything but the token. */
export function publicConfig(o: LoadOptions): Record<string, unknown> {
  return {
    target: o.target ?? null,
    grpc: o.grpc ?? null,
    mode: o.mode,
    split: o.mode === 'split' ? o.splitRestPercent : null,
    model: o.model,
    users: o.model === 'closed' ? o.users : null,
    rampMs: o.model === 'closed' ? o.rampMs : null,
    rate: o.rate ?? null,
    maxInflight: o.model === 'open' ? o.maxInflight : null,
    durationMs: o.durationMs ?? null,
    requests: o.requests ?? null,
    batch: o.batch,
    seed: o.seed,
    students: o.students,
    idempotency: o.idempotency,
    timeoutMs: o.timeoutMs,
    connections: o.connections,
    grpcChannels: o.grpcChannels,
    method: o.method,
    path: o.path,
    selfTest: o.selfTest,
    thresholds: o.thresholds.map((t) => t.expr),
    runId: o.runId ?? null,
    workerId: o.workerId,
    name: o.name,
  };
}
