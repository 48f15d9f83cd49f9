import { Pool } from 'undici';
import type { SecondSample } from './stats.ts';
import type { LoadSummary } from './summary.ts';
import { joinPath } from './rest-engine.ts';

/** A per-second sample as the server stores it (POST /api/v1/loadtests/:runId/samples). */
export interface PublishedSample {
  /** Wall-clock epoch second; workers of one run line up on it. */
  second: number;
  requests: number;
  ok: number;
  errors: number;
  grades: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface PublisherOptions {
  target: string;
  token: string;
  runId: string;
  workerId: string;
  name: string;
  mode: string;
  config: Record<string, unknown>;
}

const MAX_PENDING = 3600;

export class PublishError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** 4xx answers will not get better by retrying. */
const permanent = (err: unknown) => err instanceof PublishError && err.status >= 400 && err.status < 500;
const MAX_PER_POST = 600;

/**
 * Streams this worker's per-second stats to the server so the product can chart a run live, and
 * several workers with one run id add up. Publishing never slows or fails the load itself:
 * samples that cannot be posted wait for the next second, and the run's report notes the failures.
 */
export class Publisher {
  private readonly pool: Pool;
  private readonly base: string;
  private pending: PublishedSample[] = [];
  private inFlight: Promise<void> | undefined;
  posted = 0;
  failedPosts = 0;
  lastError: string | null = null;

  constructor(private readonly o: PublisherOptions) {
    const url = new URL(o.target);
    // Its own small pool: samples must get through even when the load pool is saturated.
    this.pool = new Pool(url.origin, { connections: 1, pipelining: 1 });
    this.base = joinPath(url.pathname, `/api/v1/loadtests/${encodeURIComponent(o.runId)}`);
  }

  get runId(): string {
    return this.o.runId;
  }

  add(samples: SecondSample[]): void {
    for (const s of samples) {
      this.pending.push({
        second: s.epochSecond,
        requests: s.requests,
        ok: s.ok,
        errors: s.errors,
        grades: s.grades,
        p50: s.p50,
        p95: s.p95,
        p99: s.p99,
      });
    }
    if (this.pending.length > MAX_PENDING) this.pending.splice(0, this.pending.length - MAX_PENDING);
  }

  /** Posts what is pending, unless a post is already under way. */
  tick(): void {
    if (this.inFlight || this.pending.length === 0) return;
    this.inFlight = this.postPending().finally(() => (this.inFlight = undefined));
  }

  private async post(path: string, body: unknown): Promise<void> {
    const res = await this.pool.request({
      method: 'POST',
      path: `${this.base}${path}`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.o.token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) {
      let detail = text.slice(0, 200);
      try {
        const p = JSON.parse(text) as { code?: string; detail?: string };
        detail = [p.code, p.detail].filter(Boolean).join(': ');
      } catch {
        // not problem+json; keep the raw text
      }
      throw new PublishError(res.statusCode, `HTTP ${res.statusCode} ${detail}`);
    }
  }

  private postSamples(samples: PublishedSample[]): Promise<void> {
    return this.post('/samples', {
      workerId: this.o.workerId,
      name: this.o.name,
      mode: this.o.mode,
      config: this.o.config,
      samples,
    });
  }

  /**
   * Registers this worker with the run before any load is sent, so a token without the
   * loadtest:publish scope or a wrong target fails the command up front.
   */
  async start(): Promise<void> {
    await this.postSamples([]);
  }

  private async postPending(): Promise<void> {
    const batch = this.pending.slice(0, MAX_PER_POST);
    try {
      await this.postSamples(batch);
      this.pending.splice(0, batch.length);
      this.posted += batch.length;
    } catch (err) {
      this.failedPosts++;
      this.lastError = (err as Error).message;
      // A refused batch is refused for good; keep going with the next seconds.
      if (permanent(err)) this.pending.splice(0, batch.length);
    }
  }

  /** Sends what is left, then the worker's summary; gives up after `timeoutMs`. */
  async finish(summary: LoadSummary, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.inFlight;
    while (this.pending.length && Date.now() < deadline) {
      const before = this.failedPosts;
      await this.postPending();
      if (this.failedPosts > before) await new Promise((r) => setTimeout(r, 500));
    }
    for (;;) {
      try {
        await this.post('/finish', {
          workerId: this.o.workerId,
          summary: {
            startedAt: summary.startedAt,
            finishedAt: summary.finishedAt,
            durationSec: summary.durationSec,
            requests: summary.requests,
            ok: summary.ok,
            errors: summary.errors,
            grades: summary.grades,
            rps: summary.rps,
            dropped: summary.dropped,
            late: summary.late,
            latencyMs: {
              p50: summary.latencyMs.p50,
              p90: summary.latencyMs.p90,
              p95: summary.latencyMs.p95,
              p99: summary.latencyMs.p99,
              max: summary.latencyMs.max,
            },
            errorsByKind: summary.errorsByKind,
            split: { rest: summary.split.rest, grpc: summary.split.grpc },
            histogram: summary.histogram.counts,
            thresholdsPassed: summary.thresholdsPassed,
          },
        });
        return;
      } catch (err) {
        this.failedPosts++;
        this.lastError = (err as Error).message;
        if (permanent(err) || Date.now() >= deadline) return;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
  }
}
