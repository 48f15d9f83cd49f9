import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Time-ordered 26-character ids (ULID layout, lowercase Crockford base32). Sortable ids keep
 * B-tree inserts append-mostly on all three databases and need no sequences.
 */
export function newId(now = Date.now()): string {
  let t = now;
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += ALPHABET[bytes[i] % 32];
  return time + rand;
}

/**
 * An id of the same layout whose second part comes from `key` instead of chance: the same key and
 * time give the same id, so a writer that may run twice (a retried job) cannot write a row twice.
 */
export function idFromKey(key: string, time: number): string {
  const digest = createHash('sha256').update(key).digest();
  let rand = '';
  for (let i = 0; i < 16; i++) rand += ALPHABET[digest[i] % 32];
  return newId(time).slice(0, 10) + rand;
}

export const ID_PATTERN = /^[0-9a-hjkmnp-tv-z]{26}$/;

export function isId(v: unknown): v is string {
  return typeof v === 'string' && ID_PATTERN.test(v);
}

/** URL-safe random secret, for session and API tokens. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
