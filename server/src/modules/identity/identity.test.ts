import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { buildToken, buildUser, loginAs, signedIn, TEST_PASSWORD } from '../../test/factories.ts';

describe('identity over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { LOGIN_RATE_LIMIT_PER_ACCOUNT: '5' } });
  });
  afterAll(async () => t.close());

  it('signs in with username or email, reports the user, and signs out', async () => {
    const built = await buildUser(t.ctx, { role: 'teacher' });
    for (const login of [built.user.username, built.user.email.toUpperCase()]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { login, password: TEST_PASSWORD },
      });
      expect(res.statusCode).toBe(200);
      const session = res.cookies.find((c) => c.name === 'aula_session')!;
      expect(session.httpOnly).toBe(true);
      expect(session.sameSite).toBe('Lax');
    }
    const s = await loginAs(t.app, built);
    const me = await t.app.inject({ url: '/api/v1/auth/me', headers: s.headers });
    expect(me.json()).toMatchObject({ username: built.user.username, role: 'teacher' });
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: s.headers });
    expect(out.statusCode).toBe(204);
    const after = await t.app.inject({ url: '/api/v1/auth/me', headers: s.headers });
    expect(after.statusCode).toBe(401);
    expect(after.headers['content-type']).toContain('application/problem+json');
  });

  it('rejects wrong passwords without saying which part was wrong, then rate limits', async () => {
    const built = await buildUser(t.ctx);
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { login: built.user.username, password: 'wrong-password' },
      });
      codes.push(res.statusCode);
      if (res.statusCode === 401) expect(res.json().code).toBe('invalid_credentials');
      if (res.statusCode === 429) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(codes.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(codes.slice(5)).toEqual([429, 429]);
  });

  it('issues a new session id on every sign-in and can sign out everywhere', async () => {
    const built = await buildUser(t.ctx);
    const a = await loginAs(t.app, built);
    const b = await loginAs(t.app, built);
    expect(a.headers.cookie).not.toEqual(b.headers.cookie);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: a.headers });
    expect(res.json()).toEqual({ sessions: 2 });
    expect((await t.app.inject({ url: '/api/v1/auth/me', headers: b.headers })).statusCode).toBe(401);
  });

  it('refuses cookie-authenticated writes without the CSRF header', async () => {
    const s = await signedIn(t.app, t.ctx, 'student');
    const res = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/me',
      headers: { cookie: s.headers.cookie },
      payload: { fullName: 'X' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('csrf_failed');
    const ok = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/me',
      headers: s.headers,
      payload: { fullName: 'New Name' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().fullName).toBe('New Name');
  });

  it('rejects unknown fields and wrong types with problem+json', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { login: 'a', password: 'b', admin: true },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', status: 400 });
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: '{"login":',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('invalid_json');
  });

  it('lets admins manage users and tokens, and only admins', async () => {
    const admin = await signedIn(t.app, t.ctx, 'admin');
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin.headers,
      payload: {
        username: 'newteacher',
        email: 'nt@example.test',
        fullName: 'New Teacher',
        role: 'teacher',
        password: 'longenough',
      },
    });
    expect(created.statusCode).toBe(201);
    const dup = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin.headers,
      payload: { username: 'newteacher', email: 'other@example.test', fullName: 'Dup', role: 'teacher' },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('username_taken');

    const list = await t.app.inject({ url: '/api/v1/users?role=teacher&q=newteach', headers: admin.headers });
    expect(list.json().items.map((u: { username: string }) => u.username)).toContain('newteacher');

    const tok = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: admin.headers,
      payload: { userId: created.json().id, name: 'camera', scopes: ['attendance:capture'] },
    });
    expect(tok.statusCode).toBe(201);
    const token = tok.json().token as string;
    const me = await t.app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } });
    expect(me.json().username).toBe('newteacher');
    await t.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${tok.json().id}`, headers: admin.headers });
    const revoked = await t.app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } });
    expect(revoked.statusCode).toBe(401);

    const audit = await t.app.inject({ url: '/api/v1/audit', headers: admin.headers });
    expect(audit.json().items.map((a: { action: string }) => a.action)).toEqual(
      expect.arrayContaining(['user.create', 'token.create', 'token.revoke']),
    );
  });

  it.each(['teacher', 'student'] as const)('forbids %s from admin routes', async (role) => {
    const s = await signedIn(t.app, t.ctx, role);
    const other = await buildUser(t.ctx);
    const calls = [
      { method: 'GET' as const, url: '/api/v1/users' },
      {
        method: 'POST' as const,
        url: '/api/v1/users',
        payload: { username: 'zz', email: 'zz@example.test', fullName: 'Z', role: 'admin' },
      },
      { method: 'PATCH' as const, url: `/api/v1/users/${other.user.id}`, payload: { role: 'admin' } },
      { method: 'DELETE' as const, url: `/api/v1/users/${other.user.id}` },
      { method: 'GET' as const, url: '/api/v1/tokens' },
      { method: 'POST' as const, url: '/api/v1/tokens', payload: { userId: s.user.id, name: 'x', scopes: ['admin'] } },
      { method: 'GET' as const, url: '/api/v1/audit' },
    ];
    for (const c of calls) {
      const res = await t.app.inject({ ...c, headers: s.headers });
      expect(res.statusCode, `${c.method} ${c.url}`).toBe(403);
    }
  });

  it('answers a multipart body cut short with a 400, not a 500', async () => {
    const s = await signedIn(t.app, t.ctx, 'student');
    const boundary = 'aulaboundary';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0 partial`;
    const res = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/me/photo',
      headers: { ...s.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: body,
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('accepts bearer tokens and refuses malformed ones', async () => {
    const u = await buildUser(t.ctx, { role: 'teacher' });
    const token = await buildToken(t.ctx, u.user.id, ['grades:write']);
    expect(
      (await t.app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } })).statusCode,
    ).toBe(200);
    expect((await t.app.inject({ url: '/api/v1/auth/me', headers: { authorization: 'Basic abc' } })).statusCode).toBe(
      401,
    );
    expect(
      (await t.app.inject({ url: '/api/v1/auth/me', headers: { authorization: 'Bearer aula_nope' } })).statusCode,
    ).toBe(401);
  });
});
