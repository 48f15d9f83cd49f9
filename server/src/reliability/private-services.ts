import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, sleep } from './processes.ts';

/**
 * Private Redis and MariaDB servers for outage tests: their own port and throwaway data folder,
 * so a test can stop and restart them without touching the services other tests share.
 */
export interface PrivateService {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGTERM: a clean shutdown, like a restart or a failover). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  destroy(): Promise<void>;
}

function waitPort(port: number, timeoutMs: number, child: () => ChildProcess | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const c = child();
      if (c && c.exitCode !== null) return reject(new Error(`the server exited with ${c.exitCode}`));
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listening on ${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(force);
}

function privateService(
  name: string,
  port: number,
  url: string,
  dir: string,
  launch: () => ChildProcess,
): PrivateService {
  let child: ChildProcess | undefined;
  const svc: PrivateService = {
    port,
    url,
    async start() {
      child = launch();
      const log = fs.createWriteStream(path.join(dir, `${name}.log`), { flags: 'a' });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      await waitPort(port, 60_000, () => child);
    },
    async stop() {
      await stopChild(child);
      child = undefined;
    },
    async destroy() {
      await stopChild(child);
      child = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return svc;
}

/**
 * `redis-server` on a free port, nothing persisted (as the product treats Redis: derived state
 * only). With `password`, clients must authenticate and the URL carries it.
 */
export async function startPrivateRedis(opts: { password?: string } = {}): Promise<PrivateService> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-redis-'));
  const auth = opts.password === undefined ? '' : `:${encodeURIComponent(opts.password)}@`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (opts.password !== undefined) args.push('--requirepass', opts.password);
  const svc = privateService('redis', port, `redis://${auth}127.0.0.1:${port}/0`, dir, () =>
    spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  await svc.start();
  return svc;
}

/**
 * `mariadbd` on a free port with a fresh data folder. Grant tables are skipped (no accounts to
 * set up, root without a password), which is all a throwaway test server needs.
 */
export async function startPrivateMariadb(): Promise<PrivateService> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-mariadb-'));
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const args = [
    '--no-defaults',
    `--datadir=${data}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${path.join(dir, 'mysqld.sock')}`,
    `--pid-file=${path.join(dir, 'mysqld.pid')}`,
    `--log-error=${path.join(dir, 'error.log')}`,
    '--skip-grant-tables',
    '--innodb-buffer-pool-size=32M',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_bin',
    ...(process.getuid?.() === 0 ? ['--user=root'] : []),
  ];
  const svc = privateService('mariadb', port, `mysql://root@127.0.0.1:${port}/aula`, dir, () =>
    spawn('mariadbd', args, { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  await svc.start();
  // The port opens a moment before the server takes queries.
  const mysql = await import('mysql2/promise');
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
      await c.query('CREATE DATABASE IF NOT EXISTS aula CHARACTER SET utf8mb4 COLLATE utf8mb4_bin');
      await c.end();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
  return svc;
}
