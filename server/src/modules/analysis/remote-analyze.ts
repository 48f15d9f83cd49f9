import fs from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../platform/errors.ts';
import type { JobDetailOut, JobOut } from './analysis.schemas.ts';

export interface RemoteAnalyzeOptions {
  /** Base URL of an Aula server, e.g. https://aula.example.edu */
  server: string;
  /** An API token with the analysis:run scope. */
  token: string;
  model: string;
  params: Record<string, unknown>;
  /** Image files, or one zip. */
  files: string[];
  /** One JSON line per input. */
  print: (line: string) => void;
  pollMs?: number;
  timeoutMs?: number;
}

async function problemOf(res: Response): Promise<AppError> {
  const body = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
  return new AppError(
    body.code ?? `http_${res.status}`,
    res.status,
    body.detail ?? `The server answered ${res.status}`,
  );
}

/**
 * `aula analyze --server URL --token T`: the files are analysed by the server, so every
 * prediction lands in its ledger (source "cli") with the server's own model version and weight
 * hash. Prints the ledger rows as JSON lines, one per input, in input order.
 */
export async function analyzeRemotely(o: RemoteAnalyzeOptions): Promise<{ job: JobDetailOut; failed: number }> {
  const base = o.server.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${o.token}`, accept: 'application/json' };
  const form = new FormData();
  form.append('model', o.model);
  form.append('parameters', JSON.stringify(o.params));
  form.append('source', 'cli');
  for (const file of o.files) {
    const data = await fs.readFile(file).catch(() => {
      throw new AppError('file_not_found', 404, `No file at ${file}`);
    });
    form.append('files', new Blob([new Uint8Array(data)]), path.basename(file));
  }
  let res: Response;
  try {
    res = await fetch(`${base}/api/v1/analyses`, { method: 'POST', headers, body: form });
  } catch (err) {
    throw new AppError('server_unreachable', 503, `Cannot reach ${base}: ${(err as Error).message}`);
  }
  if (res.status !== 202) throw await problemOf(res);
  const started = (await res.json()) as JobOut;

  const deadline = Date.now() + (o.timeoutMs ?? 30 * 60_000);
  let job: JobDetailOut;
  for (;;) {
    const r = await fetch(`${base}/api/v1/analyses/${started.id}`, { headers });
    if (!r.ok) throw await problemOf(r);
    job = (await r.json()) as JobDetailOut;
    if (job.status === 'done' || job.status === 'failed') break;
    if (Date.now() > deadline) throw new AppError('timeout', 504, `Analysis ${started.id} did not finish in time`);
    await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 500));
  }

  const byId = new Map(job.predictions.map((p) => [p.id, p]));
  let failed = 0;
  for (const input of job.inputs) {
    const p = input.predictionId ? byId.get(input.predictionId) : undefined;
    if (!p) {
      failed++;
      o.print(
        JSON.stringify({ file: input.filename, jobId: job.id, error: { code: input.errorCode, message: input.error } }),
      );
      continue;
    }
    o.print(
      JSON.stringify({
        model: p.model,
        version: p.modelVersion,
        weightsSha256: p.weightsSha256,
        params: p.parameters,
        file: input.filename,
        inputSha256: p.inputSha256,
        ms: p.durationMs,
        output: p.output,
        predictionId: p.id,
        jobId: job.id,
      }),
    );
  }
  return { job, failed };
}
