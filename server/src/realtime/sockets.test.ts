import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../modules/identity/actor.ts';
import { AppError } from '../platform/errors.ts';
import { buildToken, buildUser, loginAs, signedIn } from '../test/factories.ts';
import { REALTIME_CHANNEL } from './sockets.ts';
import { createLiveTestApp, join, nextEvent, openSocket, record, type LiveTestApp } from './test-support.ts';

describe('Socket.IO transport', () => {
  let t: LiveTestApp;
  beforeAll(async () => {
    t = await createLiveTestApp();
    // A room family as a later module would register it: only admins, keys must be numeric.
    t.ctx.rooms.registerRoomAuthorizer('probe:', (actor, _room, key) => {
      if (!/^\d+$/.test(key)) throw new AppError('invalid_room', 400, 'probe rooms are probe:<number>');
      return actor.role === 'admin';
    });
  });
  afterAll(async () => t.close());

  it('refuses a handshake without credentials, with a bad token, or with an ended session', async () => {
    await expect(openSocket(t.url)).rejects.toMatchObject({ data: { code: 'unauthorized' } });
    await expect(openSocket(t.url, { token: 'aula_not-a-real-token' })).rejects.toMatchObject({
      data: { code: 'invalid_token' },
    });
    await expect(openSocket(t.url, { cookie: 'aula_session=forged' })).rejects.toMatchObject({
      data: { code: 'unauthorized' },
    });
  });

  it('accepts a session cookie from its own origin and refuses it from another site', async () => {
    const s = await signedIn(t.app, t.ctx, 'admin');
    const ok = await openSocket(t.url, { cookie: s.headers.cookie, origin: t.url });
    expect(ok.connected).toBe(true);
    ok.close();
    await expect(openSocket(t.url, { cookie: s.headers.cookie, origin: 'https://evil.example' })).rejects.toMatchObject(
      {
        data: { code: 'origin_refused' },
      },
    );
  });

  it('authorizes every join through the registered authorizer', async () => {
    const admin = await buildUser(t.ctx, { role: 'admin' });
    const teacher = await buildUser(t.ctx, { role: 'teacher' });
    const a = await openSocket(t.url, { token: await buildToken(t.ctx, admin.user.id, ['grades:read']) });
    const b = await openSocket(t.url, { token: await buildToken(t.ctx, teacher.user.id, ['grades:read']) });
    try {
      expect(await join(a, 'probe:42')).toEqual({ ok: true });
      expect(await join(b, 'probe:42')).toMatchObject({ ok: false, error: 'forbidden' });
      expect(await join(a, 'probe:abc')).toMatchObject({ ok: false, error: 'invalid_room' });
      expect(await join(a, 'nobody-owns-this')).toMatchObject({ ok: false, error: 'unknown_room' });
      expect(await join(a, 'bad room name!')).toMatchObject({ ok: false, error: 'invalid_room' });
      expect(await join(a, 'x'.repeat(500))).toMatchObject({ ok: false, error: 'invalid_room' });
    } finally {
      a.close();
      b.close();
    }
  });

  it('stops a signed-out session from joining and disconnects it', async () => {
    const built = await buildUser(t.ctx, { role: 'admin' });
    const s = await loginAs(t.app, built);
    const socket = await openSocket(t.url, { cookie: s.headers.cookie });
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect(await join(socket, 'probe:1')).toEqual({ ok: true });
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: s.headers });
    expect(out.statusCode).toBe(204);
    expect(await join(socket, 'probe:2')).toMatchObject({ ok: false, error: 'unauthorized' });
    expect(await gone).toBe('io server disconnect');
  });

  it('rate-limits joins per socket', async () => {
    const admin = await buildUser(t.ctx, { role: 'admin' });
    const socket = await openSocket(t.url, { token: await buildToken(t.ctx, admin.user.id, ['admin']) });
    try {
      const acks = [];
      for (let i = 0; i < 40; i++) acks.push(await join(socket, `probe:${1000 + i}`));
      expect(acks.slice(0, 25).every((a) => a.ok)).toBe(true);
      expect(acks.at(-1)).toMatchObject({ ok: false, error: 'too_many_joins' });
    } finally {
      socket.close();
    }
  });

  it('coalesces bus updates to a few emits a second per room and always delivers the last one', async () => {
    const admin = await buildUser(t.ctx, { role: 'admin' });
    const token = await buildToken(t.ctx, admin.user.id, ['admin']);
    const watcher = await openSocket(t.url, { token });
    const other = await openSocket(t.url, { token });
    try {
      expect(await join(watcher, 'probe:7')).toEqual({ ok: true });
      expect(await join(other, 'probe:8')).toEqual({ ok: true });
      const seen = record<{ n: number }>(watcher, 'progress');
      const otherSeen = record<{ n: number }>(other, 'progress');
      const last = nextEvent<{ n: number }>(watcher, 'progress', (p) => p.n === 200);
      // 200 updates spread over about one second.
      for (let n = 1; n <= 200; n++) {
        t.ctx.bus.publish(REALTIME_CHANNEL, { room: 'probe:7', event: 'progress', payload: { n } });
        if (n % 20 === 0) await new Promise((r) => setTimeout(r, 100));
      }
      await last;
      expect(seen.at(-1)!.payload.n).toBe(200);
      // Leading emit plus at most one per 250 ms window over about 1 s.
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen.length).toBeLessThanOrEqual(6);
      const ns = seen.map((s) => s.payload.n);
      expect([...ns].sort((x, y) => x - y)).toEqual(ns);
      // Another room's sockets receive none of it.
      expect(otherSeen).toHaveLength(0);
    } finally {
      watcher.close();
      other.close();
    }
  });

  it('ignores malformed bus messages', async () => {
    const admin = await buildUser(t.ctx, { role: 'admin' });
    const socket = await openSocket(t.url, { token: await buildToken(t.ctx, admin.user.id, ['admin']) });
    try {
      expect(await join(socket, 'probe:9')).toEqual({ ok: true });
      const seen = record<{ n: number }>(socket, 'progress');
      t.ctx.bus.publish(REALTIME_CHANNEL, { room: 'probe 9', event: 'progress', payload: {} });
      t.ctx.bus.publish(REALTIME_CHANNEL, 'not an object');
      t.ctx.bus.publish(REALTIME_CHANNEL, { room: 'probe:9', event: 'progress', payload: { n: 1 } });
      await nextEvent(socket, 'progress');
      expect(seen.map((s) => s.payload)).toEqual([{ n: 1 }]);
    } finally {
      socket.close();
    }
  });
});

describe('Socket.IO revalidation', () => {
  let t: LiveTestApp;
  beforeAll(async () => {
    t = await createLiveTestApp({}, { revalidateEveryMs: 200 });
    t.ctx.rooms.registerRoomAuthorizer('staff', (actor) => actor.role !== 'student');
  });
  afterAll(async () => t.close());

  it('disconnects a socket whose session ended, without waiting for its next join', async () => {
    const s = await loginAs(t.app, await buildUser(t.ctx, { role: 'teacher' }));
    const socket = await openSocket(t.url, { cookie: s.headers.cookie });
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect(await join(socket, 'staff')).toEqual({ ok: true });
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: s.headers });
    expect(await gone).toBe('io server disconnect');
  });

  it('takes a socket out of rooms its actor may no longer watch', async () => {
    const built = await buildUser(t.ctx, { role: 'teacher' });
    const s = await loginAs(t.app, built);
    const socket = await openSocket(t.url, { cookie: s.headers.cookie });
    try {
      expect(await join(socket, 'staff')).toEqual({ ok: true });
      const revoked = nextEvent<{ room: string }>(socket, 'room:revoked');
      await t.ctx.identity.updateUser(SYSTEM_ACTOR, built.user.id, { role: 'student' });
      expect(await revoked).toEqual({ room: 'staff' });
      expect(socket.connected).toBe(true);
      const seen = record(socket, 'progress');
      t.ctx.bus.publish(REALTIME_CHANNEL, { room: 'staff', event: 'progress', payload: { n: 1 } });
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toHaveLength(0);
    } finally {
      socket.close();
    }
  });
});
