import { histogramPairs, latencySummary, type LatencySummary, type SecondSample, type Stats } from './stats.ts';
import { publicConfig, type LoadOptions, type Mode, type Model } from './options.ts';
import { evaluateThresholds, type ThresholdResult } from './thresholds.ts';
import { round2, round3 } from './units.ts';

/** The result of a run: what the JSON report holds, and what `--publish` sends at the end. */
export interface LoadSummary {
  tool: 'aula load';
  reportVersion: 1;
  name: string;
  mode: Mode;
  model: Model;
  startedAt: string;
  finishedAt: string;
  durationSec: number;
  /** Completed requests: acknowledged (ok) plus failed (errors). */
  requests: number;
  ok: number;
  errors: number;
  /** Grades the server acknowledged (accepted + duplicates). */
  grades: number;
  /** Completed requests per second over the run. */
  rps: number;
  /**
   * Requests sent per second from the start to the last send: the arrival rate the generator
   * achieved (open model: compare with --rate; it stays there even when answers are slow).
   */
  sendRate: number;
  gradesPerSec: number;
  errorRatePercent: number;
  /** Open model: requests that came due but were never sent. */
  dropped: number;
  /** Open model: requests sent more than 10 ms after they were due. */
  late: number;
  latencyMs: LatencySummary;
  errorsByKind: Record<string, number>;
  /** Requests sent over each transport. */
  split: { rest: number; grpc: number; restPercent: number | null };
  thresholds: ThresholdResult[];
  thresholdsPassed: boolean;
  config: Record<string, unknown>;
  timeline: SecondSample[];
  histogram: {
    unit: 'microseconds';
    significantDigits: 3;
    /** Sparse [value, count] pairs of the HDR histogram of all latencies. */
    counts: [number, number][];
    /** The latency at each percentile, for plotting a percentile distribution. */
    percentiles: [number, number][];
  };
  /** The generator's own CPU use, to tell a saturated client from a saturated server. */
  client?: { cpuSeconds: number; cpuPercent: number; requestsPerCpuSecond: number | null };
  publish?: { runId: string; workerId: string; posted: number; failedPosts: number; lastError: string | null };
}

const PLOT_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100];

export function buildSummary(o: LoadOptions, stats: Stats, endPerf: number): LoadSummary {
  const elapsedMs = Math.max(1, endPerf - stats.startPerf);
  const sec = elapsedMs / 1000;
  const latencyMs = latencySummary(stats.total);
  const sent = stats.rest + stats.grpc;
  const base = {
    requests: stats.requests,
    ok: stats.ok,
    errors: stats.errors,
    grades: stats.grades,
    rps: round2(stats.requests / sec),
    gradesPerSec: round2(stats.grades / sec),
    dropped: stats.dropped,
    late: stats.late,
  };
  const thresholds = evaluateThresholds(o.thresholds, {
    ...base,
    latencyMs: {
      p50: latencyMs.p50,
      p75: latencyMs.p75,
      p90: latencyMs.p90,
      p95: latencyMs.p95,
      p99: latencyMs.p99,
      p999: latencyMs.p999,
      max: latencyMs.max,
      min: latencyMs.min,
      mean: latencyMs.mean,
    },
  });
  return {
    tool: 'aula load',
    reportVersion: 1,
    name: o.name,
    mode: o.mode,
    model: o.model,
    startedAt: new Date(stats.startWall).toISOString(),
    finishedAt: new Date(stats.startWall + elapsedMs).toISOString(),
    durationSec: round2(sec),
    ...base,
    sendRate: round2(sent / Math.max(0.001, (stats.lastSend - stats.startPerf) / 1000 + (o.rate ? 1 / o.rate : 0))),
    errorRatePercent: stats.requests === 0 ? 0 : round3((stats.errors / stats.requests) * 100),
    latencyMs,
    errorsByKind: Object.fromEntries([...stats.errorsByKind].sort((a, b) => b[1] - a[1])),
    split: { rest: stats.rest, grpc: stats.grpc, restPercent: sent === 0 ? null : round2((stats.rest / sent) * 100) },
    thresholds,
    thresholdsPassed: thresholds.every((t) => t.passed),
    config: publicConfig(o),
    timeline: stats.timeline,
    histogram: {
      unit: 'microseconds',
      significantDigits: 3,
      counts: histogramPairs(stats.total),
      percentiles:
        stats.total.totalCount === 0
          ? []
          : PLOT_PERCENTILES.map((p) => [
              p,
              p === 0 ? stats.total.minNonZeroValue : stats.total.getValueAtPercentile(p),
            ]),
    },
  };
}
