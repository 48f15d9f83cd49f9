import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import S3rver from 's3rver';
import { envSchema } from '../../server/src/config.ts';
import { startRoundRobinProxy, type ProxyStats, type RoundRobinProxy } from './proxy.ts';
import { freePort } from '../../server/src/platform/ports.ts';
export { freePort } from '../../server/src/platform/ports.ts';

/**
 * A scaled deployment of Aula on one machine, every part on loopback: two API instances behind a
 * round-robin proxy, one gRPC ingest instance, two workers, MariaDB and Redis (the machine's
 * servers, on a database and key prefix of the cluster's own) and s3rver as the S3 blob store.
 * `npm run cluster:local` runs it in a terminal; tests start it, break parts of it and check
 * what the product does.
 */

export const ROOT = path.resolve(import.meta.dirname, '../..');

export const API_INSTANCES = ['api-a', 'api-b'] as const;
export const WORKER_INSTANCES = ['worker-1', 'worker-2'] as const;
export const INSTANCE_NAMES = [...API_INSTANCES, 'ingest-grpc', ...WORKER_INSTANCES] as const;
export type InstanceName = (typeof INSTANCE_NAMES)[number];
type ApiName = (typeof API_INSTANCES)[number];

export interface ClusterOptions {
  /** The MySQL/MariaDB server (its path, if any, names the database unless `databaseName` does). */
  databaseUrl?: string;
  /** Created when missing (default `aula_cluster`). */
  databaseName?: string;
  /** On stop, drop the database and delete the cluster's Redis keys: for clusters made by tests. */
  throwaway?: boolean;
  redisUrl?: string;
  /**
   * Prefix of the cluster's queue and counter keys in Redis, so several clusters (or a cluster
   * and other users of the same Redis) never take each other's jobs (default `aula:cluster:`).
   */
  keyPrefix?: string;
  /** Where the proxy listens (default 0: a free port). */
  proxyPort?: number;
  /** s3rver's folder; default a temporary folder, removed on stop. */
  blobDir?: string;
  adminPassword?: string;
  seedDemo?: boolean;
  /** Inference processes per API and worker instance (default 1: the machine is shared by five). */
  visionWorkers?: number;
  logLevel?: string;
  /** More environment for every instance (any variable of the configuration). */
  env?: Record<string, string>;
  /** Every line an instance prints; default: kept for `output(name)` only. */
  onOutput?: (instance: string, line: string) => void;
  /** How long each instance may take to become ready (default 120 s). */
  readyTimeoutMs?: number;
}

export interface InstanceInfo {
  name: InstanceName;
  role: 'api' | 'ingest-grpc' | 'worker';
  pid: number | undefined;
  running: boolean;
  /** API instances: their own HTTP address, bypassing the proxy. */
  url?: string;
  /** The gRPC instance: host:port. */
  grpcAddress?: string;
}

export interface Cluster {
  /** The round-robin proxy in front of the API instances: the address users open. */
  proxyUrl: string;
  /** Each API instance directly. */
  apiUrls: Record<ApiName, string>;
  grpcAddress: string;
  /** The full database URL the instances use. */
  databaseUrl: string;
  redisUrl: string;
  blobUrl: string;
  s3Url: string;
  adminPassword: string;
  instances(): InstanceInfo[];
  /** The last lines an instance printed, for failure messages. */
  output(name: InstanceName | 'migrate'): string;
  proxyStats(): ProxyStats;
  /** Kills an instance and its inference processes at once (default SIGKILL), like a lost pod. */
  kill(name: InstanceName, signal?: NodeJS.Signals): Promise<void>;
  /** Starts an instance again on the same ports and waits until it is ready. */
  restart(name: InstanceName): Promise<void>;
  /** Stops everything: the proxy, then every instance gracefully, then s3rver. */
  stop(): Promise<void>;
}

interface Instance {
  name: InstanceName;
  role: InstanceInfo['role'];
  args: string[];
  env: Record<string, string>;
  port?: number;
  child?: ChildProcess;
  exited?: Promise<void>;
}

const OUTPUT_LINES = 200;

/** The server URL with `name` as its database, and the same URL without one (to create it). */
export function databaseUrls(serverUrl: string, name?: string): { url: string; adminUrl: string; name: string } {
  const u = new URL(serverUrl);
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new Error('the local cluster runs on MySQL or MariaDB: use a mysql:// database URL');
  }
  const db = name ?? (decodeURIComponent(u.pathname.slice(1)) || 'aula_cluster');
  if (!/^[A-Za-z0-9_]{1,64}$/.test(db)) throw new Error(`bad database name "${db}": letters, digits and _ only`);
  u.protocol = 'mysql:';
  u.pathname = '/';
  const adminUrl = u.toString();
  u.pathname = `/${db}`;
  return { url: u.toString(), adminUrl, name: db };
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const host = '127.0.0.1';
  const db = databaseUrls(opts.databaseUrl ?? 'mysql://root@127.0.0.1:3306', opts.databaseName);
  const redisUrl = opts.redisUrl ?? 'redis://127.0.0.1:6379';
  const keyPrefix = opts.keyPrefix ?? 'aula:cluster:';
  const adminPassword = opts.adminPassword ?? 'aula-cluster-admin';
  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-cluster-'));
  const blobDir = opts.blobDir ?? path.join(tmp, 's3');
  fs.mkdirSync(blobDir, { recursive: true });

  const outputs = new Map<string, string[]>();
  const print = (name: string, chunk: string) => {
    const lines = outputs.get(name) ?? [];
    outputs.set(name, lines);
    for (const line of chunk.split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      opts.onOutput?.(name, line);
    }
    if (lines.length > OUTPUT_LINES) lines.splice(0, lines.length - OUTPUT_LINES);
  };
  const output = (name: string) => (outputs.get(name) ?? []).join('\n');

  let s3: S3rver | undefined;
  let proxy: RoundRobinProxy | undefined;
  const instances = new Map<InstanceName, Instance>();
  // Instances run in their own process groups (so a kill takes their inference processes too);
  // if this process dies without stopping them, they are not left behind.
  const killAll = () => {
    for (const i of instances.values()) killGroup(i.child, 'SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  process.once('exit', killAll);

  const cleanup = async () => {
    process.off('exit', killAll);
    await proxy?.close();
    await Promise.all([...instances.values()].map((i) => stopInstance(i)));
    await s3?.close().catch(() => {});
    if (opts.throwaway) {
      await Promise.all([
        dropDatabase(db.adminUrl, db.name).catch(() => {}),
        deleteKeys(redisUrl, keyPrefix).catch(() => {}),
      ]);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };

  try {
    const [, s3Address, apiPorts, grpcPort] = await Promise.all([
      createDatabase(db.adminUrl, db.name),
      (s3 = new S3rver({
        address: host,
        port: 0,
        silent: true,
        directory: blobDir,
        configureBuckets: [{ name: 'aula', configs: [] }],
      })).run(),
      Promise.all(API_INSTANCES.map(() => freePort(host))),
      freePort(host),
    ]);
    const s3Url = `http://${host}:${s3Address.port}`;
    const blobUrl =
      `s3://aula?endpoint=${encodeURIComponent(s3Url)}&forcePathStyle=true&region=us-east-1` +
      '&accessKeyId=S3RVER&secretAccessKey=S3RVER';

    const base: Record<string, string> = {};
    // Settings of the shell that runs the cluster must not leak into it: the cluster sets its own.
    const product = new Set([...Object.keys(envSchema.shape), 'NODE_OPTIONS']);
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !product.has(k)) base[k] = v;
    Object.assign(base, {
      NODE_ENV: 'production',
      LOG_LEVEL: opts.logLevel ?? 'warn',
      HOST: host,
      GRPC_HOST: host,
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      BLOB_URL: blobUrl,
      SESSION_SECRET: randomBytes(32).toString('base64url'),
      AULA_ADMIN_PASSWORD: adminPassword,
      SEED_DEMO: String(opts.seedDemo ?? false),
      // The instances sit behind the proxy, which says who the client is.
      TRUST_PROXY: 'true',
      QUEUE_PREFIX: `${keyPrefix}q`,
      GRADES_REDIS_PREFIX: `${keyPrefix}grades:`,
      RATE_LIMIT_REDIS_PREFIX: `${keyPrefix}rl:`,
      WORKERS: String(opts.visionWorkers ?? 1),
      // The AWS SDK's notice about future Node versions, five times over, hides what matters.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...opts.env,
    });
    const envFor = (name: string, extra: Record<string, string>) => {
      const dataDir = path.join(tmp, name);
      fs.mkdirSync(dataDir, { recursive: true });
      return { ...base, DATA_DIR: dataDir, ...extra };
    };

    // Migrations run once, before any instance starts, as the migrate Job does on Kubernetes.
    const migrate = await runToEnd(['migrate', 'up'], envFor('migrate', {}), (c) => print('migrate', c));
    if (migrate !== 0) throw new Error(`aula migrate up failed (exit ${migrate}):\n${output('migrate')}`);

    API_INSTANCES.forEach((name, i) =>
      instances.set(name, {
        name,
        role: 'api',
        args: ['serve', 'api'],
        port: apiPorts[i],
        env: envFor(name, { PORT: String(apiPorts[i]) }),
      }),
    );
    instances.set('ingest-grpc', {
      name: 'ingest-grpc',
      role: 'ingest-grpc',
      args: ['serve', 'ingest-grpc'],
      port: grpcPort,
      env: envFor('ingest-grpc', { GRPC_PORT: String(grpcPort) }),
    });
    for (const name of WORKER_INSTANCES) {
      instances.set(name, { name, role: 'worker', args: ['worker'], env: envFor(name, {}) });
    }

    const launch = (i: Instance) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/src/main.ts'), ...i.args], {
        cwd: ROOT,
        env: i.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (c: Buffer) => print(i.name, c.toString()));
      child.stderr.on('data', (c: Buffer) => print(i.name, c.toString()));
      i.child = child;
      i.exited = new Promise((resolve) =>
        child.once('exit', (code, signal) => {
          print(i.name, `--- exited (${signal ?? `code ${code}`}) ---`);
          resolve();
        }),
      );
      return waitReady(i, () => output(i.name), readyTimeoutMs);
    };

    // Start-up is mostly loading code and models: everything starts at once.
    await Promise.all([...instances.values()].map(launch));
    proxy = await startRoundRobinProxy({
      host,
      port: opts.proxyPort ?? 0,
      backends: API_INSTANCES.map((name, i) => ({ name, host, port: apiPorts[i] })),
    });

    const p = proxy;
    const get = (name: InstanceName) => {
      const i = instances.get(name);
      if (!i) throw new Error(`no instance named ${name}; the cluster has ${INSTANCE_NAMES.join(', ')}`);
      return i;
    };
    let stopping: Promise<void> | undefined;
    return {
      proxyUrl: p.url,
      apiUrls: { 'api-a': `http://${host}:${apiPorts[0]}`, 'api-b': `http://${host}:${apiPorts[1]}` },
      grpcAddress: `${host}:${grpcPort}`,
      databaseUrl: db.url,
      redisUrl,
      blobUrl,
      s3Url,
      adminPassword,
      instances: () =>
        [...instances.values()].map((i) => ({
          name: i.name,
          role: i.role,
          pid: i.child?.pid,
          running: isRunning(i.child),
          ...(i.role === 'api' ? { url: `http://${host}:${i.port}` } : {}),
          ...(i.role === 'ingest-grpc' ? { grpcAddress: `${host}:${i.port}` } : {}),
        })),
      output,
      proxyStats: () => p.stats(),
      kill: async (name, signal = 'SIGKILL') => {
        const i = get(name);
        killGroup(i.child, signal);
        await i.exited;
      },
      restart: async (name) => {
        const i = get(name);
        await stopInstance(i);
        print(name, '--- restarted ---');
        await launch(i);
      },
      stop: () => (stopping ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function isRunning(child: ChildProcess | undefined): child is ChildProcess {
  return !!child && child.exitCode === null && child.signalCode === null;
}

function killGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM (the server finishes what it is doing), SIGKILL after 15 s, then anything left in its group. */
async function stopInstance(i: Instance): Promise<void> {
  if (isRunning(i.child)) {
    i.child.kill('SIGTERM');
    const force = setTimeout(() => killGroup(i.child, 'SIGKILL'), 15_000);
    await i.exited;
    clearTimeout(force);
  }
  killGroup(i.child, 'SIGKILL');
}

/** Runs an `aula` command to its end; resolves with its exit code. */
function runToEnd(args: string[], env: Record<string, string>, onChunk: (c: string) => void): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/src/main.ts'), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => onChunk(c.toString()));
  child.stderr.on('data', (c: Buffer) => onChunk(c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

/**
 * API instances are ready when /health/ready says so (database, Redis, blobs, vision models); the
 * gRPC instance when it accepts connections; workers when they print that they consume the queue.
 */
async function waitReady(i: Instance, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void i.exited!.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${i.name} exited with code ${i.child!.exitCode} before it was ready:\n${output()}`);
    if (await isReady(i, output)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${i.name} was not ready within ${timeoutMs} ms:\n${output()}`);
}

async function isReady(i: Instance, output: () => string): Promise<boolean> {
  if (i.role === 'api') {
    try {
      const res = await fetch(`http://127.0.0.1:${i.port}/health/ready`, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }
  if (i.role === 'worker') return /Aula worker running/.test(lastStart(output()));
  if (!/gRPC\s/.test(lastStart(output()))) return false;
  return new Promise((resolve) => {
    const s = net.connect(i.port!, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The output since the instance last (re)started. */
function lastStart(out: string): string {
  const at = out.lastIndexOf('--- restarted ---');
  return at === -1 ? out : out.slice(at);
}

async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const c = await mysql.createConnection({ uri: adminUrl, connectTimeout: 5000 });
  try {
    await c.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await c.end();
  }
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const c = await mysql.createConnection({ uri: adminUrl, connectTimeout: 5000 });
  try {
    await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await c.end();
  }
}
