export type DbErrorKind = 'retry' | 'unavailable' | 'error';

const RETRY_CODES = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', '40P01', '40001']);
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_QUERY_INTERRUPTED',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_CANT_LOCK',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_IOERR',
  'SQLITE_PROTOCOL',
]);

/**
 * Sorts a driver error (mysql2, pg, better-sqlite3) into: worth a retry (deadlock, serialization),
 * "the database is not there" (connection refused or lost, server shutting down, disk trouble),
 * or anything else, which is a bug.
 */
export function classifyDriverError(err: unknown): DbErrorKind {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (RETRY_CODES.has(code)) return 'retry';
  if (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_CODES.has(code.split('_').slice(0, 2).join('_'))) return 'unavailable';
  // PostgreSQL: connection exceptions (08), operator intervention (57P), insufficient resources (53).
  if (/^(08|57P|53)/.test(code)) return 'unavailable';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (
    /connection terminated|timeout exceeded when trying to connect|Connection lost|pool is closed|is closed|in closed state|connect ECONNREFUSED/i.test(
      message,
    )
  ) {
    return 'unavailable';
  }
  return 'error';
}
