import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aulaCommand as aula,
  buildClass,
  type ClassFixture,
  dataFile,
} from '../modules/attendance/attendance.fixtures.ts';
import { AppError } from '../platform/errors.ts';
import { createTestApp, type TestApp } from '../test/app.ts';
import { requireBinaries } from '../test/binaries.ts';
import { buildToken, loginAs, type Session } from '../test/factories.ts';
import { type CameraOptions, runCamera } from './camera.command.ts';

/**
 * A fixed room camera on the embedded setup (SQLite, in-process analysis): `aula camera` takes
 * stills from a camera on this machine (an HTTP snapshot URL, or an MJPEG stream read through
 * ffmpeg) and pushes them to a listening server with an API token.
 */

const SNAPSHOT = dataFile('faces/probes/kit_with_rose.jpg');
const STREAM_FRAME = dataFile('faces/probes/obama-test.jpg');

let t: TestApp;
let url: string;
let cls: ClassFixture;
let teacher: Session;
let token: string;
let camera: http.Server;
let camUrl: string;
let closedPort: number;
const hits: Record<string, number> = {};

/** A camera as found in classrooms: a snapshot URL, an MJPEG stream, and ways of failing. */
function cameraServer(): http.Server {
  return http.createServer((req, res) => {
    const route = req.url ?? '';
    hits[route] = (hits[route] ?? 0) + 1;
    if (route === '/snapshot.jpg') {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(SNAPSHOT);
    } else if (route === '/mjpeg') {
      res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=aulaframe' });
      const send = () => {
        res.write(`--aulaframe\r\nContent-Type: image/jpeg\r\nContent-Length: ${STREAM_FRAME.length}\r\n\r\n`);
        res.write(STREAM_FRAME);
        res.write('\r\n');
      };
      send();
      const timer = setInterval(send, 100);
      res.on('close', () => clearInterval(timer));
    } else if (route === '/hang') {
      // Accepts the connection and never answers.
    } else {
      res.writeHead(404).end();
    }
  });
}

const options = (o: Partial<CameraOptions>): CameraOptions => ({
  session: cls.sessionId,
  url: `${camUrl}/snapshot.jpg`,
  everyMs: 50,
  target: url,
  token,
  timeoutMs: 3000,
  maxFailures: 2,
  ...o,
});

const captureCount = async (sessionId: string) =>
  Number(
    (
      await t.ctx.db.kysely
        .selectFrom('captures')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('session_id', '=', sessionId)
        .executeTakeFirstOrThrow()
    ).n,
  );

beforeAll(async () => {
  requireBinaries('ffmpeg');
  t = await createTestApp({ env: { WORKERS: '1' } });
  await t.ctx.vision.start();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  cls = await buildClass(t.ctx, { people: ['obama', 'kit_harington', 'rose_leslie', 'biden'] });
  teacher = await loginAs(t.app, cls.teacher);
  token = await buildToken(t.ctx, cls.teacher.user.id, ['attendance:capture']);
  camera = cameraServer();
  await new Promise<void>((r) => camera.listen(0, '127.0.0.1', r));
  camUrl = `http://127.0.0.1:${(camera.address() as AddressInfo).port}`;
  // A port nothing listens on: a camera that is switched off.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
}, 120_000);

afterAll(async () => {
  camera?.closeAllConnections();
  await new Promise((r) => (camera ? camera.close(r) : r(undefined)));
  await t?.close();
});

describe('aula camera', () => {
  it('pushes snapshots with an API token: the faces are named and the roster fills in', async () => {
    const log: string[] = [];
    const sent = await runCamera(options({ count: 2 }), (l) => log.push(l));
    expect(sent).toHaveLength(2);
    for (const frame of sent) expect(frame.names.sort()).toEqual(['Kit Harington', 'Rose Leslie']);
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(/2 face\(s\): (Kit Harington|Rose Leslie), (Kit Harington|Rose Leslie)$/);

    const roster = await t.app.inject({
      url: `/api/v1/sessions/${cls.sessionId}/attendance`,
      headers: teacher.headers,
    });
    expect(roster.statusCode, roster.body).toBe(200);
    const by = new Map(
      (roster.json().items as { studentId: string; status: string | null; source: string | null }[]).map((i) => [
        i.studentId,
        i,
      ]),
    );
    expect(by.get(cls.students.kit_harington.id)).toMatchObject({ status: 'present', source: 'camera' });
    expect(by.get(cls.students.rose_leslie.id)).toMatchObject({ status: 'present', source: 'camera' });
    expect(by.get(cls.students.obama.id)).toMatchObject({ status: null });

    // Each still is a capture of its own, from the camera, analysed at once.
    const captures = await t.app.inject({
      url: `/api/v1/sessions/${cls.sessionId}/captures`,
      headers: teacher.headers,
    });
    const items = captures.json().items as { kind: string; source: string; status: string }[];
    expect(items).toHaveLength(2);
    expect(items.every((c) => c.kind === 'frame' && c.source === 'camera' && c.status === 'done')).toBe(true);
  });

  it('reads a frame of an MJPEG stream through ffmpeg', async () => {
    const sent = await runCamera(options({ url: `${camUrl}/mjpeg`, count: 1 }), () => {});
    expect(sent).toHaveLength(1);
    expect(sent[0].names).toEqual(['Barack Obama']);
    const roster = await t.app.inject({
      url: `/api/v1/sessions/${cls.sessionId}/attendance`,
      headers: teacher.headers,
    });
    const obama = roster.json().items.find((i: { studentId: string }) => i.studentId === cls.students.obama.id);
    expect(obama).toMatchObject({ status: 'present', source: 'camera' });
  });

  it('runs as the aula command, and refuses a URL it cannot read', async () => {
    const ok = await aula([
      'camera',
      '--session',
      cls.sessionId,
      '--url',
      `${camUrl}/snapshot.jpg`,
      '--every',
      '1s',
      '--count',
      '1',
      '--target',
      url,
      '--token',
      token,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/2 face\(s\): .*Kit Harington/);
    expect(ok.stdout).toContain('Rose Leslie');

    const bad = await aula(['camera', '--session', cls.sessionId, '--url', 'ftp://camera/x.jpg', '--token', token]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('must be an rtsp://, http:// or https:// URL');
  });

  it('gives up on a camera that does not answer, after the allowed failures in a row', async () => {
    const before = await captureCount(cls.sessionId);
    const cases = [
      { url: `http://127.0.0.1:${closedPort}/snapshot.jpg`, why: /does not answer/ },
      { url: `${camUrl}/hang`, why: /does not answer/ },
      { url: `${camUrl}/missing.jpg`, why: /answered 404/ },
      { url: `rtsp://127.0.0.1:${closedPort}/live`, why: /No frame from the camera/ },
    ];
    for (const c of cases) {
      const log: string[] = [];
      const err = await runCamera(options({ url: c.url, timeoutMs: 500, maxFailures: 2 }), (l) => log.push(l)).catch(
        (e: unknown) => e,
      );
      expect(err, c.url).toBeInstanceOf(AppError);
      expect(err, c.url).toMatchObject({ code: 'camera_unreachable', status: 502 });
      expect((err as AppError).message, c.url).toMatch(/^Giving up after 2 failed frames in a row/);
      expect((err as AppError).message, c.url).toMatch(c.why);
      // Retried at the next interval before giving up.
      expect(
        log.filter((l) => l.startsWith('frame skipped')),
        c.url,
      ).toHaveLength(2);
    }
    expect(hits['/hang']).toBe(2);
    expect(await captureCount(cls.sessionId)).toBe(before);
  });

  it('stops at once when the server refuses the frames', async () => {
    const refused = async (o: Partial<CameraOptions>) => {
      const n = hits['/snapshot.jpg'] ?? 0;
      const err = await runCamera(options({ maxFailures: 5, ...o }), () => {}).catch((e: unknown) => e);
      // One still taken, refused, and no retry.
      expect(hits['/snapshot.jpg']).toBe(n + 1);
      expect(err).toBeInstanceOf(AppError);
      return err as AppError;
    };

    // A token that may read attendance but not capture it.
    const readOnly = await buildToken(t.ctx, cls.teacher.user.id, ['attendance:read']);
    expect(await refused({ token: readOnly })).toMatchObject({ status: 403 });
    expect(await refused({ token: 'not-a-real-token' })).toMatchObject({ status: 401 });

    // A session of an offering the token's owner does not teach.
    const other = await buildClass(t.ctx, { people: ['biden'] });
    expect(await refused({ session: other.sessionId })).toMatchObject({ status: 403 });
    expect(await captureCount(other.sessionId)).toBe(0);

    // A closed session.
    const otherTeacher = await loginAs(t.app, other.teacher);
    const close = await t.app.inject({
      method: 'POST',
      url: `/api/v1/sessions/${other.sessionId}/attendance/close`,
      headers: otherTeacher.headers,
    });
    expect(close.statusCode, close.body).toBe(200);
    const theirs = await buildToken(t.ctx, other.teacher.user.id, ['attendance:capture']);
    expect(await refused({ session: other.sessionId, token: theirs })).toMatchObject({
      status: 409,
      code: 'session_closed',
    });
    expect(await captureCount(other.sessionId)).toBe(0);
  });
});
