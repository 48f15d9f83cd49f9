/**
 * Support for the generator's end-to-end tests: a real Aula server process, a real API token,
 * and `aula load` run as its own process exactly as a user runs it.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { freePort, ROOT, startAula, type RunningAula } from '../../../e2e/support/server.ts';
import type { LoadSummary } from './summary.ts';

export interface TestServer extends RunningAula {
  grpcAddress: string;
}

export async function startTestServer(): Promise<TestServer> {
  const grpcPort = await freePort();
  const server = await startAula({ env: { GRPC_PORT: String(grpcPort) } });
  return { ...server, grpcAddress: `127.0.0.1:${grpcPort}` };
}

/** `aula tokens create` against the server's database; the token is the last line printed. */
export function createToken(server: RunningAula, scopes: string[]): string {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'server/src/main.ts',
      'tokens',
      'create',
      '--user',
      'admin',
      '--name',
      `load-${Date.now()}`,
      '--scopes',
      scopes.join(','),
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DATA_DIR: server.dataDir,
        LOG_LEVEL: 'warn',
        DATABASE_URL: '',
        REDIS_URL: '',
        BLOB_URL: '',
      },
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`tokens create failed (${r.status}): ${r.stderr}${r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  return lines[lines.length - 1].trim();
}

export interface LoadRun {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
  report: LoadSummary | undefined;
}

/** Runs `aula load …` in its own process; with `report`, reads back the JSON report. */
export async function runLoadCli(
  args: string[],
  opts: { report?: boolean; timeoutMs?: number } = {},
): Promise<LoadRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-load-'));
  const reportFile = path.join(dir, 'report.json');
  const all = [
    '--import',
    'tsx',
    'server/src/main.ts',
    'load',
    ...args,
    ...(opts.report ? ['--report', reportFile] : []),
  ];
  const started = Date.now();
  const child = spawn(process.execPath, all, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const elapsedMs = Date.now() - started;
  const report = fs.existsSync(reportFile)
    ? (JSON.parse(fs.readFileSync(reportFile, 'utf8')) as LoadSummary)
    : undefined;
  fs.rmSync(dir, { recursive: true, force: true });
  return { code, stdout, stderr, elapsedMs, report };
}

/** Rows in grade_records, read straight from the server's SQLite file. */
export function countGradeRows(server: RunningAula): number {
  const db = new SQLite(path.join(server.dataDir, 'aula.db'), { readonly: true, fileMustExist: true });
  try {
    return Number((db.prepare('select count(*) as n from grade_records').get() as { n: number }).n);
  } finally {
    db.close();
  }
}
