/** Parsing and formatting of the units the traffic generator speaks: durations, rates, latencies. */

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** "500ms", "30s", "1m30s", "2h", or a bare number of seconds → milliseconds. */
export function parseDurationMs(input: string): number {
  const v = input.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(v)) {
    throw new Error(`"${input}" is not a duration (use e.g. 500ms, 30s, 1m30s, 2h)`);
  }
  let ms = 0;
  for (const m of v.matchAll(DURATION_PART)) {
    const n = Number(m[1]);
    ms += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms'];
  }
  return Math.round(ms);
}

/** "2000/s", "2000", "120/m", "1.5k/s" → requests per second. */
export function parseRate(input: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)(k?)\s*(?:\/\s*(s|sec|second|m|min|minute))?\s*$/i.exec(input);
  if (!m) throw new Error(`"${input}" is not a rate (use e.g. 2000/s, 500, 120/m)`);
  let n = Number(m[1]) * (m[2] ? 1000 : 1);
  const per = (m[3] ?? 's').toLowerCase();
  if (per.startsWith('m')) n /= 60;
  if (!(n > 0)) throw new Error(`"${input}" must be a positive rate`);
  return n;
}

export function parsePositiveInt(input: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = input.trim();
  if (!/^\d+$/.test(v)) throw new Error(`${what} must be a whole number, got "${input}"`);
  const n = Number(v);
  if (n < 1 || n > max) throw new Error(`${what} must be between 1 and ${max}, got ${n}`);
  return n;
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms === 0) return '0 ms';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const fmtInt = (n: number): string => intFmt.format(Math.round(n));

export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export const round2 = (n: number): number => Math.round(n * 100) / 100;
export const round3 = (n: number): number => Math.round(n * 1000) / 1000;
