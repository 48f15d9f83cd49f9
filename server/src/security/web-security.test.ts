import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER, SESSION_COOKIE } from '../http/auth.ts';
import { routeTable } from '../http/route-table.ts';
import { DOCUMENT_CSP } from '../http/security-headers.ts';
import { SYSTEM_ACTOR } from '../modules/identity/actor.ts';
import { createMailer } from '../platform/mailer.ts';
import { createTestApp, type TestApp } from '../test/app.ts';
import { buildToken, buildUser, loginAs, TEST_PASSWORD, type BuiltUser } from '../test/factories.ts';
import { smtpListener } from '../test/smtp-listener.ts';
import { AccessWorld } from './access-fixtures.ts';
import { REQUESTS } from './access-requests.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
const ip = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;
const cookieOf = (res: { cookies: { name: string; value: string }[] }, name: string) =>
  res.cookies.find((c) => c.name === name)?.value;

/** The body of a message as text, quoted-printable undone. */
function bodyText(raw: string): string {
  const body = raw.slice(raw.indexOf('\n\n') + 2);
  if (!/quoted-printable/i.test(raw)) return body;
  return body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

const tokenInLink = (text: string) => /\/reset-password#token=([A-Za-z0-9_-]+)/.exec(text)?.[1];

describe('security headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('sends a strict CSP and the browser-hardening headers on pages', async () => {
    const res = await t.app.inject({ url: '/health/live' });
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toBe(DOCUMENT_CSP);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    });
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('sends a small fixed set on API answers, the ingest route included', async () => {
    const token = await buildToken(t.ctx, (await buildUser(t.ctx, { role: 'admin' })).user.id, ['grades:write']);
    const ingest = await t.app.inject({
      method: 'POST',
      url: '/api/v1/grades',
      headers: { authorization: `Bearer ${token}` },
      payload: { student_code: 'H1', student_name: 'H', course_code: 'HD1', semester: 1, year: 2025, score: 70 },
    });
    expect(ingest.statusCode).toBe(201);
    const problem = await t.app.inject({ url: '/api/v1/auth/me' });
    for (const res of [ingest, problem]) {
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'none'",
      );
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
  });

  it('lets the API explorer keep its own policy', async () => {
    const res = await t.app.inject({ url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).not.toBe(DOCUMENT_CSP);
    expect(String(res.headers['content-security-policy'])).toContain("object-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('sends HSTS only behind TLS: an https PUBLIC_URL, or X-Forwarded-Proto from a trusted proxy', async () => {
    const tls = await createTestApp({ env: { PUBLIC_URL: 'https://aula.example.test' } });
    const proxied = await createTestApp({ env: { TRUST_PROXY: 'true' } });
    try {
      const a = await tls.app.inject({ url: '/health/live' });
      expect(a.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      const b = await proxied.app.inject({ url: '/api/v1/auth/me', headers: { 'x-forwarded-proto': 'https' } });
      expect(b.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      const c = await proxied.app.inject({ url: '/api/v1/auth/me' });
      expect(c.headers['strict-transport-security']).toBeUndefined();
      // Without TRUST_PROXY the header is the client's word, not the proxy's.
      const d = await t.app.inject({ url: '/health/live', headers: { 'x-forwarded-proto': 'https' } });
      expect(d.headers['strict-transport-security']).toBeUndefined();
    } finally {
      await tls.close();
      await proxied.close();
    }
  });

  it('serves a web app that needs no inline script', () => {
    const files = [path.join(REPO_ROOT, 'web/index.html'), path.join(REPO_ROOT, 'web/dist/index.html')];
    const present = files.filter((f) => fs.existsSync(f));
    expect(present.length).toBeGreaterThan(0);
    for (const f of present) {
      const html = fs.readFileSync(f, 'utf8');
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
      expect(scripts.length, f).toBeGreaterThan(0);
      for (const [, attrs, body] of scripts) {
        expect(attrs, f).toMatch(/\bsrc=/);
        expect(body.trim(), f).toBe('');
      }
      expect(html, f).not.toMatch(/\son[a-z]+\s*=/i);
    }
  });
});

describe('CSRF', () => {
  let t: TestApp;
  let w: AccessWorld;
  beforeAll(async () => {
    t = await createTestApp({ env: { LOGIN_RATE_LIMIT_PER_IP: '100000' } });
    w = await new AccessWorld(t.app, t.ctx).build();
  }, 120_000);
  afterAll(() => t?.close());

  const EXEMPT = new Set([
    'POST /api/v1/auth/login',
    'POST /api/v1/auth/face-login',
    'POST /api/v1/auth/register',
    'POST /api/v1/auth/password-reset',
    'POST /api/v1/auth/password-reset/confirm',
  ]);
  const mutating = () =>
    routeTable(t.app)
      .filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method) && r.url.startsWith('/api/'))
      .map((r) => ({ method: r.method, url: r.url, key: `${r.method} ${r.url}` }));

  it('refuses every cookie-authenticated write without the CSRF header, or with a wrong one', async () => {
    const routes = mutating().filter((r) => !EXEMPT.has(r.key));
    expect(routes.length).toBeGreaterThan(50);
    const cookie = w.sessions.admin.headers.cookie;
    const wrong: string[] = [];
    for (const r of routes) {
      const req = await REQUESTS[r.key]({ w, me: 'admin', ownership: 'own' });
      for (const csrf of [undefined, 'not-the-token']) {
        const res = await t.app.inject({
          method: r.method as 'POST',
          url: req.url,
          headers: { cookie, ...(csrf ? { [CSRF_HEADER]: csrf } : {}), ...req.headers },
          ...(req.payload === undefined ? {} : { payload: req.payload }),
        });
        if (res.statusCode !== 403 || res.json<{ code: string }>().code !== 'csrf_failed') {
          wrong.push(`${r.key} (csrf ${csrf ?? 'missing'}): ${res.statusCode}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // The session survived all of that: refusing a forged request does not sign anyone out.
    expect((await t.app.inject({ url: '/api/v1/auth/me', headers: { cookie } })).statusCode).toBe(200);
  });

  it('needs no CSRF token from bearer-token clients', async () => {
    const token = await buildToken(t.ctx, w.id('admin'), ['admin']);
    const refused: string[] = [];
    for (const r of mutating()) {
      if (r.key === 'POST /api/v1/auth/logout-all' || r.key === 'POST /api/v1/me/password') continue;
      const req = await REQUESTS[r.key]({ w, me: 'admin', ownership: 'own' });
      const res = await t.app.inject({
        method: r.method as 'POST',
        url: req.url,
        headers: { authorization: `Bearer ${token}`, ...req.headers },
        ...(req.payload === undefined ? {} : { payload: req.payload }),
      });
      if (res.statusCode === 403 && res.json<{ code: string }>().code === 'csrf_failed') refused.push(r.key);
      expect(res.statusCode, `${r.key}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
    }
    expect(refused).toEqual([]);
  });

  it('exempts only the routes that sign in or act on a token in their body', () => {
    const all = new Set(mutating().map((r) => r.key));
    for (const k of EXEMPT) expect(all.has(k), k).toBe(true);
  });
});

describe('sessions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { LOGIN_RATE_LIMIT_PER_IP: '100000' } });
  });
  afterAll(() => t?.close());

  const me = (cookie: string) => t.app.inject({ url: '/api/v1/auth/me', headers: { cookie } });

  it('never keeps a session id across sign-in: a planted or earlier cookie is replaced and ended', async () => {
    const u = await buildUser(t.ctx, { role: 'student' });
    const planted = randomBytes(32).toString('base64url');
    const first = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { cookie: `${SESSION_COOKIE}=${planted}` },
      payload: { login: u.user.username, password: TEST_PASSWORD },
    });
    expect(first.statusCode).toBe(200);
    const s1 = cookieOf(first, SESSION_COOKIE)!;
    expect(s1).not.toBe(planted);
    const second = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { cookie: `${SESSION_COOKIE}=${s1}` },
      payload: { login: u.user.username, password: TEST_PASSWORD },
    });
    const s2 = cookieOf(second, SESSION_COOKIE)!;
    expect(s2).not.toBe(s1);
    expect(cookieOf(second, 'aula_csrf')).not.toBe(cookieOf(first, 'aula_csrf'));
    expect((await me(`${SESSION_COOKIE}=${s1}`)).statusCode).toBe(401);
    expect((await me(`${SESSION_COOKIE}=${s2}`)).statusCode).toBe(200);
  });

  it('rotates the session on a password change and signs every other session out', async () => {
    const u = await buildUser(t.ctx, { role: 'teacher' });
    const a = await loginAs(t.app, u);
    const b = await loginAs(t.app, u);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/me/password',
      headers: a.headers,
      payload: { currentPassword: TEST_PASSWORD, newPassword: 'a brand new password' },
    });
    expect(res.statusCode).toBe(204);
    const fresh = cookieOf(res, SESSION_COOKIE)!;
    expect(fresh).toBeTruthy();
    expect(a.headers.cookie).not.toContain(fresh);
    expect((await me(a.headers.cookie)).statusCode).toBe(401);
    expect((await me(b.headers.cookie)).statusCode).toBe(401);
    expect((await me(`${SESSION_COOKIE}=${fresh}`)).statusCode).toBe(200);
    // The new session carries a new CSRF token, and writes need it.
    const csrf = cookieOf(res, 'aula_csrf')!;
    expect(a.headers['x-csrf-token']).not.toBe(csrf);
    const write = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/me',
      headers: { cookie: `${SESSION_COOKIE}=${fresh}`, [CSRF_HEADER]: csrf },
      payload: { fullName: 'Still Me' },
    });
    expect(write.statusCode).toBe(200);
  });

  it('signs out everywhere: every session of the user ends, others are untouched, and it is audited', async () => {
    const u = await buildUser(t.ctx, { role: 'student' });
    const other = await loginAs(t.app, await buildUser(t.ctx, { role: 'student' }));
    const sessions = [await loginAs(t.app, u), await loginAs(t.app, u), await loginAs(t.app, u)];
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: sessions[0].headers });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ sessions: 3 });
    for (const s of sessions) expect((await me(s.headers.cookie)).statusCode).toBe(401);
    expect((await me(other.headers.cookie)).statusCode).toBe(200);
    const audit = await t.ctx.identity.listAudit(SYSTEM_ACTOR, {
      action: 'auth.logout_everywhere',
      targetId: u.user.id,
      limit: 5,
      offset: 0,
    });
    expect(audit.items).toHaveLength(1);
  });

  it('ends the session on sign-out, so the cookie cannot be replayed', async () => {
    const s = await loginAs(t.app, await buildUser(t.ctx, { role: 'student' }));
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: s.headers })).statusCode).toBe(
      204,
    );
    expect((await me(s.headers.cookie)).statusCode).toBe(401);
  });
});

describe.each([
  { backend: 'memory', redis: false },
  { backend: 'Redis', redis: true },
])('brute force against sign-in ($backend limiter)', ({ redis }) => {
  let t: TestApp;
  let victim: BuiltUser;
  beforeAll(async () => {
    t = await createTestApp({ redis });
    victim = await buildUser(t.ctx, { role: 'teacher' });
  });
  afterAll(() => t?.close());

  const attempt = (login: string, password: string, remoteAddress: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress, payload: { login, password } });

  it('locks an account after 10 wrong passwords, from any number of addresses, with Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 50; i++) {
      const res = await attempt(victim.user.username, `guess-${i}`, ip());
      statuses.push(res.statusCode);
      if (res.statusCode === 429) retryAfter = String(res.headers['retry-after']);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(40).fill(429));
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(Number(retryAfter)).toBeLessThanOrEqual(15 * 60);
    // Even the right password is refused while the account is locked.
    expect((await attempt(victim.user.username, TEST_PASSWORD, ip())).statusCode).toBe(429);
  });

  it('limits one address to 20 attempts across many accounts', async () => {
    const from = ip();
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++)
      statuses.push((await attempt(`nobody${i}-${randomBytes(3).toString('hex')}`, 'x', from)).statusCode);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.slice(20)).toEqual(Array(30).fill(429));
    const res = await attempt('someone', 'x', from);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 429, code: 'too_many_attempts' });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('limits face sign-in per address before any face is looked at', async () => {
    const from = ip();
    const { loginRateLimitPerIp } = t.config.faces;
    // The attempts so far, as the brute-force script would have made them.
    for (let i = 0; i < loginRateLimitPerIp; i++) {
      await t.ctx.limiter.hit(`face-login:ip:${from}`, loginRateLimitPerIp, t.config.loginRateLimit.windowMs);
    }
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/face-login',
        remoteAddress: from,
        payload: { image: `data:image/jpeg;base64,${randomBytes(64).toString('base64')}` },
      });
      statuses.push(res.statusCode);
      if (i === 0) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(statuses).toEqual(Array(30).fill(429));
  });
});

describe('password reset', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof smtpListener>>;
  beforeAll(async () => {
    smtp = await smtpListener();
    t = await createTestApp({
      env: {
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        MAIL_FROM: 'Aula <aula@example.test>',
        PUBLIC_URL: 'https://aula.example.test',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  const request = (email: string, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password-reset',
      headers,
      remoteAddress: ip(),
      payload: { email },
    });
  const confirm = (token: string, newPassword: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token, newPassword } });

  it('mails a single-use link, stores only its hash, sets the password and ends every session', async () => {
    const u = await buildUser(t.ctx, { role: 'student' });
    const session = await loginAs(t.app, u);
    const before = smtp.messages.length;
    // A Host header of the attacker's choosing must not end up in the link.
    const res = await request(u.user.email.toUpperCase(), { host: 'evil.example.test' });
    expect(res.statusCode).toBe(202);
    await t.ctx.identity.passwordResets.idle();
    expect(smtp.messages.length).toBe(before + 1);
    const raw = smtp.messages.at(-1)!;
    expect(raw).toMatch(new RegExp(`^To: .*${u.user.email}`, 'mi'));
    expect(raw).toMatch(/^From: .*aula@example\.test/im);
    const text = bodyText(raw);
    expect(text).toContain('https://aula.example.test/reset-password#token=');
    expect(text).not.toContain('evil.example.test');
    const token = tokenInLink(text)!;
    expect(token.length).toBeGreaterThanOrEqual(40);

    const rows = await t.ctx.db.kysely
      .selectFrom('password_resets')
      .selectAll()
      .where('user_id', '=', u.user.id)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0].id).toBe(createHash('sha256').update(token).digest('hex'));
    expect(rows[0].expires_at - rows[0].created_at).toBe(t.config.passwordResetTtlMs);

    expect((await confirm(token, 'my new password 1')).statusCode).toBe(204);
    expect((await t.app.inject({ url: '/api/v1/auth/me', headers: session.headers })).statusCode).toBe(401);
    expect((await loginAs(t.app, { user: u.user, password: 'my new password 1' })).user.id).toBe(u.user.id);
    await expect(loginAs(t.app, u)).rejects.toThrow(/401/);

    const again = await confirm(token, 'yet another password');
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({ code: 'invalid_reset_link' });

    const audit = await t.ctx.identity.listAudit(SYSTEM_ACTOR, {
      action: 'auth',
      targetId: u.user.id,
      limit: 10,
      offset: 0,
    });
    expect(audit.items.map((a) => a.action)).toEqual(
      expect.arrayContaining(['auth.password_reset_requested', 'auth.password_reset']),
    );
  });

  it('answers the same for unknown addresses and sends nothing', async () => {
    const u = await buildUser(t.ctx, { role: 'teacher' });
    const known = await request(u.user.email);
    await t.ctx.identity.passwordResets.idle();
    const before = smtp.messages.length;
    const unknown = await request(`nobody-${randomBytes(3).toString('hex')}@example.test`);
    const notAnEmail = await request('not an address');
    await t.ctx.identity.passwordResets.idle();
    expect(smtp.messages.length).toBe(before);
    for (const r of [unknown, notAnEmail]) {
      expect(r.statusCode).toBe(known.statusCode);
      expect(r.body).toBe(known.body);
    }
  });

  it('refuses expired links and links of a later-changed password', async () => {
    const u = await buildUser(t.ctx, { role: 'student' });
    await request(u.user.email);
    await request(u.user.email);
    await t.ctx.identity.passwordResets.idle();
    const tokens = smtp.messages.slice(-2).map((m) => tokenInLink(bodyText(m))!);
    await t.ctx.db.kysely
      .updateTable('password_resets')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', createHash('sha256').update(tokens[0]).digest('hex'))
      .execute();
    expect((await confirm(tokens[0], 'expired link pass')).statusCode).toBe(400);
    expect((await confirm(tokens[1], 'the good new pass')).statusCode).toBe(204);
    expect((await confirm(randomBytes(32).toString('base64url'), 'guessed token 1')).statusCode).toBe(400);
  });

  it('rate-limits reset requests per address, the same for every address', async () => {
    const email = `flood-${randomBytes(3).toString('hex')}@example.test`;
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await request(email)).statusCode);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(202));
    expect(statuses.slice(10)).toEqual(Array(5).fill(429));
  });

  it('writes the link to the log when no SMTP server is configured (embedded mode)', async () => {
    const lines: string[] = [];
    const logger = pino(
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const mailer = createMailer({ smtpUrl: undefined, from: 'x@example.test' }, logger);
    expect(mailer.kind).toBe('log');
    await mailer.send({
      to: 'ana@example.test',
      subject: 'Reset',
      text: 'open http://localhost:8000/reset-password#token=abc',
    });
    expect(lines.join('')).toContain('/reset-password#token=abc');
  });
});

describe('audit log', () => {
  let t: TestApp;
  let w: AccessWorld;
  beforeAll(async () => {
    t = await createTestApp({ env: { LOGIN_RATE_LIMIT_PER_IP: '100000' } });
    w = await new AccessWorld(t.app, t.ctx).build();
  }, 120_000);
  afterAll(() => t?.close());

  const get = (url: string, headers = w.sessions.admin.headers) => t.app.inject({ url, headers });

  it('records role changes, face data, grade edits, attendance overrides, password changes and signing out everywhere', async () => {
    const admin = w.sessions.admin.headers;
    const teacher = w.sessions.teacherA.headers;
    const student = await w.freshUser('student');
    expect(
      (
        await t.app.inject({
          method: 'PATCH',
          url: `/api/v1/users/${student}`,
          headers: admin,
          payload: { role: 'teacher' },
        })
      ).statusCode,
    ).toBe(200);
    const template = await w.template('studentA');
    expect(
      (
        await t.app.inject({
          method: 'DELETE',
          url: `/api/v1/users/${w.id('studentA')}/faces/${template}`,
          headers: teacher,
        })
      ).statusCode,
    ).toBe(204);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/api/v1/offerings/${w.offerings.A}/gradebook`,
          headers: teacher,
          payload: { studentCode: w.users.studentA.user.student_code, score: 91 },
        })
      ).statusCode,
    ).toBe(200);
    const scene = await w.scene('A');
    expect(
      (
        await t.app.inject({
          method: 'PATCH',
          url: `/api/v1/sessions/${scene.sessionId}/attendance/${scene.studentId}`,
          headers: teacher,
          payload: { status: 'excused', note: 'doctor' },
        })
      ).statusCode,
    ).toBe(200);
    const other = await loginAs(t.app, await buildUser(t.ctx, { role: 'student' }));
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/me/password',
      headers: other.headers,
      payload: { currentPassword: TEST_PASSWORD, newPassword: 'changed password 1' },
    });
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout-all',
      headers: (await loginAs(t.app, w.users.studentB)).headers,
    });

    const res = await get('/api/v1/audit?limit=200');
    expect(res.statusCode).toBe(200);
    const actions = res.json<{ items: { action: string }[] }>().items.map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'user.role_change',
        'face.delete',
        'grade.edit',
        'attendance.set',
        'user.password_change',
        'auth.logout_everywhere',
      ]),
    );
  });

  it('filters by action family, actor, target and time, and pages', async () => {
    const faces = (await get('/api/v1/audit?action=face')).json<{ items: { action: string }[] }>();
    expect(faces.items.length).toBeGreaterThan(0);
    expect(faces.items.every((a) => a.action.startsWith('face.'))).toBe(true);
    const byActor = (await get(`/api/v1/audit?actor=${w.id('teacherA')}`)).json<{ items: { actorId: string }[] }>();
    expect(byActor.items.length).toBeGreaterThan(0);
    expect(byActor.items.every((a) => a.actorId === w.id('teacherA'))).toBe(true);
    const byTarget = (await get(`/api/v1/audit?target=${w.id('studentA')}&targetType=user`)).json<{
      items: { targetId: string }[];
    }>();
    expect(byTarget.items.every((a) => a.targetId === w.id('studentA'))).toBe(true);
    const future = (
      await get(`/api/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)
    ).json<{
      total: number;
    }>();
    expect(future.total).toBe(0);
    const page1 = (await get('/api/v1/audit?limit=2&offset=0')).json<{ items: { id: string }[]; total: number }>();
    const page2 = (await get('/api/v1/audit?limit=2&offset=2')).json<{ items: { id: string }[] }>();
    expect(page1.total).toBeGreaterThan(3);
    expect(page1.items.map((i) => i.id)).not.toEqual(expect.arrayContaining(page2.items.map((i) => i.id)));
    expect((await get('/api/v1/audit?action=DROP%20TABLE')).statusCode).toBe(400);
  });

  it('is for admins only', async () => {
    for (const k of ['teacherA', 'studentA'] as const) {
      expect((await get('/api/v1/audit', w.sessions[k].headers)).statusCode).toBe(403);
    }
    expect((await t.app.inject({ url: '/api/v1/audit' })).statusCode).toBe(401);
  });
});
