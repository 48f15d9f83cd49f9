export type AnalysisJobStatus = 'queued' | 'running' | 'done' | 'failed';
export type AnalysisInputStatus = 'pending' | 'done' | 'failed';
/** Where a prediction came from. */
export type PredictionSource = 'lab' | 'api' | 'cli' | 'album' | 'attendance';

export interface AnalysisJobsTable {
  id: string;
  user_id: string;
  source: PredictionSource;
  model: string;
  model_version: string;
  weights_sha256: string | null;
  /** JSON: the validated parameters, defaults filled in. */
  parameters: string;
  status: AnalysisJobStatus;
  total: number;
  processed: number;
  failed: number;
  error: string | null;
  /** The job this one repeats ("Run again"). */
  rerun_of: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface AnalysisInputsTable {
  id: string;
  job_id: string;
  position: number;
  filename: string;
  /** null when the file was refused on intake (empty, not an image, …). */
  blob_id: string | null;
  sha256: string | null;
  size: number;
  status: AnalysisInputStatus;
  error_code: string | null;
  error: string | null;
  prediction_id: string | null;
}

/** One prediction. Rows are only ever inserted: nothing in the product updates or deletes them. */
export interface PredictionsTable {
  id: string;
  job_id: string | null;
  user_id: string;
  source: PredictionSource;
  created_at: number;
  model: string;
  model_version: string;
  weights_sha256: string | null;
  parameters: string;
  input_blob_id: string | null;
  input_sha256: string;
  output: string;
  duration_ms: number;
}

export interface AnalysisTables {
  analysis_jobs: AnalysisJobsTable;
  analysis_inputs: AnalysisInputsTable;
  predictions: PredictionsTable;
}
