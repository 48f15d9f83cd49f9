import { request } from 'undici';
import { networkErrorKind } from './engine.ts';
import { GrpcEngine } from './grpc-engine.ts';
import { joinPath } from './rest-engine.ts';

/** The target cannot be used: the CLI prints the message and exits with code 1. */
export class UnreachableError extends Error {}

const PROBE_TIMEOUT_MS = 3000;

function describe(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR')) return code;
    e = (e as { cause?: unknown }).cause;
  }
  const kind = networkErrorKind(err);
  return kind === 'timeout' ? `no answer within ${PROBE_TIMEOUT_MS / 1000}s` : kind;
}

/** Checks that the HTTP server answers /health/live, so a typo fails in seconds, not after a run. */
export async function probeHttp(target: string): Promise<void> {
  const url = new URL(target);
  const address = `${url.origin}${joinPath(url.pathname, '/health/live')}`;
  try {
    const res = await request(address, {
      method: 'GET',
      headersTimeout: PROBE_TIMEOUT_MS,
      bodyTimeout: PROBE_TIMEOUT_MS,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await res.body.dump();
    if (res.statusCode !== 200)
      throw new UnreachableError(`${address} answered ${res.statusCode}; is this an Aula server?`);
  } catch (err) {
    if (err instanceof UnreachableError) throw err;
    throw new UnreachableError(`cannot reach ${address}: ${describe(err)}`);
  }
}

/** Checks that the token is accepted, so a wrong token fails before the run instead of as 100% errors. */
export async function probeToken(target: string, token: string): Promise<void> {
  const url = new URL(target);
  const address = `${url.origin}${joinPath(url.pathname, '/api/v1/auth/me')}`;
  let status: number;
  let code: string;
  try {
    const res = await request(address, {
      method: 'GET',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    status = res.statusCode;
    const body = (await res.body.json().catch(() => ({}))) as { code?: string };
    code = typeof body.code === 'string' ? ` (${body.code})` : '';
  } catch (err) {
    throw new UnreachableError(`cannot reach ${address}: ${describe(err)}`);
  }
  if (status === 401)
    throw new UnreachableError(`the server rejected the API token${code}; create one with "aula tokens create"`);
}

/** Checks that the gRPC port accepts an HTTP/2 connection. */
export async function probeGrpc(address: string): Promise<void> {
  const engine = await GrpcEngine.create({ address, token: undefined, channels: 1, timeoutMs: PROBE_TIMEOUT_MS });
  try {
    await engine.waitForReady(PROBE_TIMEOUT_MS);
  } catch (err) {
    throw new UnreachableError(`cannot reach the gRPC server at ${address}: ${(err as Error).message}`);
  } finally {
    await engine.close();
  }
}
