import type { Command } from 'commander';
import { UsageError, resolveOptions, type RawOptions } from '../loadgen/options.ts';
import { StopSignal } from '../loadgen/scheduler.ts';
import { THRESHOLD_EXIT_CODE } from '../loadgen/thresholds.ts';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/**
 * `aula load`: the traffic generator. A client of the public API only (REST and gRPC); its
 * settings come from flags alone. Exit codes: 0 done, 1 target unusable or nothing
 * acknowledged, 2 bad flags, 99 a threshold failed.
 */
export function registerLoadCommand(program: Command): void {
  program
    .command('load')
    .description('generate grade-ingest traffic over REST, gRPC or a split of both, with live statistics')
    .option('--target <url>', 'base URL of the Aula server (default http://localhost:8000)')
    .option('--grpc <host:port>', 'gRPC address (default: the target host, port 50051)')
    .option('--mode <mode>', 'rest | grpc | split')
    .option('--split <percent>', 'split mode: percentage of requests sent over REST (default 50)')
    .option('--users <n>', 'closed model: virtual users sending back to back (default 10)')
    .option('--ramp <duration>', 'closed model: start the users linearly over this time, e.g. 30s')
    .option('--rate <n/s>', 'open model: arrivals per second, e.g. 2000/s (latency from each scheduled send)')
    .option('--max-inflight <n>', 'open model: requests in flight at most (default 1000); the rest wait, counted late')
    .option('--duration <duration>', 'how long to run, e.g. 60s, 5m (default 30s unless --requests)')
    .option('--requests <n>', 'stop after this many requests')
    .option('--batch <n>', 'grades per request, 1..1000 (default 1)')
    .option('--seed <seed>', 'seed of the data generator, for reproducible grades (default random, printed)')
    .option('--students <n>', 'size of the student pool (default 500)')
    .option('--idempotency', 'send an idempotency key with every grade')
    .option('--timeout <duration>', 'per-request timeout (default 10s)')
    .option('--connections <n>', 'REST connection pool size (default: users, or min(max in flight, 256))')
    .option('--grpc-channels <n>', 'gRPC connections (default 2)')
    .option('--token <token>', 'API token with grades:write (and loadtest:publish to publish)')
    .option('--token-file <file>', 'read the API token from a file')
    .option('--report <file>', 'write a report: .json, .csv (per-second timeline) or .html; repeatable', collect)
    .option(
      '--threshold <expr>',
      "pass/fail criterion, e.g. 'p99<50ms', 'errors<0.1%', 'rps>1000'; repeatable",
      collect,
    )
    .option('--publish', 'post per-second stats to the server for live charts (Load test page)')
    .option('--run-id <id>', 'with --publish: the run to add to; workers sharing it add up')
    .option('--name <name>', 'a name for the run')
    .option('--worker-id <id>', 'with --publish: this worker’s name (default host-pid)')
    .option('--method <method>', 'GET | POST; GET with --path measures a plain route such as /health/live')
    .option('--path <path>', 'request path (default /api/v1/grades, or /health/live with GET)')
    .option('--self-test', 'start a local stand-in server and load it, to measure the generator itself')
    .option('--quiet', 'no live view or summary; just the reports and the exit code')
    .addHelpText(
      'after',
      `
Exit codes: 0 finished, 1 the target cannot be used or nothing was acknowledged,
2 bad flags, ${THRESHOLD_EXIT_CODE} a --threshold failed.

Examples:
  aula load --target http://localhost:8000 --token-file token.txt --users 50 --ramp 10s --duration 1m
  aula load --mode split --split 30 --rate 2000/s --duration 60s --threshold 'p99<50ms' --report out.html
  aula load --mode grpc --grpc localhost:50051 --batch 500 --requests 1000 --token T
  aula load --publish --run-id nightly --name "nightly ingest" --users 100 --duration 5m --token T`,
    )
    .action(async function (this: Command, raw: RawOptions) {
      let options;
      try {
        options = resolveOptions(raw);
      } catch (err) {
        if (err instanceof UsageError) this.error(`error: ${err.message}`, { exitCode: 2, code: 'aula.usage' });
        throw err;
      }
      const stop = new StopSignal();
      const onSignal = () => {
        if (stop.stopped) process.exit(130);
        process.stderr.write('\nstopping: finishing requests in flight (Ctrl-C again to quit now)\n');
        stop.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // The engines (gRPC, HTTP) load only when the command runs, so `aula --help` starts fast.
      const { runLoad, UnreachableError } = await import('../loadgen/run.ts');
      try {
        const { exitCode } = await runLoad(options, { out: process.stdout, err: process.stderr, stop });
        process.exitCode = exitCode;
      } catch (err) {
        if (!(err instanceof UnreachableError)) throw err;
        process.stderr.write(`error: ${err.message}\n`);
        process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
