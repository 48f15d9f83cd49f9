import { inject } from 'vitest';

/**
 * How hard the reliability tests push. `npm test` runs the fast sample (a few kills, a few hundred
 * cases per fuzz family); `npm run test:reliability` provides `long` through its vitest config
 * (20 kills, at least 10,000 cases per family). Values come through vitest's `provide`, so the
 * product's configuration is not involved.
 */
export type ReliabilityScale = 'fast' | 'long';

declare module 'vitest' {
  export interface ProvidedContext {
    reliabilityScale: ReliabilityScale;
    /** Optional multiplier of fuzz case counts (RELIABILITY_CASES in the long run's config). */
    reliabilityCases: number;
  }
}

export function reliabilityScale(): ReliabilityScale {
  let v: unknown;
  try {
    v = inject('reliabilityScale');
  } catch {
    v = undefined;
  }
  return v === 'long' ? 'long' : 'fast';
}

/** The fast value under `npm test`, the long one under `npm run test:reliability`. */
export function scaled<T>(fast: T, long: T): T {
  return reliabilityScale() === 'long' ? long : fast;
}

/** Cases per fuzz family: a sample in the normal suite, at least 10,000 in the long run. */
export function fuzzRuns(fast: number): number {
  if (reliabilityScale() !== 'long') return fast;
  let n: unknown;
  try {
    n = inject('reliabilityCases');
  } catch {
    n = undefined;
  }
  return typeof n === 'number' && n > 0 ? n : 10_000;
}
