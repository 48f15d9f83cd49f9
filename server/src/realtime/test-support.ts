import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { testConfig } from '../config.ts';
import { createContext } from '../context.ts';
import { buildApp } from '../http/app.ts';
import { createTestApp, type TestApp } from '../test/app.ts';
import { startRealtime } from './index.ts';
import type { JoinAck, Realtime } from './sockets.ts';

/** A test app listening on a real port with Socket.IO attached, as `aula start` runs it. */
export interface LiveTestApp extends TestApp {
  url: string;
  realtime: Realtime;
}

export async function createLiveTestApp(
  opts: Parameters<typeof createTestApp>[0] = {},
  realtimeOpts: Parameters<typeof startRealtime>[2] = {},
): Promise<LiveTestApp> {
  const t = await createTestApp(opts);
  const realtime = await startRealtime(t.ctx, t.app.server, realtimeOpts);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as AddressInfo;
  return {
    ...t,
    url: `http://127.0.0.1:${port}`,
    realtime,
    close: async () => {
      await realtime.close();
      await t.close();
    },
  };
}

/**
 * Another instance of the product on an existing database (a second server of a scaled
 * deployment): its own context, Redis clients, HTTP server and sockets.
 */
export async function createLiveInstance(env: Record<string, string>): Promise<LiveTestApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-live-'));
  const config = testConfig({
    DATA_DIR: dir,
    BLOB_URL: `file:${path.join(dir, 'blobs')}`,
    WEB_DIST: path.join(dir, 'no-web'),
    RATE_LIMIT_REDIS_PREFIX: `aula:test:${randomBytes(6).toString('hex')}:rl:`,
    ...env,
  });
  const ctx = await createContext(config);
  const app = await buildApp(ctx);
  const realtime = await startRealtime(ctx, app.server);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    ctx,
    app,
    config,
    url: `http://127.0.0.1:${port}`,
    realtime,
    close: async () => {
      await realtime.close();
      await app.close();
      await ctx.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ClientOptions {
  token?: string;
  cookie?: string;
  origin?: string;
}

/** A socket.io client; resolves once connected, rejects with the server's refusal. */
export function openSocket(url: string, opts: ClientOptions = {}): Promise<Socket> {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.origin) headers.origin = opts.origin;
  const socket = connect(url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: opts.token ? { token: opts.token } : {},
    extraHeaders: headers,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      socket.close();
      reject(err);
    });
  });
}

export function join(socket: Socket, room: string): Promise<JoinAck> {
  return socket.timeout(5000).emitWithAck('join', room) as Promise<JoinAck>;
}

/** Resolves with the first `event` payload that satisfies `until`. */
export function nextEvent<T>(socket: Socket, event: string, until: (p: T) => boolean = () => true, timeoutMs = 10_000) {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`no matching ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (p: T) => {
      if (!until(p)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(p);
    };
    socket.on(event, on);
  });
}

/** Resolves with the first payload in `seen` (from `record`) that satisfies `until`, already there or still to come. */
export async function recorded<T>(seen: { payload: T }[], until: (p: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const hit = seen.find((e) => until(e.payload));
    if (hit) return hit.payload;
    if (performance.now() > deadline) throw new Error(`no matching payload within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every payload of `event` from now on, with the time it arrived. */
export function record<T>(socket: Socket, event: string): { t: number; payload: T }[] {
  const seen: { t: number; payload: T }[] = [];
  socket.on(event, (payload: T) => seen.push({ t: performance.now(), payload }));
  return seen;
}
