import * as hdr from 'hdr-histogram-js';
import { round3 } from './units.ts';

export type Transport = 'rest' | 'grpc';

/** What one request came to: only what the server acknowledged counts as ok. */
export type Outcome = { ok: true; grades: number } | { ok: false; kind: string };

/** Latencies are recorded in microseconds, from 1 µs up to one hour, to 3 significant digits. */
export const HISTOGRAM_MAX_US = 3_600_000_000;

export function newHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HISTOGRAM_MAX_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
    bitBucketSize: 32,
  });
}

export interface LatencySummary {
  min: number | null;
  mean: number | null;
  p50: number | null;
  p75: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  stdDev: number | null;
}

export function latencySummary(h: hdr.Histogram): LatencySummary {
  if (h.totalCount === 0) {
    return {
      min: null,
      mean: null,
      p50: null,
      p75: null,
      p90: null,
      p95: null,
      p99: null,
      p999: null,
      max: null,
      stdDev: null,
    };
  }
  const ms = (us: number) => round3(us / 1000);
  return {
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p75: ms(h.getValueAtPercentile(75)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    stdDev: ms(h.stdDeviation),
  };
}

/** One second of the run, as shown live, written to the CSV and published to the server. */
export interface SecondSample {
  /** Seconds since the run started (bucket [second, second+1)). */
  second: number;
  /** Wall-clock epoch second the bucket is attributed to (start of the run + second). */
  epochSecond: number;
  requests: number;
  ok: number;
  errors: number;
  grades: number;
  rest: number;
  grpc: number;
  late: number;
  dropped: number;
  inflight: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  errorsByKind: Record<string, number>;
}

interface Bucket {
  requests: number;
  ok: number;
  errors: number;
  grades: number;
  rest: number;
  grpc: number;
  late: number;
  dropped: number;
  errorsByKind: Map<string, number>;
}

const emptyBucket = (): Bucket => ({
  requests: 0,
  ok: 0,
  errors: 0,
  grades: 0,
  rest: 0,
  grpc: 0,
  late: 0,
  dropped: 0,
  errorsByKind: new Map(),
});

/**
 * Counts and latency histograms for a run: an HDR histogram for the whole run and one per second.
 * A request lands in the second it completed in. Times are performance.now() milliseconds.
 */
export class Stats {
  readonly total = newHistogram();
  private readonly perSecond = newHistogram();
  readonly timeline: SecondSample[] = [];
  readonly errorsByKind = new Map<string, number>();
  requests = 0;
  ok = 0;
  errors = 0;
  grades = 0;
  rest = 0;
  grpc = 0;
  late = 0;
  dropped = 0;
  inflight = 0;
  lastCompletion: number;
  /** performance.now() of the latest send. */
  lastSend: number;
  private bucket = emptyBucket();
  private bucketIndex = 0;
  private taken = 0;

  constructor(
    readonly startPerf: number,
    readonly startWall: number,
  ) {
    this.lastCompletion = startPerf;
    this.lastSend = startPerf;
  }

  /** Advances to the second containing `now`, closing the seconds that have ended. */
  advance(now: number): void {
    const index = Math.max(0, Math.floor((now - this.startPerf) / 1000));
    while (this.bucketIndex < index) this.closeBucket();
  }

  /** Closes the current (partial) second, at the end of a run. */
  flush(): void {
    const b = this.bucket;
    if (b.requests === 0 && b.dropped === 0 && b.late === 0 && this.timeline.length > 0) return;
    this.closeBucket();
  }

  /** The seconds closed since the last call (by a tick, a completion or flush). */
  takeClosed(): SecondSample[] {
    const out = this.timeline.slice(this.taken);
    this.taken = this.timeline.length;
    return out;
  }

  sent(transport: Transport, late: boolean, now: number): void {
    this.advance(now);
    this.lastSend = now;
    this.inflight++;
    if (transport === 'rest') {
      this.rest++;
      this.bucket.rest++;
    } else {
      this.grpc++;
      this.bucket.grpc++;
    }
    if (late) {
      this.late++;
      this.bucket.late++;
    }
  }

  droppedRequests(n: number, now: number): void {
    if (n <= 0) return;
    this.advance(now);
    this.dropped += n;
    this.bucket.dropped += n;
  }

  record(outcome: Outcome, latencyMs: number, now: number): void {
    this.inflight--;
    this.advance(now);
    this.lastCompletion = now;
    const us = Math.min(HISTOGRAM_MAX_US, Math.max(1, Math.round(latencyMs * 1000)));
    this.total.recordValue(us);
    this.perSecond.recordValue(us);
    this.requests++;
    const b = this.bucket;
    b.requests++;
    if (outcome.ok) {
      this.ok++;
      b.ok++;
      this.grades += outcome.grades;
      b.grades += outcome.grades;
    } else {
      this.errors++;
      b.errors++;
      this.errorsByKind.set(outcome.kind, (this.errorsByKind.get(outcome.kind) ?? 0) + 1);
      b.errorsByKind.set(outcome.kind, (b.errorsByKind.get(outcome.kind) ?? 0) + 1);
    }
  }

  private closeBucket(): void {
    const b = this.bucket;
    const h = this.perSecond;
    const has = h.totalCount > 0;
    const ms = (us: number) => round3(us / 1000);
    const sample: SecondSample = {
      second: this.bucketIndex,
      epochSecond: Math.floor(this.startWall / 1000) + this.bucketIndex,
      requests: b.requests,
      ok: b.ok,
      errors: b.errors,
      grades: b.grades,
      rest: b.rest,
      grpc: b.grpc,
      late: b.late,
      dropped: b.dropped,
      inflight: this.inflight,
      p50: has ? ms(h.getValueAtPercentile(50)) : null,
      p95: has ? ms(h.getValueAtPercentile(95)) : null,
      p99: has ? ms(h.getValueAtPercentile(99)) : null,
      max: has ? ms(h.maxValue) : null,
      errorsByKind: Object.fromEntries(b.errorsByKind),
    };
    this.timeline.push(sample);
    h.reset();
    this.bucket = emptyBucket();
    this.bucketIndex++;
  }
}

/** The histogram as sparse [microseconds, count] pairs: compact, exact, and mergeable by anyone. */
export function histogramPairs(h: hdr.Histogram): [number, number][] {
  const out: [number, number][] = [];
  if (h.totalCount === 0) return out;
  const it = (h as hdr.JsHistogram).recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    out.push([v.valueIteratedTo, v.countAtValueIteratedTo]);
  }
  return out;
}

/** Rebuilds a histogram from histogramPairs() output (several, to merge workers exactly). */
export function histogramFromPairs(...lists: (readonly (readonly [number, number])[])[]): hdr.Histogram {
  const h = newHistogram();
  for (const pairs of lists) {
    for (const [v, n] of pairs) h.recordValueWithCount(Math.min(HISTOGRAM_MAX_US, Math.max(1, v)), n);
  }
  return h;
}
