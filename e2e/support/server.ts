import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../server/src/platform/ports.ts';
export { freePort } from '../../server/src/platform/ports.ts';

/**
 * Runs the real product for browser tests: `aula start` as a child process, embedded (SQLite and
 * file blobs in a throwaway DATA_DIR) unless the caller passes other settings in `env`.
 */

export const ROOT = path.resolve(import.meta.dirname, '../..');
const WEB_INDEX = path.join(ROOT, 'web/dist/index.html');

export interface StartOptions {
  /** Extra or overriding environment for the server (e.g. SEED_DEMO, DATABASE_URL, REDIS_URL). */
  env?: Record<string, string | undefined>;
  /** Password of the bootstrap admin (also the demo accounts' password). */
  adminPassword?: string;
  /** How long to wait for /health/ready. */
  readyTimeoutMs?: number;
}

export interface RunningAula {
  url: string;
  adminPassword: string;
  dataDir: string;
  /** The last lines the server printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

// Settings of the machine running the tests must not leak into the product under test: the
// server starts embedded unless a test asks otherwise.
const SCRUBBED = [
  'DATABASE_URL',
  'BLOB_URL',
  'REDIS_URL',
  'PORT',
  'HOST',
  'GRPC_PORT',
  'GRPC_HOST',
  'DATA_DIR',
  'PUBLIC_URL',
  'WEB_DIST',
  'AULA_ADMIN_PASSWORD',
  'SEED_DEMO',
  'LOG_LEVEL',
  'NODE_OPTIONS',
];

/** Builds the web app once if it has never been built (`npm test` builds it before the suite). */
export function ensureWebBuilt(): void {
  if (fs.existsSync(WEB_INDEX)) return;
  const r = spawnSync('npm', ['run', 'build', '--workspace', 'web', '--silent'], { cwd: ROOT, stdio: 'pipe' });
  if (r.status !== 0 || !fs.existsSync(WEB_INDEX)) {
    throw new Error(`building the web app failed:\n${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`);
  }
}

export async function startAula(opts: StartOptions = {}): Promise<RunningAula> {
  ensureWebBuilt();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-e2e-'));
  const [port, grpcPort] = [await freePort(), await freePort()];
  const adminPassword = opts.adminPassword ?? 'e2e-admin-Passw0rd';
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SCRUBBED.includes(k)) env[k] = v;
  Object.assign(env, {
    HOST: '127.0.0.1',
    PORT: String(port),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(grpcPort),
    DATA_DIR: dataDir,
    AULA_ADMIN_PASSWORD: adminPassword,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
  });
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }

  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', 'start'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(line);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = `http://127.0.0.1:${port}`;
  const output = () => lines.join('\n');
  const stop = () => stopChild(child, exited, dataDir);

  try {
    await waitUntilReady(url, exited, opts.readyTimeoutMs ?? 90_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- server output ---\n${output()}`, { cause: err });
  }
  return { url, adminPassword, dataDir, output, stop };
}

async function waitUntilReady(url: string, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`the server exited with code ${exitCode} before it was ready`);
    try {
      const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the server was not ready within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>, dataDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}
