import { build, type Histogram } from 'hdr-histogram-js';
import { Pool } from 'undici';

export interface LoadResult {
  /** Requests that completed with the expected status in the measured window. */
  completed: number;
  errors: number;
  /** Paced runs: due requests never sent because too many were already waiting (the server fell behind). */
  missed: number;
  /** Paced runs: sent but not answered within the grace period after the schedule ended. */
  unfinished: number;
  seconds: number;
  /** Completed requests per second. */
  rate: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** CPU seconds this client process used during the run. */
  clientCpu: number;
}

export interface RequestSpec {
  origin: string;
  path: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** The body of request i (pre-built strings keep the client cheap). */
  body?: (i: number) => string;
  expect: number;
}

const newHistogram = (): Histogram =>
  build({ lowestDiscernibleValue: 1, highestTrackableValue: 300_000_000, numberOfSignificantValueDigits: 3 });

function summarize(
  h: Histogram,
  completed: number,
  errors: number,
  seconds: number,
  cpu0: NodeJS.CpuUsage,
  missed = 0,
  unfinished = 0,
): LoadResult {
  const cpu = process.cpuUsage(cpu0);
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    completed,
    errors,
    missed,
    unfinished,
    seconds,
    rate: completed / seconds,
    p50Ms: ms(h.getValueAtPercentile(50)),
    p99Ms: ms(h.getValueAtPercentile(99)),
    p999Ms: ms(h.getValueAtPercentile(99.9)),
    maxMs: ms(h.maxValue),
    clientCpu: (cpu.user + cpu.system) / 1e6,
  };
}

/**
 * Open-loop load at a fixed arrival rate. Request i is due at start + i/rate whether or not
 * earlier ones have returned, and its latency is measured from that due time, so a server that
 * falls behind shows it in the percentiles instead of silently slowing the client down
 * (no coordinated omission). Requests due in the warm-up are sent but not measured.
 */
export async function paced(
  spec: RequestSpec,
  opts: {
    rate: number;
    seconds: number;
    warmupSeconds: number;
    connections: number;
    maxOutstanding?: number;
    graceSeconds?: number;
  },
): Promise<LoadResult> {
  const maxOutstanding = opts.maxOutstanding ?? 4096;
  const pool = new Pool(spec.origin, { connections: opts.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const h = newHistogram();
  const interval = 1000 / opts.rate;
  const total = Math.floor(opts.rate * (opts.warmupSeconds + opts.seconds));
  const measureFrom = Math.floor(opts.rate * opts.warmupSeconds);
  let next = 0;
  let completed = 0;
  let errors = 0;
  let outstanding = 0;
  let missed = 0;
  let aborted = false;
  let cpu0 = process.cpuUsage();
  const t0 = performance.now() + 20;
  const measureStart = t0 + measureFrom * interval;
  const measureEnd = t0 + total * interval;
  // Answers delivered while the measured schedule ran, whichever request they belong to: when the
  // server falls behind, the warm-up's backlog is what it is working on.
  let inWindow = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));

  const send = (i: number, due: number) => {
    outstanding++;
    pool
      .request({ path: spec.path, method: spec.method, headers: spec.headers, body: spec.body?.(i) })
      .then(
        async (res) => {
          await res.body.dump();
          const end = performance.now();
          if (res.statusCode === spec.expect && end >= measureStart && end <= measureEnd) inWindow++;
          if (i >= measureFrom) {
            if (res.statusCode === spec.expect) {
              completed++;
              h.recordValue(Math.max(1, Math.round((end - due) * 1000)));
            } else errors++;
          }
        },
        () => {
          if (i >= measureFrom && !aborted) errors++;
        },
      )
      .finally(() => {
        outstanding--;
        if (next >= total && outstanding === 0) finish();
      });
  };

  const pump = () => {
    const now = performance.now();
    while (next < total && t0 + next * interval <= now) {
      if (next === measureFrom) cpu0 = process.cpuUsage();
      // A client that queues without bound measures its own queue; past the cap, count the miss.
      if (outstanding >= maxOutstanding) {
        if (next >= measureFrom) missed++;
        if (next === total - 1 && outstanding === 0) finish();
      } else send(next, t0 + next * interval);
      next++;
    }
    if (next < total) setTimeout(pump, Math.max(0, Math.min(1, t0 + next * interval - performance.now())));
  };
  setTimeout(pump, 20);
  const scheduleEnd = (t0 + total * interval - performance.now()) / 1000;
  const graceMs = (Math.max(0, scheduleEnd) + (opts.graceSeconds ?? 10)) * 1000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
  clearTimeout(timer);
  const unfinished = outstanding;
  aborted = true;
  await pool.destroy();
  const result = summarize(h, completed, errors, opts.seconds, cpu0, missed, unfinished);
  // Throughput is what the server answered during the measured period.
  result.rate = inWindow / ((measureEnd - measureStart) / 1000);
  return result;
}

/** Closed loop: `concurrency` clients each send the next request as soon as the last returns. */
export async function saturate(
  spec: RequestSpec,
  opts: { concurrency: number; seconds: number; warmupSeconds: number },
): Promise<LoadResult> {
  const pool = new Pool(spec.origin, { connections: opts.concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const h = newHistogram();
  let completed = 0;
  let errors = 0;
  let i = 0;
  const start = performance.now();
  const measureStart = start + opts.warmupSeconds * 1000;
  const end = measureStart + opts.seconds * 1000;
  let cpu0 = process.cpuUsage();
  let cpuMarked = false;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      if (!cpuMarked && t >= measureStart) {
        cpuMarked = true;
        cpu0 = process.cpuUsage();
      }
      try {
        const res = await pool.request({
          path: spec.path,
          method: spec.method,
          headers: spec.headers,
          body: spec.body?.(i++),
        });
        await res.body.dump();
        const now = performance.now();
        if (t >= measureStart && now <= end) {
          if (res.statusCode === spec.expect) {
            completed++;
            h.recordValue(Math.max(1, Math.round((now - t) * 1000)));
          } else errors++;
        }
      } catch {
        if (t >= measureStart) errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  await pool.close();
  return summarize(h, completed, errors, opts.seconds, cpu0);
}
