import { Pool } from 'undici';
import type { GradeRecord } from './data.ts';
import { ackedGrades, networkErrorKind, type Engine } from './engine.ts';
import type { Outcome } from './stats.ts';

export interface RestEngineOptions {
  /** Base URL of the server, e.g. http://localhost:8000 (a path prefix is kept). */
  target: string;
  token: string | undefined;
  connections: number;
  timeoutMs: number;
  method: 'GET' | 'POST';
  /** Request path below the target; POST /api/v1/grades by default. */
  path: string;
}

/**
 * REST over undici's Pool: keep-alive connections, no pipelining (so one slow response never
 * holds up another), one JSON record or an array of records per request.
 */
export class RestEngine implements Engine {
  readonly transport = 'rest' as const;
  private readonly pool: Pool;
  private readonly path: string;
  private readonly healthPath: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly opts: RestEngineOptions) {
    const url = new URL(opts.target);
    this.pool = new Pool(url.origin, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { timeout: Math.min(opts.timeoutMs, 10_000) },
    });
    this.path = joinPath(url.pathname, opts.path);
    this.healthPath = joinPath(url.pathname, '/health/live');
    this.headers = { accept: 'application/json' };
    if (opts.method === 'POST') this.headers['content-type'] = 'application/json';
    if (opts.token) this.headers.authorization = `Bearer ${opts.token}`;
  }

  async send(grades: GradeRecord[]): Promise<Outcome> {
    const post = this.opts.method === 'POST';
    try {
      const res = await this.pool.request({
        method: this.opts.method,
        path: this.path,
        headers: this.headers,
        body: post ? JSON.stringify(grades.length === 1 ? grades[0] : grades) : undefined,
        // No per-request AbortSignal: the pool's headers and body timeouts bound every request,
        // and a timer per request would cost the generator measurably at high rates.
      });
      if (res.statusCode < 200 || res.statusCode >= 300) {
        await res.body.dump();
        return { ok: false, kind: `http_${res.statusCode}` };
      }
      if (!post) {
        await res.body.dump();
        return { ok: true, grades: 0 };
      }
      let body: unknown;
      try {
        body = await res.body.json();
      } catch {
        return { ok: false, kind: 'bad_response' };
      }
      const acked = ackedGrades(body);
      return acked === undefined ? { ok: false, kind: 'bad_response' } : { ok: true, grades: acked };
    } catch (err) {
      return { ok: false, kind: networkErrorKind(err) };
    }
  }

  /**
   * Opens up to `n` pool connections (with GET /health/live) before the clock starts, so the
   * first second measures the server rather than TCP handshakes and cold code paths.
   */
  async warmUp(n: number): Promise<void> {
    const path = this.healthPath;
    await Promise.all(
      Array.from({ length: Math.min(n, this.opts.connections) }, () =>
        this.pool
          .request({ method: 'GET', path })
          .then((res) => res.body.dump())
          .catch(() => undefined),
      ),
    );
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
  }
}

export function joinPath(prefix: string, path: string): string {
  const a = prefix.replace(/\/+$/, '');
  const b = path.startsWith('/') ? path : `/${path}`;
  return `${a}${b}`;
}
