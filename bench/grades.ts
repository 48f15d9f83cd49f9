/**
 * `npm run bench -- grades [--seconds 10] [--rate 15000] [--records 1000000] [--no-mariadb] [--no-write]`
 *
 * Grade ingest and analytics against the real server (`aula start` in its own process):
 * - embedded (SQLite, synchronous=FULL): REST one grade per request at a paced arrival rate,
 *   saturation of that route against the hello-world route (`GET /health/live`) of the same
 *   server and against a naive server that does one autocommit INSERT per request, REST batches
 *   of 100, gRPC SubmitStream, and the dashboard analytics over `--records` records;
 * - scaled (MariaDB + Redis): the same ingest paths and analytics.
 * Latencies of paced runs are measured from each request's scheduled send time. Results are
 * printed and written into docs/benchmarks.md (the generated block of the "Grades" section).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { GradeGenerator } from '../server/src/loadgen/data.ts';
import { grpcStreams, type StreamResult } from './grades-support/grpc-load.ts';
import { paced, saturate, type LoadResult, type RequestSpec } from './grades-support/load.ts';
import {
  cpuSeconds,
  prepareDatabase,
  ROOT,
  startAulaProcess,
  tempDir,
  type AulaProcess,
  type Tokens,
} from './grades-support/server.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '15000' },
    'mariadb-rate': { type: 'string', default: '10000' },
    records: { type: 'string', default: '1000000' },
    connections: { type: 'string', default: '64' },
    'no-mariadb': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
const MARIADB_RATE = Number(values['mariadb-rate']);
const RECORDS = Number(values.records);
const CONNECTIONS = Number(values.connections);
const MYSQL_ADMIN = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

const log = (line: string) => process.stderr.write(`${line}\n`);
const load = () =>
  os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(' ');

const generator = new GradeGenerator({ seed: 20251122, students: 200_000 });

function bodies(n: number, batch: number): string[] {
  return Array.from({ length: n }, () => JSON.stringify(batch === 1 ? generator.next() : generator.batch(batch)));
}

const singleBodies = bodies(50_000, 1);
const batchBodies = bodies(300, 100);

function ingestSpec(url: string, token: string, pool: string[]): RequestSpec {
  return {
    origin: url,
    path: '/api/v1/grades',
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: (i) => pool[i % pool.length],
    expect: 201,
  };
}

interface Measured<T> {
  result: T;
  serverCpu: number;
  /** CPU seconds of the database server process (MariaDB runs only). */
  dbCpu: number;
  load: string;
}

/** The MariaDB/MySQL server process, to count its CPU too. */
function databasePid(): number | undefined {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const comm = fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      if (comm === 'mariadbd' || comm === 'mysqld') return Number(d);
    } catch {
      // gone
    }
  }
  return undefined;
}

let dbPid: number | undefined;

async function measure<T>(server: { cpuSeconds(): number } | null, run: () => Promise<T>): Promise<Measured<T>> {
  const c0 = server?.cpuSeconds() ?? NaN;
  const d0 = dbPid ? cpuSeconds(dbPid) : NaN;
  const result = await run();
  return {
    result,
    serverCpu: (server?.cpuSeconds() ?? NaN) - c0,
    dbCpu: (dbPid ? cpuSeconds(dbPid) : NaN) - d0,
    load: load(),
  };
}

async function startNaive(
  file: string,
): Promise<{ url: string; pid: number; stop: () => void; cpuSeconds: () => number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'bench/grades-support/naive-server.ts'), file],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (b: Buffer) => resolve((JSON.parse(b.toString()) as { port: number }).port));
    child.once('exit', (c) => reject(new Error(`naive server exited ${c}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => child.kill('SIGTERM'),
    cpuSeconds: () => cpuSeconds(child.pid!),
  };
}

/** Paced at the target rate, then at 60% of the measured saturation rate (what the machine can carry). */
async function pacedRuns(
  server: AulaProcess,
  spec: RequestSpec,
  target: number,
  saturation: number,
): Promise<PacedRun[]> {
  const carry = Math.max(100, Math.floor((saturation * 0.6) / 100) * 100);
  const out: PacedRun[] = [];
  for (const rate of target > carry ? [target, carry] : [target]) {
    log(`  REST, one grade per request, paced at ${fmt(rate)}/s for ${SECONDS}s …`);
    const m = await measure(server, () =>
      paced(spec, { rate, seconds: SECONDS, warmupSeconds: 2, connections: CONNECTIONS }),
    );
    log(
      `    ${fmt(m.result.rate)}/s, p50 ${m.result.p50Ms} ms, p99 ${m.result.p99Ms} ms, missed ${m.result.missed}, unfinished ${m.result.unfinished}, errors ${m.result.errors}`,
    );
    out.push({ rate, ...m });
  }
  return out;
}

async function countRecords(url: string, token: string): Promise<number> {
  const r = await fetch(`${url}/api/v1/analytics/grades/total`, { headers: { authorization: `Bearer ${token}` } });
  return ((await r.json()) as { total: number }).total;
}

/** Tops the database up to `target` records through gRPC streams (the fastest path). */
async function fillTo(aula: AulaProcess, tokens: Tokens, target: number): Promise<{ loaded: number; seconds: number }> {
  const t0 = performance.now();
  let have = await countRecords(aula.url, tokens.read);
  const start = have;
  while (have < target) {
    const want = Math.min(200_000, target - have);
    const streams = 4;
    await grpcStreams({
      address: aula.grpcAddress,
      token: tokens.write,
      streams,
      perStream: Math.ceil(want / streams),
      generator,
    });
    have = await countRecords(aula.url, tokens.read);
    log(`    … ${have.toLocaleString('en')} records (load ${load()})`);
  }
  return { loaded: have - start, seconds: (performance.now() - t0) / 1000 };
}

interface AnalyticsRow {
  query: string;
  n: number;
  p50: number;
  p95: number;
  max: number;
}

async function analytics(url: string, token: string, rounds: number): Promise<AnalyticsRow[]> {
  const courses = ['SO1', 'BD1', 'IPC1', 'ARQ1', 'IA1'];
  const years = [2022, 2023, 2024, 2025];
  const pick = <T>(xs: T[], i: number) => xs[i % xs.length];
  const queries: [string, (i: number) => string][] = [
    ['total', () => 'total'],
    [
      'pass-fail (course, semester, year)',
      (i) => `pass-fail?course=${pick(courses, i)}&semester=${1 + (i % 2)}&year=${pick(years, i)}`,
    ],
    ['pass-fail (course only)', (i) => `pass-fail?course=${pick(courses, i)}`],
    ['top-courses (semester, year)', (i) => `top-courses?semester=${1 + (i % 2)}&year=${pick(years, i)}&limit=3`],
    ['top-students (all)', () => 'top-students?limit=5'],
    ['top-students (semester, year)', (i) => `top-students?semester=${1 + (i % 2)}&year=${pick(years, i)}&limit=5`],
    [
      'students (course, semester, year)',
      (i) => `students?course=${pick(courses, i)}&semester=${1 + (i % 2)}&year=${pick(years, i)}`,
    ],
  ];
  const out: AnalyticsRow[] = [];
  for (const [name, q] of queries) {
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      const r = await fetch(`${url}/api/v1/analytics/grades/${q(i)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await r.arrayBuffer();
      if (!r.ok) throw new Error(`${q(i)}: ${r.status}`);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const at = (p: number) =>
      Math.round(times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)] * 10) / 10;
    out.push({ query: name, n: rounds, p50: at(50), p95: at(95), max: Math.round(times[times.length - 1] * 10) / 10 });
  }
  return out;
}

const fmt = (n: number, d = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—';

interface PacedRun extends Measured<LoadResult> {
  rate: number;
}

interface Report {
  started: string;
  machine: string;
  embedded?: {
    paced: PacedRun[];
    saturation: { hello: Measured<LoadResult>; grades: Measured<LoadResult>; naive: Measured<LoadResult> };
    batches: Measured<LoadResult>;
    stream: Measured<StreamResult>;
    fill: { loaded: number; seconds: number };
    analytics: AnalyticsRow[];
  };
  mariadb?: {
    paced: PacedRun[];
    saturation: Measured<LoadResult>;
    batches: Measured<LoadResult>;
    stream: Measured<StreamResult>;
    fill: { loaded: number; seconds: number };
    analytics: AnalyticsRow[];
  };
}

async function embedded(report: Report): Promise<void> {
  const dir = tempDir('aula-bench-grades-');
  try {
    const databaseUrl = `sqlite:${path.join(dir, 'aula.db')}`;
    const tokens = await prepareDatabase(databaseUrl, dir);
    const aula = await startAulaProcess(dir, { DATABASE_URL: databaseUrl });
    const naive = await startNaive(path.join(dir, 'naive.db'));
    try {
      log(`embedded: server ${aula.url} (pid ${aula.pid}), naive baseline ${naive.url}; load ${load()}`);
      const single = ingestSpec(aula.url, tokens.write, singleBodies);

      const sat = { concurrency: CONNECTIONS, seconds: SECONDS, warmupSeconds: 2 };
      log('  saturation: hello-world, grades, naive baseline …');
      const hello = await measure(aula, () =>
        saturate({ origin: aula.url, path: '/health/live', method: 'GET', headers: {}, expect: 200 }, sat),
      );
      const grades = await measure(aula, () => saturate(single, sat));
      const naiveRun = await measure(naive, () => saturate({ ...single, origin: naive.url }, sat));
      log(
        `    hello ${fmt(hello.result.rate)}/s, grades ${fmt(grades.result.rate)}/s, naive ${fmt(naiveRun.result.rate)}/s`,
      );

      const p = await pacedRuns(aula, single, RATE, grades.result.rate);

      log('  REST, batches of 100 …');
      const batches = await measure(aula, () =>
        saturate(ingestSpec(aula.url, tokens.write, batchBodies), {
          concurrency: 8,
          seconds: SECONDS,
          warmupSeconds: 2,
        }),
      );
      log(`    ${fmt(batches.result.rate * 100)} grades/s`);

      log('  gRPC SubmitStream, 4 streams × 50,000 …');
      const stream = await measure(aula, () =>
        grpcStreams({ address: aula.grpcAddress, token: tokens.write, streams: 4, perStream: 50_000, generator }),
      );
      log(`    ${fmt(stream.result.rate)} grades/s`);

      log(`  filling to ${fmt(RECORDS)} records …`);
      const fill = await fillTo(aula, tokens, RECORDS);
      log('  analytics …');
      const rows = await analytics(aula.url, tokens.read, 100);
      for (const r of rows) log(`    ${r.query}: p50 ${r.p50} ms, p95 ${r.p95} ms`);
      report.embedded = {
        paced: p,
        saturation: { hello, grades, naive: naiveRun },
        batches,
        stream,
        fill,
        analytics: rows,
      };
    } finally {
      naive.stop();
      await aula.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function mariadb(report: Report): Promise<void> {
  const name = `aula_bench_${Date.now().toString(36)}`;
  const admin = await mysql.createConnection({ uri: MYSQL_ADMIN });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const u = new URL(MYSQL_ADMIN);
  u.pathname = `/${name}`;
  const prefix = `aula:bench:${name}:`;
  const dir = tempDir('aula-bench-grades-my-');
  try {
    const tokens = await prepareDatabase(u.toString(), dir);
    const aula = await startAulaProcess(dir, { DATABASE_URL: u.toString(), REDIS_URL, GRADES_REDIS_PREFIX: prefix });
    dbPid = databasePid();
    try {
      log(`MariaDB + Redis: server ${aula.url} (pid ${aula.pid}); load ${load()}`);
      const single = ingestSpec(aula.url, tokens.write, singleBodies);
      log('  saturation: grades …');
      const grades = await measure(aula, () =>
        saturate(single, { concurrency: CONNECTIONS, seconds: SECONDS, warmupSeconds: 2 }),
      );
      log(`    grades ${fmt(grades.result.rate)}/s`);
      const p = await pacedRuns(aula, single, MARIADB_RATE, grades.result.rate);
      log('  REST, batches of 100 …');
      const batches = await measure(aula, () =>
        saturate(ingestSpec(aula.url, tokens.write, batchBodies), {
          concurrency: 8,
          seconds: SECONDS,
          warmupSeconds: 2,
        }),
      );
      log(`    ${fmt(batches.result.rate * 100)} grades/s`);
      log('  gRPC SubmitStream, 4 streams × 25,000 …');
      const stream = await measure(aula, () =>
        grpcStreams({ address: aula.grpcAddress, token: tokens.write, streams: 4, perStream: 25_000, generator }),
      );
      log(`    ${fmt(stream.result.rate)} grades/s`);
      log(`  filling to ${fmt(RECORDS)} records …`);
      const fill = await fillTo(aula, tokens, RECORDS);
      log('  analytics …');
      const rows = await analytics(aula.url, tokens.read, 100);
      for (const r of rows) log(`    ${r.query}: p50 ${r.p50} ms, p95 ${r.p95} ms`);
      report.mariadb = { paced: p, saturation: grades, batches, stream, fill, analytics: rows };
    } finally {
      dbPid = undefined;
      await aula.stop();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.end();
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.del(...keys);
    r.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function markdown(r: Report): string {
  const lines: string[] = [];
  lines.push(`Run ${r.started}; ${r.machine}.`, '');
  const e = r.embedded;
  if (e) {
    const sat = e.saturation;
    const cpuPer = (m: Measured<LoadResult>, perRequest = 1) =>
      fmt((m.serverCpu / (m.result.completed * perRequest)) * 1e6, 0);
    lines.push('**Embedded (SQLite, synchronous=FULL, acknowledged after commit)**', '');
    lines.push(...runHeader());
    for (const run of e.paced)
      lines.push(pacedRow(run, run.rate === RATE ? `${fmt(RATE)}/s, p99 ≤ 20 ms` : 'what the machine carries'));
    lines.push(
      `| REST, batches of 100 (8 in flight) | 300,000 grades/s | ${fmt(e.batches.result.rate * 100)} grades/s | ${e.batches.result.p50Ms} | ${e.batches.result.p99Ms} | ${e.batches.result.errors} | ${cpuPer(e.batches, 100)} | ${e.batches.load} |`,
    );
    lines.push(
      `| gRPC SubmitStream (4 streams × 50,000) | 300,000 grades/s | ${fmt(e.stream.result.rate)} grades/s | — | — | — | ${fmt((e.stream.serverCpu / e.stream.result.grades) * 1e6)} | ${e.stream.load} |`,
    );
    lines.push('');
    lines.push(`Saturation, closed loop with ${CONNECTIONS} connections, same run:`, '');
    lines.push('| route | requests/s | p50 ms | p99 ms | server CPU µs per request | ratio |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    lines.push(
      `| hello world, \`GET /health/live\` (same server) | ${fmt(sat.hello.result.rate)} | ${sat.hello.result.p50Ms} | ${sat.hello.result.p99Ms} | ${cpuPer(sat.hello)} | |`,
    );
    lines.push(
      `| \`POST /api/v1/grades\`, 1 grade | ${fmt(sat.grades.result.rate)} | ${sat.grades.result.p50Ms} | ${sat.grades.result.p99Ms} | ${cpuPer(sat.grades)} | **${fmt(sat.grades.result.rate / sat.hello.result.rate, 2)}×** hello world (target ≥ 0.5) |`,
    );
    lines.push(
      `| naive: one autocommit INSERT per request | ${fmt(sat.naive.result.rate)} | ${sat.naive.result.p50Ms} | ${sat.naive.result.p99Ms} | ${cpuPer(sat.naive)} | grades = **${fmt(sat.grades.result.rate / sat.naive.result.rate, 2)}×** naive (target ≥ 3) |`,
    );
    lines.push('');
    lines.push(
      `Analytics over ${fmt(RECORDS)} records (sequential requests over HTTP, 100 each, rotating filters; filled in ${fmt(e.fill.seconds)} s):`,
      '',
    );
    lines.push(...analyticsTable(e.analytics));
  }
  const m = r.mariadb;
  if (m) {
    lines.push('', '**Scaled (MariaDB + Redis counters)**', '');
    lines.push(...runHeader(true));
    for (const run of m.paced) {
      lines.push(
        pacedRow(
          run,
          run.rate === MARIADB_RATE ? `${fmt(MARIADB_RATE)}/s, p99 ≤ 50 ms` : 'what the machine carries',
          true,
        ),
      );
    }
    const sat = m.saturation;
    lines.push(
      `| REST, 1 grade per request, closed loop (${CONNECTIONS} connections) | | ${fmt(sat.result.rate)}/s | ${sat.result.p50Ms} | ${sat.result.p99Ms} | ${sat.result.errors} | ${perGrade(sat.serverCpu, sat.result.completed)} | ${perGrade(sat.dbCpu, sat.result.completed)} | ${sat.load} |`,
    );
    lines.push(
      `| REST, batches of 100 (8 in flight) | 100,000 grades/s | ${fmt(m.batches.result.rate * 100)} grades/s | ${m.batches.result.p50Ms} | ${m.batches.result.p99Ms} | ${m.batches.result.errors} | ${perGrade(m.batches.serverCpu, m.batches.result.completed * 100)} | ${perGrade(m.batches.dbCpu, m.batches.result.completed * 100)} | ${m.batches.load} |`,
    );
    lines.push(
      `| gRPC SubmitStream (4 streams × 25,000) | 100,000 grades/s | ${fmt(m.stream.result.rate)} grades/s | — | — | — | ${perGrade(m.stream.serverCpu, m.stream.result.grades)} | ${perGrade(m.stream.dbCpu, m.stream.result.grades)} | ${m.stream.load} |`,
    );
    lines.push('', `Analytics over ${fmt(RECORDS)} records on MariaDB (filled in ${fmt(m.fill.seconds)} s):`, '');
    lines.push(...analyticsTable(m.analytics));
  }
  return lines.join('\n');
}

const perGrade = (cpu: number, grades: number) => fmt((cpu / Math.max(1, grades)) * 1e6);

function runHeader(db = false): string[] {
  return db
    ? [
        '| run | target | achieved | p50 ms | p99 ms | errors | server CPU µs per grade | MariaDB CPU µs per grade | load avg |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      ]
    : [
        '| run | target | achieved | p50 ms | p99 ms | errors | server CPU µs per grade | load avg |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      ];
}

function pacedRow(run: PacedRun, target: string, db = false): string {
  const r = run.result;
  const lost = r.missed + r.unfinished;
  const note = lost ? ` (${fmt(lost)} due requests not sent or not answered in time)` : '';
  // Per answered request over the run (the server also works on requests answered after it).
  const answered = Math.max(1, Math.round(r.rate * r.seconds));
  const dbCol = db ? ` ${perGrade(run.dbCpu, answered)} |` : '';
  return `| REST, 1 grade per request, paced at ${fmt(run.rate)}/s${note} | ${target} | ${fmt(r.rate)}/s | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ${perGrade(run.serverCpu, answered)} |${dbCol} ${run.load} |`;
}

function analyticsTable(rows: AnalyticsRow[]): string[] {
  return [
    '| query | p50 ms | p95 ms (target ≤ 100) | max ms |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.query} | ${r.p50} | **${r.p95}** | ${r.max} |`),
  ];
}

const BEGIN = '<!-- grades-bench:begin -->';
const END = '<!-- grades-bench:end -->';

function writeDocs(block: string): void {
  const file = path.join(ROOT, 'docs/benchmarks.md');
  let doc = fs.readFileSync(file, 'utf8');
  const generated = `${BEGIN}\n${block}\n${END}`;
  if (doc.includes(BEGIN) && doc.includes(END)) {
    doc = doc.slice(0, doc.indexOf(BEGIN)) + generated + doc.slice(doc.indexOf(END) + END.length);
  } else {
    doc = `${doc.trimEnd()}\n\n## Grades\n\n\`npm run bench -- grades\`\n\n${generated}\n`;
  }
  fs.writeFileSync(file, doc);
}

const report: Report = {
  started: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average at start ${load()}`,
};
log(`grades benchmark: ${report.machine}`);
await embedded(report);
if (!values['no-mariadb']) await mariadb(report);
const block = markdown(report);
process.stdout.write(`${block}\n`);
fs.mkdirSync(path.join(ROOT, '.reports'), { recursive: true });
fs.writeFileSync(path.join(ROOT, '.reports/bench-grades.json'), JSON.stringify(report, null, 2));
if (!values['no-write']) writeDocs(block);
