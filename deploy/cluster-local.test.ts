import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import sharp from 'sharp';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, INSTANCE_NAMES, startCluster } from './local/cluster.ts';
import { runLoadCli } from '../server/src/loadgen/testing.ts';
import { buildClassVideo } from '../server/src/modules/attendance/synthetic-class.ts';
import { nextEvent } from '../server/src/realtime/test-support.ts';
import { IN_CI, isReachable, MYSQL_ADMIN_URL, REDIS_TEST_URL } from '../server/src/test/databases.ts';

/**
 * The scaled deployment on one machine (`npm run cluster:local`): two API instances behind the
 * round-robin proxy, the gRPC ingest instance and two workers, sharing MariaDB, Redis and S3
 * (s3rver). Each test crosses instances, so it passes only if no state is local to one of them.
 */

const DATA = path.resolve(import.meta.dirname, '../../shared/data');

function tcpReachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port || defaultPort), u.hostname);
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

// Locally a missing MariaDB or Redis skips the file; under CI it fails it.
const available = IN_CI || ((await isReachable('mysql')) && (await tcpReachable(REDIS_TEST_URL, 6379)));

interface Signed {
  cookie: string;
  csrf: string;
  userId: string;
}

async function signIn(url: string, login: string, password: string): Promise<Signed> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password }),
  });
  const body = (await res.json()) as { id: string };
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${JSON.stringify(body)}`);
  const pairs = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrf = pairs.find((p) => p.startsWith('aula_csrf='))?.slice('aula_csrf='.length) ?? '';
  return { cookie: pairs.join('; '), csrf, userId: body.id };
}

/** A JSON call as a signed-in browser makes it (session cookie, CSRF header on writes). */
async function call<T>(url: string, s: Signed, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}/api/v1${route}`, {
    method,
    headers: {
      cookie: s.cookie,
      'x-csrf-token': s.csrf,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

function connectSocket(url: string, cookie: string, transports: ('websocket' | 'polling')[]): Promise<Socket> {
  const socket = io(url, {
    path: '/socket.io',
    transports,
    reconnection: false,
    forceNew: true,
    extraHeaders: { cookie },
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

async function joinRoom(socket: Socket, room: string): Promise<void> {
  const ack = (await socket.timeout(10_000).emitWithAck('join', room)) as { ok: boolean; message?: string };
  if (!ack.ok) throw new Error(`join ${room} refused: ${ack.message}`);
}

/** `aula_grades_ingested_total{source="rest",outcome="accepted"}` of one API instance. */
async function restAccepted(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => /^aula_grades_ingested_total\{.*source="rest".*outcome="accepted"/.test(l));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const grade = (course: string, key: string, i: number) => ({
  student_code: `C${i % 50}`,
  student_name: 'Cluster Student',
  course_code: course,
  semester: 1,
  year: 2025,
  score: (i * 7) % 101,
  idempotency_key: key,
});

describe.skipIf(!available)('local cluster: two API instances, gRPC ingest and two workers', () => {
  const id = randomBytes(4).toString('hex');
  let cluster: Cluster;
  let admin: Signed;
  let token: string;
  let video: Buffer;
  let workDir: string;

  /** A failure message with the last lines of every instance. */
  const fail = (what: string) =>
    `${what}\n${INSTANCE_NAMES.map((n) => `--- ${n} ---\n${cluster.output(n).split('\n').slice(-15).join('\n')}`).join('\n')}`;

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-cluster-test-'));
    const makeVideo = async () => {
      // One person sits down two seconds in; small and short, so a worker gets through it in seconds.
      const photo = fs.readFileSync(path.join(DATA, 'faces/probes/obama-test.jpg'));
      const tile = await sharp(photo).rotate().resize(300, 300, { fit: 'cover' }).jpeg().toBuffer();
      const file = path.join(workDir, 'class.mp4');
      await buildClassVideo(file, {
        durationS: 12,
        width: 640,
        height: 360,
        entrants: [{ identity: 'obama', tile, enterAtS: 2 }],
      });
      return fs.readFileSync(file);
    };
    // Both at once; a cluster that started is kept for afterAll even if the video failed.
    const results = await Promise.allSettled([
      startCluster({
        databaseUrl: MYSQL_ADMIN_URL,
        databaseName: `aula_cluster_t_${id}`,
        throwaway: true,
        redisUrl: REDIS_TEST_URL,
        keyPrefix: `aula:cluster:${id}:`,
        proxyPort: 0,
        adminPassword: 'cluster-admin-Passw0rd',
        env: {
          // Every request of this file comes from 127.0.0.1.
          LOGIN_RATE_LIMIT_PER_IP: '1000',
          ATTENDANCE_SAMPLE_MAX_INTERVAL: '2s',
          ATTENDANCE_SAMPLE_MIN_INTERVAL: '1s',
        },
      }).then((c) => (cluster = c)),
      makeVideo().then((v) => (video = v)),
    ]);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    admin = await signIn(cluster.apiUrls['api-a'], 'admin', cluster.adminPassword);
    const created = await call<{ token: string }>(cluster.proxyUrl, admin, 'POST', '/tokens', {
      userId: admin.userId,
      name: `cluster-${id}`,
      scopes: ['grades:write', 'grades:read'],
    });
    token = created.token;
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('recognizes a session started on instance A on instance B and through the proxy', async () => {
    const me = await fetch(`${cluster.apiUrls['api-b']}/api/v1/auth/me`, { headers: { cookie: admin.cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: admin.userId, username: 'admin' });

    const forged = await fetch(`${cluster.apiUrls['api-b']}/api/v1/auth/me`, {
      headers: { cookie: 'aula_session=not-a-session' },
    });
    expect(forged.status).toBe(401);

    const before = cluster.proxyStats().routed;
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${cluster.proxyUrl}/api/v1/auth/me`, { headers: { cookie: admin.cookie } });
      expect(r.status).toBe(200);
    }
    const after = cluster.proxyStats().routed;
    expect(after['api-a'] - before['api-a']).toBe(2);
    expect(after['api-b'] - before['api-b']).toBe(2);
  });

  it('pushes grades posted through A to a socket on B and to a long-polling socket through the proxy', async () => {
    const course = `CL${id.toUpperCase()}`;
    const room = `grades:${course}:2025-1`;
    const [onB, viaProxy] = await Promise.all([
      connectSocket(cluster.apiUrls['api-b'], admin.cookie, ['websocket']),
      // Polling is a request per message: it works only if the proxy keeps them on one instance.
      connectSocket(cluster.proxyUrl, admin.cookie, ['polling']),
    ]);
    try {
      await Promise.all([joinRoom(onB, room), joinRoom(viaProxy, room)]);
      const full = (g: { records: number }) => g.records === 12;
      const seen = Promise.all([
        nextEvent(onB, 'grades:group', full, 15_000),
        nextEvent(viaProxy, 'grades:group', full, 15_000),
      ]);
      const grades = Array.from({ length: 12 }, (_, i) => grade(course, `${course}-${i}`, i));
      const ack = await call<{ accepted: number }>(cluster.apiUrls['api-a'], admin, 'POST', '/grades', grades);
      expect(ack.accepted).toBe(12);
      const [b, p] = await seen;
      expect(b).toMatchObject({ course, year: 2025, semester: 1, records: 12, students: 12 });
      expect(p).toMatchObject({ course, records: 12 });
      expect(cluster.proxyStats().stickySessions).toBeGreaterThan(0);
    } finally {
      onB.close();
      viaProxy.close();
    }
  });

  it('analyses a video uploaded through B on a worker and shows its progress on A', async () => {
    const year = new Date().getFullYear();
    const semester = await call<{ id: string }>(cluster.proxyUrl, admin, 'POST', '/semesters', {
      year,
      term: 1,
      startsOn: `${year - 1}-01-01`,
      endsOn: `${year + 1}-12-31`,
    });
    const course = await call<{ id: string }>(cluster.proxyUrl, admin, 'POST', '/courses', {
      code: `CV${id}`,
      name: 'Cluster video',
    });
    const offering = await call<{ id: string }>(cluster.proxyUrl, admin, 'POST', '/offerings', {
      courseId: course.id,
      semesterId: semester.id,
    });
    const startsAt = Date.now() - 10 * 60_000;
    const session = await call<{ id: string }>(cluster.proxyUrl, admin, 'POST', `/offerings/${offering.id}/sessions`, {
      startsAt: new Date(startsAt).toISOString(),
      endsAt: new Date(startsAt + 90 * 60_000).toISOString(),
    });

    type CaptureOut = { id: string; status: string; progress: number; framesDone: number };
    const onA = await connectSocket(cluster.apiUrls['api-a'], admin.cookie, ['websocket']);
    try {
      // The session room hears every status and progress change of its videos, from whichever worker.
      await joinRoom(onA, `session:${session.id}`);
      const updates: CaptureOut[] = [];
      onA.on('captures', (p: { items: CaptureOut[] }) => updates.push(...p.items));

      const form = new FormData();
      form.append('file', new Blob([video], { type: 'video/mp4' }), 'class.mp4');
      const res = await fetch(`${cluster.apiUrls['api-b']}/api/v1/sessions/${session.id}/captures`, {
        method: 'POST',
        headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
        body: form,
      });
      const body = (await res.json()) as { items: CaptureOut[] };
      expect(res.status, JSON.stringify(body)).toBe(202);
      const capture = body.items[0];
      expect(capture.status).toBe('queued');

      const done = await nextEvent<{ items: CaptureOut[] }>(
        onA,
        'captures',
        (p) => p.items.some((c) => c.id === capture.id && (c.status === 'done' || c.status === 'failed')),
        90_000,
      ).catch((err: Error) => {
        throw new Error(fail(`${err.message}; updates: ${JSON.stringify(updates)}`));
      });
      expect(done.items.find((c) => c.id === capture.id)).toMatchObject({ status: 'done', progress: 100 });
      // Progress came while the worker was at it, not only when it finished.
      const running = updates.filter((c) => c.id === capture.id && c.status === 'running' && c.framesDone > 0);
      expect(running.length, JSON.stringify(updates)).toBeGreaterThan(0);

      // Written by the worker, read through either instance.
      const info = await call<CaptureOut & { durationMs: number }>(
        cluster.apiUrls['api-a'],
        admin,
        'GET',
        `/captures/${capture.id}`,
      );
      expect(info).toMatchObject({ status: 'done', progress: 100, durationMs: 12_000 });
    } finally {
      onA.close();
    }
  }, 120_000);

  it('reaches both ingest routes with the load generator in split mode', async () => {
    const restBefore = await Promise.all([
      restAccepted(cluster.apiUrls['api-a']),
      restAccepted(cluster.apiUrls['api-b']),
    ]);
    const grpcBefore = await countGrades(cluster.databaseUrl, 'grpc');
    const run = await runLoadCli(
      [
        '--target',
        cluster.proxyUrl,
        '--grpc',
        cluster.grpcAddress,
        '--token',
        token,
        '--mode',
        'split',
        '--split',
        '50',
        '--users',
        '8',
        '--requests',
        '400',
        '--seed',
        '7',
        '--idempotency',
        '--quiet',
      ],
      { report: true, timeoutMs: 60_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.report).toMatchObject({
      requests: 400,
      ok: 400,
      errors: 0,
      grades: 400,
      split: { rest: 200, grpc: 200 },
    });

    const restAfter = await Promise.all([
      restAccepted(cluster.apiUrls['api-a']),
      restAccepted(cluster.apiUrls['api-b']),
    ]);
    // Both API instances took a share of the REST half, and together exactly that half.
    expect(restAfter[0]).toBeGreaterThan(restBefore[0]);
    expect(restAfter[1]).toBeGreaterThan(restBefore[1]);
    expect(restAfter[0] + restAfter[1] - restBefore[0] - restBefore[1]).toBe(200);
    // The gRPC half was committed by the ingest instance.
    expect((await countGrades(cluster.databaseUrl, 'grpc')) - grpcBefore).toBe(200);
  }, 90_000);

  it('loses no acknowledged grade when an API instance is killed mid-load', async () => {
    const acked: string[] = [];
    const sent: string[] = [];
    const failures: Record<string, number> = {};
    let stop = false;
    const client = async (w: number) => {
      for (let seq = 0; !stop; seq++) {
        const batch = Array.from({ length: 5 }, (_, i) => grade(`KL${id}`, `kill-${id}-${w}-${seq}-${i}`, seq * 5 + i));
        sent.push(...batch.map((g) => g.idempotency_key));
        try {
          const res = await fetch(`${cluster.proxyUrl}/api/v1/grades`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(batch),
          });
          const body = (await res.json()) as { accepted: number; duplicates: number };
          if (res.status === 201 && body.accepted + body.duplicates === batch.length) {
            acked.push(...batch.map((g) => g.idempotency_key));
          } else {
            failures[`http_${res.status}`] = (failures[`http_${res.status}`] ?? 0) + 1;
          }
        } catch (err) {
          const kind = (err as { cause?: { code?: string } }).cause?.code ?? 'network';
          failures[kind] = (failures[kind] ?? 0) + 1;
        }
      }
    };
    const until = async (n: number, timeoutMs: number) => {
      const end = Date.now() + timeoutMs;
      while (acked.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    };

    const clients = Promise.all(Array.from({ length: 8 }, (_, w) => client(w)));
    await until(400, 20_000);
    await cluster.kill('api-a');
    const atKill = acked.length;
    await until(atKill + 400, 20_000);
    stop = true;
    await clients;
    const stats = cluster.proxyStats();

    // The surviving instance carried the load on.
    expect(acked.length - atKill, fail(JSON.stringify({ failures, stats }))).toBeGreaterThanOrEqual(400);

    const found = await keyCounts(cluster.databaseUrl, sent);
    const missing = acked.filter((k) => found.get(k) !== 1);
    expect(missing, `${missing.length} of ${acked.length} acknowledged keys not in SQL exactly once`).toEqual([]);
    // Requests cut off by the kill were reported to the client as failures (502 or a reset),
    // never replayed: no key is in SQL twice.
    expect([...found.values()].filter((n) => n > 1)).toEqual([]);

    // The instance comes back on its address and the proxy sends it traffic again.
    await cluster.restart('api-a');
    const before = cluster.proxyStats().routed['api-a'];
    for (let i = 0; i < 4; i++) expect((await fetch(`${cluster.proxyUrl}/health/live`)).status).toBe(200);
    expect(cluster.proxyStats().routed['api-a']).toBeGreaterThan(before);
  }, 120_000);
});

/** Rows of grade_records that came in over one transport. */
async function countGrades(databaseUrl: string, source: 'rest' | 'grpc'): Promise<number> {
  const c = await mysql.createConnection({ uri: databaseUrl });
  try {
    const [rows] = await c.query('select count(*) as n from grade_records where source = ?', [source]);
    return Number((rows as { n: number }[])[0].n);
  } finally {
    await c.end();
  }
}

/** How many rows each idempotency key has in grade_records. */
async function keyCounts(databaseUrl: string, keys: string[]): Promise<Map<string, number>> {
  const c = await mysql.createConnection({ uri: databaseUrl });
  try {
    const found = new Map<string, number>();
    for (let i = 0; i < keys.length; i += 1000) {
      const [rows] = await c.query(
        'select idempotency_key as k, count(*) as n from grade_records where idempotency_key in (?) group by idempotency_key',
        [keys.slice(i, i + 1000)],
      );
      for (const r of rows as { k: string; n: number }[]) found.set(r.k, Number(r.n));
    }
    return found;
  } finally {
    await c.end();
  }
}
