import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipartBody } from '../modules/attendance/attendance.fixtures.ts';
import { createTestDatabase } from '../test/databases.ts';
import { smtpListener, type SmtpListener } from '../test/smtp-listener.ts';
import { startPrivateRedis, type PrivateService } from './private-services.ts';
import { freePort, ROOT, sleep, startRole, type RoleEnv, type RoleProcess } from './processes.ts';

/**
 * No secret reaches the logs. Real server processes log at `trace` (the most verbose level) with
 * every secret-bearing setting filled in, a full flow runs through them (password and face
 * sign-in, API tokens over REST and Socket.IO, password change and reset, uploads to S3, a
 * background job on a worker), and the captured stdout and stderr are searched for every secret
 * value in the forms it could be written in.
 */

const DATA = path.join(ROOT, '../shared/data');
const photo = (rel: string) => fs.readFileSync(path.join(DATA, rel));

/** Characters that URL and form encoding change, so every encoded form differs from the raw one. */
const secret = (label: string) => `${label}+/ &=${randomBytes(12).toString('hex')}`;

/** A secret value in each form a log line could hold it. */
function forms(value: string): string[] {
  const all = [
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    Buffer.from(value).toString('base64'),
    JSON.stringify(value).slice(1, -1),
  ];
  return [...new Set(all)];
}

/** Which secrets (by label) appear in the lines, with the first line that holds each. */
function leaks(lines: string[], secrets: Map<string, string>): string[] {
  const text = lines.join('\n');
  const found: string[] = [];
  for (const [label, value] of secrets) {
    for (const f of forms(value)) {
      const at = text.indexOf(f);
      if (at === -1) continue;
      const line = lines.find((l) => l.includes(f)) ?? text.slice(Math.max(0, at - 200), at + 200);
      found.push(`${label}: ${line.slice(0, 600)}`);
      break;
    }
  }
  return found;
}

/** A browser-like HTTP client: keeps cookies and sends the CSRF token on writes. */
class Client {
  readonly cookies = new Map<string, string>();
  csrf: string | undefined;
  bearer: string | undefined;

  constructor(private readonly base: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async send(
    method: string,
    url: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; json: () => any; text: string }> {
    const headers: Record<string, string> = { ...extra };
    let payload: string | Buffer | undefined;
    if (Buffer.isBuffer(body)) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    else {
      if (this.cookies.size) headers.cookie = this.cookieHeader();
      // As the web app does: the CSRF token is read from its cookie, which rotates with the session.
      const csrf = this.cookies.get('aula_csrf') ?? this.csrf;
      if (csrf && method !== 'GET') headers['x-csrf-token'] = decodeURIComponent(csrf);
    }
    const res = await fetch(`${this.base}${url}`, { method, headers, body: payload });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) };
  }

  async login(login: string, password: string): Promise<any> {
    const r = await this.send('POST', '/api/v1/auth/login', { login, password });
    expect(r.status, r.text).toBe(200);
    this.csrf = r.json().csrfToken;
    return r.json();
  }
}

/** The values of the session and CSRF cookies a client holds now. */
const sessionSecrets = (c: Client, label: string, into: Map<string, string>) => {
  for (const [name, value] of c.cookies) into.set(`${label} cookie ${name}`, decodeURIComponent(value));
  if (c.csrf) into.set(`${label} CSRF token`, c.csrf);
};

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const RESET_LINK = /\/reset-password#token=([A-Za-z0-9_-]+)/;

describe('secrets in the logs of a scaled deployment (S3, Redis, PostgreSQL, SMTP)', () => {
  const secrets = new Map<string, string>();
  let dir: string;
  let s3: S3rver;
  let redis: PrivateService;
  let smtp: SmtpListener;
  let dropDb: () => Promise<void>;
  let api: RoleProcess;
  let worker: RoleProcess;
  let base: string;
  let lines: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-secrets-'));
    for (const label of ['admin password', 'SMTP password', 'Redis password']) {
      secrets.set(label, secret(label.split(' ')[0]));
    }
    // Shaped as AWS issues them: the key id is what the signature's Credential field carries.
    secrets.set('S3 access key', `AKIA${randomBytes(8).toString('hex').toUpperCase()}`);
    secrets.set('S3 secret key', `${randomBytes(15).toString('base64')}+/${randomBytes(12).toString('base64')}`);
    secrets.set('PostgreSQL password', secret('pg'));
    secrets.set('SESSION_SECRET', `${secret('session')}${randomBytes(16).toString('hex')}`);

    // s3rver verifies request signatures: register the key pair, so the secret key is really used.
    const { DUMMY_ACCOUNT } = createRequire(import.meta.url)('s3rver/lib/models/account.js') as {
      DUMMY_ACCOUNT: { createKeyPair(id: string, key: string): void };
    };
    DUMMY_ACCOUNT.createKeyPair(secrets.get('S3 access key')!, secrets.get('S3 secret key')!);
    fs.mkdirSync(path.join(dir, 's3'));
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(dir, 's3') });
    const s3Port = (await s3.run()).port;
    redis = await startPrivateRedis({ password: secrets.get('Redis password') });
    smtp = await smtpListener();
    const db = await createTestDatabase('postgres');
    dropDb = db.drop;
    const dbUrl = new URL(db.url);
    // The shared PostgreSQL trusts local clients, so any password works; it still rides in the URL.
    dbUrl.password = encodeURIComponent(secrets.get('PostgreSQL password')!);

    const e = (label: string) => encodeURIComponent(secrets.get(label)!);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env: RoleEnv = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'trace',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: base,
      DATA_DIR: dir,
      DATABASE_URL: dbUrl.toString(),
      BLOB_URL:
        `s3://aula-secrets?endpoint=http://127.0.0.1:${s3Port}&forcePathStyle=true&region=us-east-1` +
        `&accessKeyId=${e('S3 access key')}&secretAccessKey=${e('S3 secret key')}&create=true`,
      REDIS_URL: redis.url,
      SMTP_URL: `smtp://aula-mailer:${e('SMTP password')}@127.0.0.1:${smtp.port}`,
      MAIL_FROM: 'Aula <aula@example.test>',
      SESSION_SECRET: secrets.get('SESSION_SECRET')!,
      AULA_ADMIN_PASSWORD: secrets.get('admin password')!,
      SEED_DEMO: 'false',
      WORKERS: '1',
      MEDIA_AUTO_OCR: 'false',
      WEB_DIST: path.join(dir, 'no-web'),
    };
    // The api migrates and creates the admin; the worker starts on the migrated database.
    api = await startRole('api', env, 180_000);
    worker = await startRole('worker', env, 180_000);
  }, 300_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await new Promise<void>((r) => (s3 ? s3.close(() => r()) : r()));
    await redis?.destroy();
    await smtp?.close();
    await dropDb?.();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs no password, token, cookie, CSRF token, reset link or credential of a full flow', async () => {
    // Face sign-in needs the vision models: wait until the api reports ready.
    let ready = '';
    await until(
      'readiness',
      async () => {
        const r = await fetch(`${base}/health/ready`);
        ready = await r.text();
        return r.ok ? true : undefined;
      },
      240_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${ready}`);
    });

    const admin = new Client(base);
    const wrong = secret('wrong');
    secrets.set('wrong password', wrong);
    expect((await admin.send('POST', '/api/v1/auth/login', { login: 'admin', password: wrong })).status).toBe(401);
    await admin.login('admin', secrets.get('admin password')!);
    sessionSecrets(admin, 'admin', secrets);

    // An account with a password chosen by the admin, changed by its owner, then reset by mail.
    const initial = secret('initial');
    const changed = secret('changed');
    const reset = secret('reset');
    secrets.set('initial password', initial);
    secrets.set('changed password', changed);
    secrets.set('reset password', reset);
    const email = `secrets-${randomBytes(4).toString('hex')}@example.test`;
    const created = await admin.send('POST', '/api/v1/users', {
      username: `secrets${randomBytes(3).toString('hex')}`,
      email,
      fullName: 'Ana Secret',
      role: 'teacher',
      password: initial,
    });
    expect(created.status, created.text).toBe(201);
    const userId: string = created.json().id;
    const username: string = created.json().username;

    // API tokens: created, used over REST and Socket.IO; a wrong one refused.
    const tok = await admin.send('POST', '/api/v1/tokens', {
      userId: await myId(admin),
      name: 'ci',
      scopes: ['admin'],
    });
    expect(tok.status, tok.text).toBe(201);
    const apiToken: string = tok.json().token;
    secrets.set('API token', apiToken);
    const machine = new Client(base);
    machine.bearer = apiToken;
    expect((await machine.send('GET', '/api/v1/users?limit=5')).status).toBe(200);
    const tm = multipartBody([{ data: photo('scenes/three_people.jpg'), filename: 'ingest.jpg', type: 'image/jpeg' }]);
    const byToken = await machine.send('POST', '/api/v1/images', tm.payload, tm.headers);
    expect(byToken.status, byToken.text).toBe(201);
    const forged = `${apiToken.slice(0, -4)}AAAA`;
    secrets.set('forged API token', forged);
    machine.bearer = forged;
    expect((await machine.send('GET', '/api/v1/users?limit=5')).status).toBe(401);
    await socketJoin(base, { auth: { token: apiToken } });
    await socketJoin(base, { extraHeaders: { cookie: admin.cookieHeader() } });

    const user = new Client(base);
    await user.login(username, initial);
    sessionSecrets(user, 'first user session', secrets);
    const pw = await user.send('POST', '/api/v1/me/password', { currentPassword: initial, newPassword: changed });
    expect(pw.status, pw.text).toBeLessThan(300);
    sessionSecrets(user, 'user session after password change', secrets);

    // Face data and face sign-in (multipart uploads stored in S3).
    for (const f of ['faces/gallery/obama/1.jpg', 'faces/gallery/obama/2.jpg']) {
      const m = multipartBody([{ data: photo(f), filename: 'me.jpg', type: 'image/jpeg' }]);
      const r = await user.send('POST', `/api/v1/users/${userId}/faces`, m.payload, m.headers);
      expect(r.status, r.text).toBe(201);
    }
    expect((await user.send('PATCH', '/api/v1/me', { faceLoginConsent: true })).status).toBe(200);
    const face = new Client(base);
    const fm = multipartBody([{ data: photo('faces/probes/obama-test.jpg'), filename: 'cam.jpg', type: 'image/jpeg' }]);
    const fr = await face.send('POST', '/api/v1/auth/face-login', fm.payload, fm.headers);
    expect(fr.status, fr.text).toBe(200);
    face.csrf = fr.json().csrfToken;
    sessionSecrets(face, 'face sign-in session', secrets);

    // An album photo: stored in S3, labelled by the worker through the Redis queue.
    const pm = multipartBody([{ data: photo('scenes/with_computer.jpg'), filename: 'desk.jpg', type: 'image/jpeg' }]);
    const up = await face.send('POST', '/api/v1/images', pm.payload, pm.headers);
    expect(up.status, up.text).toBe(201);
    const imageId: string = up.json().items[0].id;
    const status = await until('the photo to be processed', async () => {
      const s = (await face.send('GET', `/api/v1/images/${imageId}`)).json().status as string;
      return s === 'done' || s === 'failed' ? s : undefined;
    });
    expect(status).toBe('done');

    // Password reset by mail through the SMTP server, with its password.
    const before = smtp.messages.length;
    expect((await new Client(base).send('POST', '/api/v1/auth/password-reset', { email })).status).toBe(202);
    const mail = await until('the reset mail', () => smtp.messages[before], 30_000);
    const token = RESET_LINK.exec(mail.replace(/=\r?\n/g, '').replace(/=3D/g, '='))?.[1];
    expect(token).toBeTruthy();
    secrets.set('password reset token', token!);
    expect(smtp.logins.at(-1)).toEqual({ user: 'aula-mailer', pass: secrets.get('SMTP password') });
    const confirm = await new Client(base).send('POST', '/api/v1/auth/password-reset/confirm', {
      token,
      newPassword: reset,
    });
    expect(confirm.status, confirm.text).toBe(204);
    const after = new Client(base);
    await after.login(username, reset);
    sessionSecrets(after, 'session after reset', secrets);
    expect((await after.send('POST', '/api/v1/auth/logout')).status).toBeLessThan(300);
    expect((await admin.send('POST', '/api/v1/auth/logout-all')).status).toBeLessThan(300);

    // A clean stop flushes everything both processes would write.
    expect(await api.stop()).toBe(0);
    expect(await worker.stop()).toBe(0);
    lines = [...api.lines, ...worker.lines];

    // The log is the verbose one: every request is in it, the worker ran the job.
    expect(lines.some((l) => l.includes('"level":10'))).toBe(true);
    for (const url of ['/api/v1/auth/login', '/api/v1/auth/face-login', '/api/v1/auth/password-reset/confirm']) {
      expect(
        lines.some((l) => l.includes(`"url":"${url}"`)),
        url,
      ).toBe(true);
    }
    expect(worker.lines.length).toBeGreaterThan(1);
    expect(lines.some((l) => RESET_LINK.test(l))).toBe(false);
    expect(leaks(lines, secrets)).toEqual([]);
  }, 600_000);
});

describe('secrets in the logs of the embedded mode (no SMTP: the reset link is logged by design)', () => {
  const secrets = new Map<string, string>();
  let dir: string;
  let api: RoleProcess;
  let base: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-secrets-'));
    secrets.set('admin password', secret('admin'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = await startRole(
      'api',
      {
        LOG_LEVEL: 'trace',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dir,
        AULA_ADMIN_PASSWORD: secrets.get('admin password')!,
        SEED_DEMO: 'false',
        WORKERS: '1',
        MEDIA_AUTO_OCR: 'false',
        WEB_DIST: path.join(dir, 'no-web'),
      },
      180_000,
    );
  }, 300_000);

  afterAll(async () => {
    await api?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the reset link to the log once, in the mail line, and nothing else secret', async () => {
    const admin = new Client(base);
    await admin.login('admin', secrets.get('admin password')!);
    sessionSecrets(admin, 'admin', secrets);
    const initial = secret('initial');
    const reset = secret('reset');
    secrets.set('initial password', initial);
    secrets.set('reset password', reset);
    const email = `embedded-${randomBytes(4).toString('hex')}@example.test`;
    const created = await admin.send('POST', '/api/v1/users', {
      username: `embedded${randomBytes(3).toString('hex')}`,
      email,
      fullName: 'Ana Embedded',
      role: 'student',
      password: initial,
    });
    expect(created.status, created.text).toBe(201);

    expect((await new Client(base).send('POST', '/api/v1/auth/password-reset', { email })).status).toBe(202);
    const line = await until('the reset link in the log', () => api.lines.find((l) => RESET_LINK.test(l)), 30_000);
    expect(JSON.parse(line)).toMatchObject({ msg: 'mail not sent (no SMTP_URL)', mail: { to: email } });
    const token = RESET_LINK.exec(line)![1];
    const confirm = await new Client(base).send('POST', '/api/v1/auth/password-reset/confirm', {
      token,
      newPassword: reset,
    });
    expect(confirm.status, confirm.text).toBe(204);
    const user = new Client(base);
    await user.login(created.json().username, reset);
    sessionSecrets(user, 'user', secrets);

    expect(await api.stop()).toBe(0);
    // The link is in that one line and nowhere else (not in the confirm request's log lines).
    expect(api.lines.filter((l) => l.includes(token))).toEqual([line]);
    expect(leaks(api.lines, secrets)).toEqual([]);
  }, 600_000);
});

async function myId(c: Client): Promise<string> {
  const r = await c.send('GET', '/api/v1/auth/me');
  expect(r.status).toBe(200);
  return r.json().id;
}

/** A Socket.IO connection that authenticates and joins the staff grade room, then leaves. */
async function socketJoin(base: string, opts: { auth?: { token: string }; extraHeaders?: Record<string, string> }) {
  const socket = io(base, { transports: ['websocket'], reconnection: false, ...opts });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const ack = await socket.timeout(10_000).emitWithAck('join', 'grades');
    expect(ack).toMatchObject({ ok: true });
  } finally {
    socket.disconnect();
  }
}
