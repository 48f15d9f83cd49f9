import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { GradeGenerator, type GradeRecord } from './data.ts';
import type { Engine } from './engine.ts';
import { GrpcEngine } from './grpc-engine.ts';
import { describePlan, LiveView, summaryTable, type Output } from './live-view.ts';
import { publicConfig, type LoadOptions } from './options.ts';
import { probeGrpc, probeHttp, probeToken, UnreachableError } from './probe.ts';
import { Publisher } from './publisher.ts';
import { writeReports } from './reports.ts';
import { RestEngine } from './rest-engine.ts';
import { drive, StopSignal } from './scheduler.ts';
import { Stats, type Outcome, type Transport } from './stats.ts';
import { buildSummary, type LoadSummary } from './summary.ts';
import { THRESHOLD_EXIT_CODE } from './thresholds.ts';

export { UnreachableError };

export interface RunIo {
  out: Output;
  err: Output;
  /** Stop early (e.g. on Ctrl-C); the run still reports what it measured. */
  stop?: StopSignal;
}

export interface LoadResult {
  summary: LoadSummary;
  /** 0 all good; 1 nothing was acknowledged; THRESHOLD_EXIT_CODE a threshold failed. */
  exitCode: number;
}

/**
 * Decides the transport of request k so that, over any run of requests, the REST share stays
 * within one request of the asked percentage (a weighted round-robin rather than a coin toss).
 */
export function transportFor(k: number, restPercent: number): Transport {
  const perTenThousand = Math.round(restPercent * 100);
  return Math.floor(((k + 1) * perTenThousand) / 10_000) > Math.floor((k * perTenThousand) / 10_000) ? 'rest' : 'grpc';
}

async function startSelfTestServer(): Promise<{ child: ChildProcess; http: number; grpc: number }> {
  const script = path.join(import.meta.dirname, 'hello-server.ts');
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', (l) => {
      rl.close();
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`the self-test server exited early (${code})`)));
    setTimeout(() => reject(new Error('the self-test server did not start within 30s')), 30_000).unref();
  });
  const ports = JSON.parse(line) as { http: number; grpc: number };
  return { child, ...ports };
}

/** Runs one load test from checked options: probes, drives the load, prints, reports, publishes. */
export async function runLoad(input: LoadOptions, io: RunIo): Promise<LoadResult> {
  let o = input;
  const stop = io.stop ?? new StopSignal();
  let selfTest: Awaited<ReturnType<typeof startSelfTestServer>> | undefined;
  const engines: Engine[] = [];
  let publisher: Publisher | undefined;
  try {
    if (o.selfTest) {
      selfTest = await startSelfTestServer();
      o = {
        ...o,
        target: `http://127.0.0.1:${selfTest.http}`,
        grpc: o.mode === 'rest' ? undefined : `127.0.0.1:${selfTest.grpc}`,
      };
    }
    const usesRest = o.mode !== 'grpc';
    const usesGrpc = o.mode !== 'rest';
    if (usesRest || o.publish) await probeHttp(o.target!);
    if (o.token && o.target && (usesRest || o.publish) && !o.selfTest) await probeToken(o.target, o.token);
    if (usesGrpc) await probeGrpc(o.grpc!);

    const rest = usesRest
      ? new RestEngine({
          target: o.target!,
          token: o.token,
          connections: o.connections,
          timeoutMs: o.timeoutMs,
          method: o.method,
          path: o.path,
        })
      : undefined;
    if (rest) engines.push(rest);
    const grpc = usesGrpc
      ? await GrpcEngine.create({ address: o.grpc!, token: o.token, channels: o.grpcChannels, timeoutMs: o.timeoutMs })
      : undefined;
    if (grpc) engines.push(grpc);
    // Connections are opened before the clock starts (failures here show up in the run itself).
    await Promise.all([rest?.warmUp(64), grpc?.waitForReady(5000).catch(() => undefined)]);

    if (o.publish) {
      publisher = new Publisher({
        target: o.target!,
        token: o.token!,
        runId: o.runId!,
        workerId: o.workerId,
        name: o.name,
        mode: o.mode,
        config: publicConfig(o),
      });
      try {
        await publisher.start();
      } catch (err) {
        throw new UnreachableError(`cannot publish to run ${o.runId}: ${(err as Error).message}`);
      }
    }

    const generator = new GradeGenerator({
      seed: o.seed,
      students: o.students,
      // Unique per process (a random nonce), readable (the run id), and short: keys are capped at 128.
      idempotencyPrefix: o.idempotency
        ? `${(o.runId ?? 'lg').slice(0, 40)}.${randomBytes(6).toString('hex')}`
        : undefined,
    });
    const empty: GradeRecord[] = [];
    const live = new LiveView(io.out, o);
    if (!o.quiet) {
      io.out.write(
        `aula load: ${describePlan(o)}; seed ${o.seed}${o.publish ? `; publishing as run ${o.runId}` : ''}\n`,
      );
    }

    const cpuStart = process.cpuUsage();
    const stats = new Stats(performance.now(), Date.now());
    const issue = async (k: number, scheduledAt: number, late: boolean): Promise<void> => {
      const transport = o.mode === 'split' ? transportFor(k, o.splitRestPercent) : usesRest ? 'rest' : 'grpc';
      stats.sent(transport, late, performance.now());
      let outcome: Outcome;
      try {
        const grades = o.method === 'GET' ? empty : generator.batch(o.batch);
        outcome = await (transport === 'rest' ? rest! : grpc!).send(grades);
      } catch (err) {
        // Engines report failures as outcomes; anything thrown is a bug here, counted, not fatal.
        outcome = { ok: false, kind: `client_${(err as Error).name || 'error'}` };
      }
      const now = performance.now();
      stats.record(outcome, now - scheduledAt, now);
    };

    // Once a second, on the run's own second boundaries: close the second, redraw, publish.
    let ticker: NodeJS.Timeout | undefined;
    const tick = () => {
      const now = performance.now();
      stats.advance(now);
      const closed = stats.takeClosed();
      if (!o.quiet && closed.length) live.update(stats, closed[closed.length - 1], now);
      if (publisher) {
        publisher.add(closed);
        publisher.tick();
      }
      const nextBoundary = stats.startPerf + (Math.floor((now - stats.startPerf) / 1000) + 1) * 1000;
      ticker = setTimeout(tick, Math.max(1, nextBoundary - performance.now() + 2));
    };
    ticker = setTimeout(tick, 1002);

    await drive(
      {
        model: o.model,
        users: o.users,
        rampMs: o.rampMs,
        rate: o.rate,
        maxInflight: o.maxInflight,
        durationMs: o.durationMs,
        requests: o.requests,
        dropAfterMs: o.timeoutMs,
      },
      stats,
      issue,
      stop,
    );
    clearTimeout(ticker);
    const end = Math.max(stats.lastCompletion, stats.startPerf + 1);
    stats.advance(end);
    stats.flush();
    const last = stats.takeClosed();
    if (!o.quiet && last.length) live.update(stats, last[last.length - 1], end);
    live.finish();
    const cpu = process.cpuUsage(cpuStart);

    const summary = buildSummary(o, stats, end);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    summary.client = {
      cpuSeconds: Math.round(cpuSeconds * 100) / 100,
      cpuPercent: Math.round((cpuSeconds / summary.durationSec) * 1000) / 10,
      requestsPerCpuSecond: cpuSeconds > 0 ? Math.round(summary.requests / cpuSeconds) : null,
    };
    if (publisher) {
      publisher.add(last);
      await publisher.finish(summary);
      summary.publish = {
        runId: publisher.runId,
        workerId: o.workerId,
        posted: publisher.posted,
        failedPosts: publisher.failedPosts,
        lastError: publisher.lastError,
      };
    }
    await writeReports(summary, o.reports);
    if (!o.quiet) {
      io.out.write(`\n${summaryTable(summary)}`);
      if (summary.publish) {
        io.out.write(
          `Published to run ${summary.publish.runId} as ${o.workerId}: ${summary.publish.posted} seconds` +
            `${summary.publish.failedPosts ? `, ${summary.publish.failedPosts} failed posts (${summary.publish.lastError})` : ''}\n`,
        );
      }
      for (const r of o.reports) io.out.write(`Report written to ${r}\n`);
    }
    let exitCode = 0;
    if (summary.requests > 0 && summary.ok === 0) {
      io.err.write(`error: no request was acknowledged (${Object.keys(summary.errorsByKind).join(', ')})\n`);
      exitCode = 1;
    } else if (!summary.thresholdsPassed) {
      exitCode = THRESHOLD_EXIT_CODE;
    }
    return { summary, exitCode };
  } finally {
    await publisher?.close();
    for (const e of engines) await e.close();
    if (selfTest) {
      selfTest.child.stdin?.end();
      selfTest.child.kill('SIGTERM');
    }
  }
}
