export type LoadtestStatus = 'running' | 'finished';

export interface LoadtestRunsTable {
  id: string;
  /** The public id chosen with --run-id (or generated); workers sharing it add up. */
  run_id: string;
  name: string;
  mode: string;
  /** JSON: the first worker's public configuration. */
  config: string;
  status: LoadtestStatus;
  started_at: number;
  last_sample_at: number;
  finished_at: number | null;
  /** JSON: the merged summary of the finished workers. */
  summary: string | null;
  created_by: string | null;
  created_at: number;
}

export interface LoadtestWorkersTable {
  run_id: string;
  worker_id: string;
  started_at: number;
  finished_at: number | null;
  /** JSON: the worker's own summary, without its histogram (kept in loadtest_latency_bins). */
  summary: string | null;
}

export interface LoadtestSamplesTable {
  run_id: string;
  worker_id: string;
  /** Epoch second the sample covers. */
  at_second: number;
  requests: number;
  ok: number;
  errors: number;
  grades: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export interface LoadtestLatencyBinsTable {
  run_id: string;
  worker_id: string;
  /** An HDR histogram bucket (microseconds) and how many requests fell in it. */
  value_us: number;
  hits: number;
}

export interface LoadtestTables {
  loadtest_runs: LoadtestRunsTable;
  loadtest_workers: LoadtestWorkersTable;
  loadtest_samples: LoadtestSamplesTable;
  loadtest_latency_bins: LoadtestLatencyBinsTable;
}
