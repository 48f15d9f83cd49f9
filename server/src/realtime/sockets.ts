import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Gauge } from 'prom-client';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { SESSION_COOKIE } from '../http/auth.ts';
import type { Actor } from '../modules/identity/actor.ts';
import { AppError } from '../platform/errors.ts';
import { Coalescer } from './coalescer.ts';
import { ROOM_NAME } from './rooms.ts';

/** Bus channel any part of the product (or another process) uses to push a value to a room. */
export const REALTIME_CHANNEL = 'realtime.emit';

/** At most this many emits per room and event each second: the dashboard's refresh budget. */
export const DEFAULT_EMITS_PER_SECOND = 4;

const MAX_ROOMS_PER_SOCKET = 64;
/** Each join re-checks the credential in SQL, so a socket may not join faster than this. */
const JOINS_PER_MINUTE = 120;
/** How often sockets are re-checked: a signed-out session or revoked token loses its socket. */
const DEFAULT_REVALIDATE_MS = 60_000;

/** Room joins may not outpace this budget; refilled continuously. */
class JoinBudget {
  private tokens = JOINS_PER_MINUTE / 4;
  private at = performance.now();

  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(JOINS_PER_MINUTE / 4, this.tokens + ((now - this.at) * JOINS_PER_MINUTE) / 60_000);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export type JoinAck = { ok: true } | { ok: false; error: string; message: string };

interface SocketData {
  actor: Actor;
  /** How the socket signed in, re-checked on every join so a revoked session loses access. */
  credential: { kind: 'session' | 'token'; value: string };
  joins: JoinBudget;
}

// Events are plain names with JSON payloads; their shapes are documented where they are emitted.
type AnyEvents = Record<string, (...args: any[]) => void>;
type RealtimeSocket = Socket<AnyEvents, AnyEvents, AnyEvents, SocketData>;

/** Merges a pending value with a newer one; the default keeps only the newer. */
export type Merge = (pending: unknown, next: unknown) => unknown;

export interface Realtime {
  readonly io: Server;
  /**
   * Emits `event` to the sockets of `room` connected to THIS instance, coalesced to at most a few
   * emits a second per room and event (latest value wins, the final one always arrives).
   */
  emitLocal(room: string, event: string, payload: unknown, merge?: Merge): void;
  /** Sockets connected to this instance. */
  connections(): number;
  close(): Promise<void>;
}

const realtimeMessage = z.object({
  room: z.string().regex(ROOM_NAME),
  event: z.string().min(1).max(64),
  payload: z.unknown(),
});

/**
 * Socket.IO on the HTTP server at /socket.io. Sockets authenticate on the handshake with the
 * session cookie (browsers) or a bearer token in `auth.token` (machines), then join rooms one by
 * one: `socket.emit('join', room, ack)`. Each room prefix has an authorizer and optionally a
 * snapshot in `ctx.rooms`; a room nobody registered cannot be joined.
 *
 * Fan-out across instances. Every instance receives every bus event (with REDIS_URL the bus is
 * Redis pub/sub), and each instance emits only to its own sockets (`io.local`). Each browser is
 * connected to exactly one instance, so it gets every update exactly once. The alternative,
 * letting one instance emit through the Redis adapter to all, would need the bus to say which
 * instance owns an event and would let two instances coalesce the same room independently
 * (twice the update rate, and values from two clocks interleaving); local emission keeps one
 * coalescing window per socket and costs no extra Redis traffic. The Redis adapter is still
 * attached so that room-wide calls made on one instance (`io.to(room).emit`, `fetchSockets`,
 * `disconnectSockets`) reach the sockets held by the others.
 */
export async function attachRealtime(
  ctx: AppContext,
  httpServer: HttpServer,
  opts: { emitsPerSecond?: number; revalidateEveryMs?: number } = {},
): Promise<Realtime> {
  const logger = ctx.logger.child({ component: 'realtime' });
  const io = new Server(httpServer, {
    path: '/socket.io',
    serveClient: false,
    // Dashboards need no more; a tiny cap keeps a hostile client from sending large frames.
    maxHttpBufferSize: 16 * 1024,
    pingInterval: 20_000,
    pingTimeout: 20_000,
  });

  const closers: (() => Promise<void> | void)[] = [];
  if (ctx.config.redisUrl) {
    const pub = new Redis(ctx.config.redisUrl, { maxRetriesPerRequest: 1 });
    const sub = pub.duplicate();
    // Outages are reported by the readiness check; the adapter retries on its own.
    pub.on('error', (err) => logger.debug({ err }, 'socket adapter redis error'));
    sub.on('error', (err) => logger.debug({ err }, 'socket adapter redis error'));
    io.adapter(createAdapter(pub, sub, { key: 'aula:sio', publishOnSpecificResponseChannel: true }));
    closers.push(() => {
      pub.disconnect();
      sub.disconnect();
    });
  }

  const gaugeName = 'aula_socket_connections';
  new Gauge({
    name: gaugeName,
    help: 'Socket.IO connections held by this instance',
    registers: [ctx.metrics.registry],
    collect() {
      this.set(io.of('/').sockets.size);
    },
  });
  closers.push(() => ctx.metrics.registry.removeSingleMetric(gaugeName));

  const interval = 1000 / (opts.emitsPerSecond ?? DEFAULT_EMITS_PER_SECOND);
  const coalescer = new Coalescer<{ room: string; event: string; payload: unknown; merge: Merge | undefined }>(
    interval,
    (_key, v) => void io.local.to(v.room).emit(v.event, v.payload),
    (pending, next) => (pending && next.merge ? { ...next, payload: next.merge(pending.payload, next.payload) } : next),
  );
  closers.push(() => coalescer.close());

  const hasLocalListeners = (room: string) => (io.of('/').adapter.rooms.get(room)?.size ?? 0) > 0;

  const emitLocal: Realtime['emitLocal'] = (room, event, payload, merge) => {
    // Rooms nobody on this instance watches cost nothing.
    if (!hasLocalListeners(room)) return;
    coalescer.push(`${room}\u0000${event}`, { room, event, payload, merge });
  };

  const offBus = ctx.bus.subscribe(REALTIME_CHANNEL, (msg) => {
    const parsed = realtimeMessage.safeParse(msg);
    if (parsed.success) emitLocal(parsed.data.room, parsed.data.event, parsed.data.payload);
  });
  closers.push(offBus);

  io.use((socket, next) => {
    authenticate(ctx, socket as RealtimeSocket).then(
      () => next(),
      (err: unknown) => next(toConnectError(err, logger)),
    );
  });

  io.on('connection', (raw) => {
    const socket = raw as RealtimeSocket;
    socket.on('join', (room: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (a: JoinAck) => void) : () => {};
      join(ctx, socket, room).then(reply, (err: unknown) => {
        if (!(err instanceof AppError)) logger.error({ err }, 'join failed');
        reply(refusal(err));
      });
    });
    socket.on('leave', (room: unknown, ack: unknown) => {
      if (typeof room === 'string' && room !== socket.id) void socket.leave(room);
      if (typeof ack === 'function') (ack as (a: JoinAck) => void)({ ok: true });
    });
  });

  // Sockets live for hours; their sign-in and their rooms are checked again now and then.
  const revalidating = setInterval(() => {
    revalidate(ctx, io).catch((err: unknown) => logger.warn({ err }, 'socket revalidation failed'));
  }, opts.revalidateEveryMs ?? DEFAULT_REVALIDATE_MS);
  revalidating.unref();
  closers.push(() => clearInterval(revalidating));

  let closing: Promise<void> | undefined;
  return {
    io,
    emitLocal,
    connections: () => io.of('/').sockets.size,
    // The HTTP server belongs to Fastify, which closes it; only Socket.IO's own parts stop here.
    close: () =>
      (closing ??= (async () => {
        io.local.disconnectSockets(true);
        io.engine.close();
        await Promise.resolve(io.of('/').adapter.close()).catch(() => {});
        for (const fn of closers.splice(0).reverse()) {
          try {
            await fn();
          } catch (err) {
            logger.warn({ err }, 'error while closing realtime');
          }
        }
      })()),
  };
}

async function authenticate(ctx: AppContext, socket: RealtimeSocket): Promise<void> {
  const hs = socket.handshake;
  const authToken = (hs.auth as Record<string, unknown> | undefined)?.token;
  const header = hs.headers.authorization;
  const bearer = typeof authToken === 'string' ? authToken : header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
  if (bearer !== undefined || header) {
    if (!bearer) throw new AppError('invalid_authorization', 401, 'Authorization must be "Bearer <token>"');
    const actor = await ctx.identity.resolveApiToken(bearer);
    if (!actor) throw new AppError('invalid_token', 401, 'The API token is not valid, expired or revoked');
    socket.data = { actor, credential: { kind: 'token', value: bearer }, joins: new JoinBudget() };
    return;
  }
  const cookie = readCookie(hs.headers.cookie, SESSION_COOKIE);
  if (!cookie) throw new AppError('unauthorized', 401, 'Sign in first');
  // Browsers attach cookies to WebSocket handshakes from any site; only our own pages may use them.
  if (!sameOrigin(hs.headers.origin, hs.headers.host, ctx.config.publicUrl)) {
    throw new AppError('origin_refused', 403, 'This origin may not open a signed-in socket');
  }
  const session = await ctx.identity.resolveSession(cookie);
  if (!session) throw new AppError('unauthorized', 401, 'The session has ended; sign in again');
  socket.data = { actor: session.actor, credential: { kind: 'session', value: cookie }, joins: new JoinBudget() };
}

async function currentActor(ctx: AppContext, socket: RealtimeSocket): Promise<Actor | null> {
  const { credential } = socket.data;
  if (credential.kind === 'token') return ctx.identity.resolveApiToken(credential.value);
  return (await ctx.identity.resolveSession(credential.value))?.actor ?? null;
}

async function join(ctx: AppContext, socket: RealtimeSocket, room: unknown): Promise<JoinAck> {
  if (typeof room !== 'string' || !ROOM_NAME.test(room)) {
    throw new AppError('invalid_room', 400, 'A room is a short name such as "grades" or "grades:SO1:2025-1"');
  }
  const target = ctx.rooms.resolve(room);
  if (!target) throw new AppError('unknown_room', 404, `There is no room "${room}"`);
  if (socket.rooms.has(room)) return { ok: true };
  if (!socket.data.joins.take()) {
    throw new AppError('too_many_joins', 429, 'Too many joins; wait a moment and try again');
  }
  if (socket.rooms.size > MAX_ROOMS_PER_SOCKET) {
    throw new AppError('too_many_rooms', 429, `A socket may be in at most ${MAX_ROOMS_PER_SOCKET} rooms`);
  }
  const actor = await currentActor(ctx, socket);
  if (!actor) {
    // The session ended or the token was revoked after connecting.
    setImmediate(() => socket.disconnect(true));
    throw new AppError('unauthorized', 401, 'The session has ended; sign in again');
  }
  socket.data.actor = actor;
  if (!(await target.authorize(actor, room, target.key))) {
    throw new AppError('forbidden', 403, 'You may not watch this room');
  }
  await socket.join(room);
  // Joined first, read second: anything committed after the read also reaches the room, so the
  // client never misses a change between its snapshot and the first live update.
  if (target.snapshot) {
    const snap = await target.snapshot(room, target.key);
    if (snap) socket.emit(snap.event, snap.payload);
  }
  return { ok: true };
}

/**
 * Disconnects sockets whose session ended or token was revoked, and takes sockets out of rooms
 * their actor may no longer watch (a role changed), telling them with `room:revoked`.
 */
async function revalidate(ctx: AppContext, io: Server): Promise<void> {
  const seen = new Map<string, Promise<Actor | null>>();
  for (const raw of io.of('/').sockets.values()) {
    const socket = raw as RealtimeSocket;
    const { credential } = socket.data;
    const key = `${credential.kind}:${credential.value}`;
    let actorP = seen.get(key);
    if (!actorP) seen.set(key, (actorP = currentActor(ctx, socket)));
    const actor = await actorP;
    if (!actor) {
      socket.disconnect(true);
      continue;
    }
    socket.data.actor = actor;
    for (const room of socket.rooms) {
      if (room === socket.id) continue;
      const target = ctx.rooms.resolve(room);
      const allowed = target
        ? await Promise.resolve()
            .then(() => target.authorize(actor, room, target.key))
            .catch(() => false)
        : false;
      if (!allowed) {
        void socket.leave(room);
        socket.emit('room:revoked', { room });
      }
    }
  }
}

function refusal(err: unknown): JoinAck {
  if (err instanceof AppError) return { ok: false, error: err.code, message: err.message };
  return { ok: false, error: 'internal_error', message: 'The server could not complete the join' };
}

function toConnectError(err: unknown, logger: AppContext['logger']): Error & { data?: unknown } {
  if (!(err instanceof AppError)) logger.error({ err }, 'socket authentication failed');
  const e: Error & { data?: unknown } = new Error(err instanceof AppError ? err.message : 'Authentication failed');
  e.data = { code: err instanceof AppError ? err.code : 'internal_error' };
  return e;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i === -1 || part.slice(0, i).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function sameOrigin(origin: string | undefined, host: string | undefined, publicUrl: string | undefined): boolean {
  // Non-browser clients send no Origin; they cannot be tricked into sending someone's cookie.
  if (!origin) return true;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return false;
  }
  if (host && originHost === host) return true;
  if (publicUrl) {
    try {
      return originHost === new URL(publicUrl).host;
    } catch {
      return false;
    }
  }
  return false;
}
