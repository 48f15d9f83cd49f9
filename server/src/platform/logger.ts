import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Secrets never reach the logs: every logger redacts these paths. Request headers are logged
 * under more names than `req` (the multipart parser logs its busboy options, headers included,
 * at trace level), so the credential-bearing headers are redacted under any parent object.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-csrf-token"]',
  'headers["set-cookie"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-csrf-token"]',
  '*.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.secret',
  'password',
  'token',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
