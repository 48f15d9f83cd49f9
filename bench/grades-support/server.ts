import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testConfig } from '../../server/src/config.ts';
import { createContext } from '../../server/src/context.ts';
import { SYSTEM_ACTOR } from '../../server/src/modules/identity/actor.ts';
import { freePort } from '../../server/src/platform/ports.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

export interface Tokens {
  write: string;
  read: string;
}

/** Migrates the database and creates an ingest account with API tokens, before the server starts. */
export async function prepareDatabase(databaseUrl: string, dataDir: string): Promise<Tokens> {
  const ctx = await createContext(testConfig({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir }));
  try {
    const user = await ctx.identity.createUser(
      {
        username: `bench-${Date.now().toString(36)}`,
        email: `bench-${Date.now()}@example.test`,
        fullName: 'Benchmark client',
        role: 'teacher',
      },
      SYSTEM_ACTOR,
    );
    const mk = async (scopes: ('grades:write' | 'grades:read')[]) =>
      (await ctx.identity.createApiToken(SYSTEM_ACTOR, { userId: user.id, name: `bench ${scopes.join(' ')}`, scopes }))
        .token;
    return { write: await mk(['grades:write']), read: await mk(['grades:read']) };
  } finally {
    await ctx.close();
  }
}

export interface AulaProcess {
  url: string;
  grpcAddress: string;
  pid: number;
  cpuSeconds(): number;
  output(): string;
  stop(): Promise<void>;
}

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
  'NODE_OPTIONS',
];

/** The real server, `aula start` (web, REST, gRPC, workers) in its own process. */
export async function startAulaProcess(dataDir: string, env: Record<string, string>): Promise<AulaProcess> {
  const [port, grpcPort] = [await freePort(), await freePort()];
  const full: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SCRUBBED.includes(k)) full[k] = v;
  Object.assign(full, {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(grpcPort),
    DATA_DIR: dataDir,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'warn',
    AULA_ADMIN_PASSWORD: 'bench-admin-password',
    // One vision worker: the models load once and then idle; this benchmark does not use them.
    WORKERS: '1',
    ...env,
  });
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'server/src/main.ts'), 'start'],
    {
      cwd: ROOT,
      env: full,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const keep = (b: Buffer) => {
    lines.push(...b.toString().split('\n').filter(Boolean));
    if (lines.length > 100) lines.splice(0, lines.length - 100);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  let live = false;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${lines.join('\n')}`);
    try {
      const r = await fetch(`${url}/health/${live ? 'ready' : 'live'}`, { signal: AbortSignal.timeout(2000) });
      if (r.ok && live) break;
      if (r.ok) live = true;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    pid: child.pid!,
    cpuSeconds: () => cpuSeconds(child.pid!),
    output: () => lines.join('\n'),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
