import { request, type Page, type QueryParams } from '../../app/api.ts';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  additionalProperties?: boolean;
}

export interface Model {
  name: string;
  task: string;
  version: string;
  description: string;
  weightsSha256: string | null;
  available: boolean;
  error?: string;
  parameters: JsonSchema;
}

export type PredictionSource = 'lab' | 'api' | 'cli' | 'album' | 'attendance';

export interface Prediction {
  id: string;
  jobId: string | null;
  userId: string;
  source: PredictionSource;
  createdAt: string;
  model: string;
  modelVersion: string;
  weightsSha256: string | null;
  parameters: Record<string, unknown>;
  inputBlobId: string | null;
  inputSha256: string;
  output: unknown;
  durationMs: number;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface Job {
  id: string;
  userId: string;
  source: PredictionSource;
  model: string;
  modelVersion: string;
  weightsSha256: string | null;
  parameters: Record<string, unknown>;
  status: JobStatus;
  total: number;
  processed: number;
  failed: number;
  error: string | null;
  rerunOf: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobInput {
  id: string;
  position: number;
  filename: string;
  sha256: string | null;
  size: number;
  status: 'pending' | 'done' | 'failed';
  errorCode: string | null;
  error: string | null;
  predictionId: string | null;
  hasImage: boolean;
}

export interface JobDetail extends Job {
  inputs: JobInput[];
  predictions: Prediction[];
}

export interface LedgerFilter {
  model?: string;
  user?: string;
  from?: string;
  to?: string;
  input_sha256?: string;
  source?: PredictionSource;
}

export const analysisKeys = {
  models: ['analysis', 'models'] as const,
  jobs: (limit: number, offset: number) => ['analysis', 'jobs', limit, offset] as const,
  job: (id: string) => ['analysis', 'job', id] as const,
  ledger: (f: LedgerFilter, limit: number, offset: number) => ['analysis', 'ledger', f, limit, offset] as const,
};

const cleanFilter = (f: LedgerFilter): QueryParams => ({ ...f });

export const inputImageUrl = (jobId: string, inputId: string) => `/api/v1/analyses/${jobId}/inputs/${inputId}/image`;
export const predictionInputUrl = (id: string) => `/api/v1/predictions/${id}/input`;

export function exportUrl(f: LedgerFilter, format: 'csv' | 'json'): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) search.set(k, String(v));
  search.set('format', format);
  return `/api/v1/predictions/export?${search.toString()}`;
}

export const analysisApi = {
  models: () => request<Model[]>('GET', '/models'),
  start: (model: string, parameters: Record<string, unknown>, files: File[]) => {
    const form = new FormData();
    form.append('model', model);
    form.append('parameters', JSON.stringify(parameters));
    for (const f of files) form.append('files', f, f.name);
    return request<Job>('POST', '/analyses', { form });
  },
  jobs: (limit: number, offset: number, signal?: AbortSignal) =>
    request<Page<Job>>('GET', '/analyses', { query: { limit, offset }, signal }),
  job: (id: string, signal?: AbortSignal) => request<JobDetail>('GET', `/analyses/${id}`, { signal }),
  rerun: (id: string) => request<Job>('POST', `/analyses/${id}/rerun`),
  predictions: (f: LedgerFilter, limit: number, offset: number, signal?: AbortSignal) =>
    request<Page<Prediction>>('GET', '/predictions', { query: { ...cleanFilter(f), limit, offset }, signal }),
  prediction: (id: string) => request<Prediction>('GET', `/predictions/${id}`),
};
