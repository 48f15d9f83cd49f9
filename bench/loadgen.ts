/**
 * `npm run bench -- loadgen [--duration 20s] [--users 64]`: the traffic generator's own ceiling.
 *
 * Each scenario runs `aula load` (in this process, as the CLI does) against either the
 * `--self-test` stand-in server — its own process, acknowledging everything at once — or the
 * real server's hello-world route (`GET /health/live`). Besides the rates it prints the
 * generator's CPU time, because on a 2-core machine the client and the server share the CPU:
 * requests per generator CPU-second is the figure comparable to a tool's "requests per core".
 */
import { parseArgs } from 'node:util';
import { startAula } from '../e2e/support/server.ts';
import { resolveOptions, type RawOptions } from '../server/src/loadgen/options.ts';
import { runLoad } from '../server/src/loadgen/run.ts';
import type { LoadSummary } from '../server/src/loadgen/summary.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20s' },
    users: { type: 'string', default: '64' },
    only: { type: 'string' },
  },
});

const silent = { write: () => true, isTTY: false };

async function scenario(label: string, raw: RawOptions): Promise<{ label: string; s: LoadSummary }> {
  process.stderr.write(`running: ${label}\n`);
  const o = resolveOptions({ duration: values.duration, seed: '42', quiet: true, ...raw });
  const { summary } = await runLoad(o, { out: silent, err: process.stderr });
  return { label, s: summary };
}

const results: { label: string; s: LoadSummary }[] = [];
const want = (name: string) => !values.only || values.only.split(',').includes(name);

if (want('self')) {
  results.push(
    await scenario(`self-test, REST, 1 grade/request, ${values.users} users`, { selfTest: true, users: values.users }),
  );
  results.push(
    await scenario(`self-test, gRPC, 1 grade/request, ${values.users} users`, {
      selfTest: true,
      mode: 'grpc',
      users: values.users,
    }),
  );
  results.push(
    await scenario(`self-test, REST, 100 grades/request, 16 users`, { selfTest: true, users: '16', batch: '100' }),
  );
  results.push(
    await scenario(`self-test, REST, open model 5,000/s`, { selfTest: true, rate: '5000/s', maxInflight: '512' }),
  );
}
if (want('health')) {
  const aula = await startAula();
  try {
    results.push(
      await scenario(`real server, GET /health/live, ${values.users} users`, {
        target: aula.url,
        method: 'GET',
        path: '/health/live',
        users: values.users,
      }),
    );
  } finally {
    await aula.stop();
  }
}

const f = (n: number | null) => (n === null ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: 2 }));
console.log(
  '\n| scenario | requests/s | grades/s | p50 ms | p99 ms | errors | generator CPU | requests per generator CPU-second |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const { label, s } of results) {
  console.log(
    `| ${label} | ${f(Math.round(s.rps))} | ${f(Math.round(s.gradesPerSec))} | ${f(s.latencyMs.p50)} | ${f(s.latencyMs.p99)} | ${f(s.errors)} | ${s.client?.cpuPercent ?? '-'}% | ${f(s.client?.requestsPerCpuSecond ?? null)} |`,
  );
}
