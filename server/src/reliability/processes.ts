import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
export { freePort } from '../platform/ports.ts';

/**
 * Server roles as real processes (`aula serve api|ingest-grpc`, `aula worker`), started exactly as
 * a deployment starts them, so a test can `kill -9` one and start it again on the same settings.
 */

export const ROOT = path.resolve(import.meta.dirname, '../../..');
const MAIN = path.join(ROOT, 'server/src/main.ts');

export type RoleName = 'api' | 'ingest-grpc' | 'worker';

export interface RoleProcess {
  readonly role: RoleName;
  readonly child: ChildProcess;
  /** Every line the process printed (stdout and stderr), for failure messages and log greps. */
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  alive(): boolean;
  /** kill -9: no shutdown hooks, no draining. */
  kill9(): Promise<void>;
  /** SIGTERM and wait; a clean stop exits 0. */
  stop(): Promise<number | null>;
}

export interface RoleEnv {
  [name: string]: string;
}

/** Starts a role and resolves once it serves: /health/live for api, the gRPC port for ingest-grpc, the banner for worker. */
export async function startRole(role: RoleName, env: RoleEnv, timeoutMs = 90_000): Promise<RoleProcess> {
  const args = ['--import', 'tsx', MAIN, ...(role === 'worker' ? ['worker'] : ['serve', role])];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    // Only what the test passes: the machine's own settings must not leak into the product under test.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const proc: RoleProcess = {
    role,
    child,
    lines,
    exited,
    alive,
    async kill9() {
      if (!alive()) return;
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!alive()) return child.exitCode;
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(force);
      return code;
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) throw new Error(`${role} exited (${child.exitCode ?? child.signalCode}):\n${lines.join('\n')}`);
    if (Date.now() > deadline) {
      await proc.kill9();
      throw new Error(`${role} did not start within ${timeoutMs} ms:\n${lines.join('\n')}`);
    }
    if (await serving(role, env, lines)) return proc;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function serving(role: RoleName, env: RoleEnv, lines: string[]): Promise<boolean> {
  if (role === 'worker') return lines.some((l) => l.includes('Aula worker running'));
  if (role === 'api') {
    try {
      return (await fetch(`http://127.0.0.1:${env.PORT}/health/live`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  }
  // ingest-grpc prints its banner once the port is bound.
  return lines.some((l) => l.includes('aula.grades.v1.Grades'));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A seeded PRNG so a failing kill schedule can be replayed from the seed printed in the failure. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}
