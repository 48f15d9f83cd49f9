/** Timestamps are stored as epoch milliseconds (bigint columns) on every dialect. */
export const now = (): number => Date.now();

export const toIso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString();
