import type { GradeRecord } from './data.ts';
import type { Outcome, Transport } from './stats.ts';

/** One transport to the server. send() never throws: failures come back as error kinds. */
export interface Engine {
  readonly transport: Transport;
  send(grades: GradeRecord[]): Promise<Outcome>;
  close(): Promise<void>;
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT', 'ABORT_ERR']);

/** Maps a network error to a stable kind: `connect`, `reset`, `timeout`, or the raw code. */
export function networkErrorKind(err: unknown): string {
  let e: unknown = err;
  // undici wraps the socket error as `cause`; look through a few levels.
  for (let depth = 0; depth < 4 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (CONNECT_CODES.has(code)) return 'connect';
      if (RESET_CODES.has(code)) return 'reset';
      if (TIMEOUT_CODES.has(code)) return 'timeout';
    }
    if ((e as { name?: unknown }).name === 'TimeoutError' || (e as { name?: unknown }).name === 'AbortError') {
      return 'timeout';
    }
    e = (e as { cause?: unknown }).cause;
  }
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code.toLowerCase() : 'network';
}

/** The acknowledgement body of a grade submission: `{ accepted, duplicates }`. */
export function ackedGrades(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { accepted, duplicates } = body as { accepted?: unknown; duplicates?: unknown };
  if (typeof accepted !== 'number' || !Number.isFinite(accepted) || accepted < 0) return undefined;
  const dup = duplicates === undefined ? 0 : duplicates;
  if (typeof dup !== 'number' || !Number.isFinite(dup) || dup < 0) return undefined;
  return accepted + dup;
}
