import { api, type Page } from '../../app/api.ts';

export type RunStatus = 'running' | 'finished' | 'interrupted';

export interface RunSummary {
  requests: number;
  ok: number;
  errors: number;
  grades: number;
  dropped: number;
  late: number;
  rps: number;
  gradesPerSec: number;
  errorRatePercent: number;
  durationSec: number;
  latencyMs: { p50: number | null; p90: number | null; p95: number | null; p99: number | null; max: number | null };
  /** `exact` (merged histograms), `max` (highest worker value) or `per-second-max` (live). */
  latencyMerge: 'exact' | 'max' | 'per-second-max';
  errorsByKind: Record<string, number>;
  split: { rest: number; grpc: number };
  workers: number;
  thresholdsPassed: boolean | null;
  live: boolean;
}

export interface LoadtestRun {
  runId: string;
  name: string;
  mode: string;
  status: RunStatus;
  startedAt: string;
  lastSampleAt: string;
  finishedAt: string | null;
  workers: number;
  workersFinished: number;
  summary: RunSummary | null;
}

/** One second of a run, summed over its workers (percentiles: the highest worker's). */
export interface SeriesPoint {
  second: number;
  t: number;
  requests: number;
  ok: number;
  errors: number;
  grades: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  workers: number;
}

export interface WorkerSummary {
  requests: number;
  ok: number;
  errors: number;
  grades: number;
  rps: number;
  durationSec: number;
  latencyMs: { p50: number | null; p90: number | null; p95: number | null; p99: number | null; max: number | null };
  errorsByKind: Record<string, number>;
  thresholdsPassed?: boolean;
}

export interface LoadtestWorker {
  workerId: string;
  startedAt: string;
  finishedAt: string | null;
  summary: WorkerSummary | null;
}

export interface LoadtestRunDetail extends LoadtestRun {
  config: Record<string, unknown>;
  workerList: LoadtestWorker[];
  series: SeriesPoint[];
}

export const loadtestsApi = {
  list: (params: { limit: number; offset: number }, signal?: AbortSignal) =>
    api.get<Page<LoadtestRun>>('/loadtests', params, signal),
  /** With `since` (an epoch second), only the series points after it. */
  get: (runId: string, since?: number, signal?: AbortSignal) =>
    api.get<LoadtestRunDetail>(`/loadtests/${encodeURIComponent(runId)}`, { since }, signal),
  remove: (runId: string) => api.del(`/loadtests/${encodeURIComponent(runId)}`),
};

export const fmtInt = (n: number | null | undefined): string =>
  n === null || n === undefined ? '—' : Math.round(n).toLocaleString();

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return '—';
  const r = Math.round(s);
  if (r < 60) return `${r}s`;
  const m = Math.floor(r / 60);
  if (m < 60) return `${m}m ${String(r % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export const statusColor: Record<RunStatus, string> = { running: 'blue', finished: 'teal', interrupted: 'orange' };
