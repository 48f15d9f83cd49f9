import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCamera } from '../../cli/camera.command.ts';
import { AppError } from '../../platform/errors.ts';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { requireBinaries } from '../../test/binaries.ts';
import { describeEachDialect, REDIS_TEST_URL } from '../../test/databases.ts';
import { scaled } from '../../test/reliability.ts';
import { buildToken, loginAs, type Session } from '../../test/factories.ts';
import {
  aulaCommand,
  buildClass,
  type ClassFixture,
  dataFile,
  ledgerOfCapture,
  multipartBody,
  PEOPLE,
  type Person,
  sha256Of,
  waitForCaptures,
} from './attendance.fixtures.ts';
import { IDENTIFY_MODEL } from './capture-ledger.ts';
import { buildClassVideo, faceTile } from './synthetic-class.ts';

/**
 * The scaled deployment end to end: MariaDB, Redis, BullMQ, and `aula worker` processes doing
 * the analysis while this process serves the API. Photos and a video go through the workers; a
 * webcam frame and an IP camera's snapshots go through the API; a worker killed mid-video leaves
 * its job to the worker started after it, which finishes with the same attendance.
 */

const MAIN = path.resolve(import.meta.dirname, '../../main.ts');
const ENTRANTS: { who: Person; at: number }[] = [
  { who: 'obama', at: 0 },
  { who: 'biden', at: 9 },
  { who: 'kit_harington', at: 21 },
];
const DURATION_S = 40;

describeEachDialect(
  'attendance with BullMQ and worker processes',
  (dialect) => {
    const prefix = `aula:test:att:${randomBytes(4).toString('hex')}`;
    const children: ChildProcess[] = [];
    let t: TestApp;
    let url: string;
    let envFile: string;
    let dir: string;
    let video: Buffer;
    const settings = {
      QUEUE_PREFIX: prefix,
      QUEUE_LOCK_DURATION: '4s',
      QUEUE_STALLED_INTERVAL: '1s',
      QUEUE_BACKOFF: '1s',
      ATTENDANCE_SAMPLE_MAX_INTERVAL: '10s',
      ATTENDANCE_SCENE_THRESHOLD: '0.03',
      // Every sampled frame analysed in full: the tracking path, not the still-room shortcut.
      ATTENDANCE_STILL_DIFF: '0',
    };

    /** `aula worker` in its own process, sharing the database, blob folder and Redis. */
    const startWorker = async (): Promise<ChildProcess> => {
      const child = spawn(process.execPath, [`--env-file=${envFile}`, '--import', 'tsx', MAIN, 'worker'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      const lines: string[] = [];
      createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
      createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
      const end = Date.now() + 60_000;
      while (!lines.some((l) => l.includes('Aula worker running'))) {
        if (child.exitCode !== null || Date.now() > end) throw new Error(`worker did not start:\n${lines.join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return child;
    };

    const kill = async (child: ChildProcess) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    };

    beforeAll(async () => {
      requireBinaries('ffmpeg', 'ffprobe');
      t = await createTestApp({ dialect, redis: true, env: { ...settings, WORKERS: '1' } });
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-att-db-'));
      envFile = path.join(dir, 'worker.env');
      const env = {
        ...settings,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        SEED_DEMO: 'false',
        WORKERS: '1',
        DATA_DIR: dir,
        DATABASE_URL: t.config.databaseUrl,
        BLOB_URL: t.config.blobUrl,
        REDIS_URL: REDIS_TEST_URL,
      };
      fs.writeFileSync(
        envFile,
        Object.entries(env)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n'),
      );
      await t.ctx.vision.start();
      const entrants = [];
      for (const e of ENTRANTS) {
        entrants.push({
          identity: e.who,
          tile: await faceTile(t.ctx.vision.engine, dataFile(PEOPLE[e.who].probe), 300),
          enterAtS: e.at,
        });
      }
      await buildClassVideo(path.join(dir, 'class.mp4'), { durationS: DURATION_S, entrants });
      video = fs.readFileSync(path.join(dir, 'class.mp4'));
      await Promise.all([startWorker(), startWorker()]);
    });

    afterAll(async () => {
      await Promise.all(children.map(kill));
      await t?.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      const r = new Redis(REDIS_TEST_URL);
      const keys = await r.keys(`${prefix}:*`);
      if (keys.length) await r.del(...keys);
      r.disconnect();
    });

    const upload = (s: Session, sessionId: string, files: Parameters<typeof multipartBody>[0]) => {
      const m = multipartBody(files);
      return t.app.inject({
        method: 'POST',
        url: `/api/v1/sessions/${sessionId}/captures`,
        headers: { ...s.headers, ...m.headers },
        payload: m.payload,
      });
    };

    /** Status and first-seen offset (s after the session start) per person. */
    const outcome = async (cls: ClassFixture, s: Session) => {
      const r = await t.app.inject({ url: `/api/v1/sessions/${cls.sessionId}/attendance`, headers: s.headers });
      expect(r.statusCode, r.body).toBe(200);
      const out: Record<string, [string | null, number | null]> = {};
      for (const [who, user] of Object.entries(cls.students)) {
        const row = (r.json().items as { studentId: string; status: string | null; firstSeenAt: string | null }[]).find(
          (i) => i.studentId === user.id,
        )!;
        out[who] = [row.status, row.firstSeenAt ? (Date.parse(row.firstSeenAt) - cls.startsAt) / 1000 : null];
      }
      return out;
    };

    const people: Person[] = ['obama', 'biden', 'kit_harington', 'rose_leslie'];
    let reference: Record<string, [string | null, number | null]>;
    // Videos on worker processes sharing two cores with the rest of the suite: a bound on a hang,
    // not on speed (each wait below has its own, longer, limit).
    const VIDEO_TEST_TIMEOUT = 300_000;

    it('analyses photos and a video on the worker processes', { timeout: VIDEO_TEST_TIMEOUT }, async () => {
      const cls = await buildClass(t.ctx, { people, lateAfterMinutes: 0 });
      const teacher = await loginAs(t.app, cls.teacher);
      const photo = await upload(teacher, cls.sessionId, [
        { data: dataFile('faces/probes/kit_with_rose.jpg'), filename: 'room.jpg', type: 'image/jpeg' },
      ]);
      expect(photo.statusCode, photo.body).toBe(202);
      const vid = await upload(teacher, cls.sessionId, [{ data: video, filename: 'class.mp4', type: 'video/mp4' }]);
      expect(vid.statusCode, vid.body).toBe(202);
      const ids = [photo.json().items[0].id, vid.json().items[0].id];
      const done = await waitForCaptures(t.ctx, ids, 400_000);
      expect(
        done.map((d) => d.status),
        JSON.stringify(done),
      ).toEqual(['done', 'done']);
      const o = await outcome(cls, teacher);
      // Photo taken now (minutes after the start, late after 0): Rose is late; the video starts at the start.
      expect(o.rose_leslie[0]).toBe('late');
      expect(o.obama).toEqual(['present', 0]);
      expect(o.biden[0]).toBe('late');
      expect(o.biden[1]).toBeCloseTo(9, 0);
      expect(o.kit_harington[0]).toBe('late');
      // Kit is in the photo as well (taken minutes later); the video saw him first, 21 s in.
      expect(o.kit_harington[1]).toBeCloseTo(21, 0);

      // The worker processes wrote the ledger: the photo once, the video once per sampled frame.
      const [photoRows, videoRows] = await Promise.all(ids.map((id: string) => ledgerOfCapture(t.ctx, id)));
      expect(photoRows).toHaveLength(1);
      expect(photoRows[0]).toMatchObject({ jobId: ids[0], userId: cls.teacher.user.id, model: IDENTIFY_MODEL });
      const frames = await t.ctx.db.kysely
        .selectFrom('capture_frames')
        .select('frame_index')
        .where('capture_id', '=', ids[1])
        .execute();
      expect(videoRows.map((p) => p.parameters.capture.frame)).toEqual(
        frames.map((f) => Number(f.frame_index)).sort((a, b) => a - b),
      );
    });

    it('takes live frames from the webcam page and from an IP camera snapshot URL', { timeout: 120_000 }, async () => {
      const cls = await buildClass(t.ctx, { people });
      const teacher = await loginAs(t.app, cls.teacher);
      const m = multipartBody(
        [{ data: dataFile('faces/probes/obama_and_biden.jpg'), filename: 'f.jpg', type: 'image/jpeg' }],
        {
          source: 'webcam',
        },
      );
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/sessions/${cls.sessionId}/frames`,
        headers: { ...teacher.headers, ...m.headers },
        payload: m.payload,
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().frame.faces.map((f: { name: string | null }) => f.name)).toEqual(
        expect.arrayContaining(['Barack Obama', 'Joe Biden']),
      );

      const snapshot = dataFile('faces/probes/kit_with_rose.jpg');
      const camera = http.createServer((req, rs) => {
        if (req.url === '/snapshot.jpg') rs.writeHead(200, { 'content-type': 'image/jpeg' }).end(snapshot);
        else rs.writeHead(404).end();
      });
      await new Promise<void>((r) => camera.listen(0, '127.0.0.1', r));
      const camUrl = `http://127.0.0.1:${(camera.address() as AddressInfo).port}`;
      try {
        // `aula camera` in a process of its own, pushing two snapshots with an API token.
        const token = await buildToken(t.ctx, cls.teacher.user.id, ['attendance:capture']);
        const cli = await aulaCommand([
          'camera',
          '--session',
          cls.sessionId,
          '--url',
          `${camUrl}/snapshot.jpg`,
          '--every',
          '200ms',
          '--count',
          '2',
          '--target',
          url,
          '--token',
          token,
        ]);
        expect(cli.code, cli.stderr).toBe(0);
        const lines = cli.stdout.trim().split('\n');
        expect(lines).toHaveLength(2);
        for (const l of lines)
          expect(l).toMatch(/2 face\(s\): (Kit Harington, Rose Leslie|Rose Leslie, Kit Harington)$/);
        const frames = await t.app.inject({
          url: `/api/v1/sessions/${cls.sessionId}/captures?kind=frame`,
          headers: teacher.headers,
        });
        expect((frames.json().items as { source: string }[]).map((c) => c.source).sort(), frames.body).toEqual([
          'camera',
          'camera',
          'webcam',
        ]);
        const o = await outcome(cls, teacher);
        expect(o.kit_harington[0]).toBe('present');
        expect(o.obama[0]).toBe('present');
        // Each frame is a prediction of whoever sent it (the camera's token belongs to the teacher),
        // made from the frame as stored.
        for (const c of frames.json().items as { id: string; source: string }[]) {
          const rows = await ledgerOfCapture(t.ctx, c.id);
          expect(rows).toHaveLength(1);
          expect(rows[0]).toMatchObject({
            userId: cls.teacher.user.id,
            parameters: { capture: { kind: 'frame', source: c.source } },
          });
          expect(rows[0].inputSha256).toBe(sha256Of(await t.ctx.blobs.getBuffer(rows[0].inputBlobId!)));
        }

        // A camera that does not answer, and a camera on a session of someone else's offering.
        await expect(
          runCamera(
            {
              session: cls.sessionId,
              url: `${camUrl}/missing.jpg`,
              everyMs: 50,
              target: url,
              token,
              timeoutMs: 2000,
              maxFailures: 2,
            },
            () => {},
          ),
        ).rejects.toMatchObject({ code: 'camera_unreachable' });
        const other = await buildClass(t.ctx, { people: ['model_a'], noTemplate: ['model_a'] });
        const err = await runCamera(
          {
            session: other.sessionId,
            url: `${camUrl}/snapshot.jpg`,
            everyMs: 50,
            target: url,
            token,
            count: 1,
            timeoutMs: 2000,
            maxFailures: 1,
          },
          () => {},
        ).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).status).toBe(403);
      } finally {
        camera.close();
      }
    });

    // Repeated in the long reliability run (`npm run test:reliability`): each repeat kills the workers again.
    it(
      'finishes a video whose worker was killed mid-job, with the same attendance',
      { repeats: scaled(0, 4), timeout: VIDEO_TEST_TIMEOUT },
      async () => {
        // The reference: the same video on a class of its own, without interruption.
        const ref = await buildClass(t.ctx, { people, lateAfterMinutes: 0 });
        const refTeacher = await loginAs(t.app, ref.teacher);
        const r1 = await upload(refTeacher, ref.sessionId, [{ data: video, filename: 'class.mp4', type: 'video/mp4' }]);
        await waitForCaptures(t.ctx, [r1.json().items[0].id], 400_000);
        reference = await outcome(ref, refTeacher);

        const cls = await buildClass(t.ctx, { people, lateAfterMinutes: 0 });
        const teacher = await loginAs(t.app, cls.teacher);
        const up = await upload(teacher, cls.sessionId, [{ data: video, filename: 'class.mp4', type: 'video/mp4' }]);
        const id = up.json().items[0].id as string;
        const row = () =>
          t.ctx.db.kysely.selectFrom('captures').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        const end = Date.now() + 300_000;
        while (Number((await row()).frames_done) < 2) {
          if (Date.now() > end) throw new Error('the video never started');
          await new Promise((r) => setTimeout(r, 100));
        }
        // Every worker dies mid-video (kill -9: no cleanup, the job stays claimed)...
        await Promise.all(children.map(kill));
        const atKill = await row();
        expect(atKill.status).toBe('running');
        // ...and one started afterwards takes the job over once the dead worker's claim runs out.
        await startWorker();
        const [done] = await waitForCaptures(t.ctx, [id], 400_000);
        expect(done.status, done.error ?? '').toBe('done');
        const final = await row();
        expect(Number(final.attempts)).toBeGreaterThanOrEqual(2);
        expect(await outcome(cls, teacher)).toEqual(reference);

        // No frame or face was written twice.
        const frames = await t.ctx.db.kysely
          .selectFrom('capture_frames')
          .select('frame_index')
          .where('capture_id', '=', id)
          .execute();
        expect(new Set(frames.map((f) => f.frame_index)).size).toBe(frames.length);
        expect(frames).toHaveLength(Number(final.frames_done));
        const refFrames = await t.ctx.db.kysely
          .selectFrom('capture_frames')
          .select('frame_index')
          .where('capture_id', '=', r1.json().items[0].id)
          .execute();
        expect(frames).toHaveLength(refFrames.length);
        const rows = await t.ctx.db.kysely
          .selectFrom('attendance')
          .select('student_id')
          .where('session_id', '=', cls.sessionId)
          .execute();
        expect(rows).toHaveLength(ENTRANTS.length);

        // Nor a prediction: one ledger row per frame (every frame is analysed here), each made
        // from that frame's image, as many as without the interruption.
        const ledger = await ledgerOfCapture(t.ctx, id);
        expect(ledger.map((p) => p.parameters.capture.frame)).toEqual(frames.map((_, i) => i));
        expect(ledger).toHaveLength((await ledgerOfCapture(t.ctx, r1.json().items[0].id)).length);
        const frameBlobs = new Map(
          (
            await t.ctx.db.kysely
              .selectFrom('capture_frames')
              .select(['frame_index', 'blob_id'])
              .where('capture_id', '=', id)
              .execute()
          ).map((f) => [Number(f.frame_index), f.blob_id!]),
        );
        for (const p of ledger) {
          const blobId = frameBlobs.get(p.parameters.capture.frame)!;
          expect(p).toMatchObject({
            jobId: id,
            userId: cls.teacher.user.id,
            source: 'attendance',
            model: IDENTIFY_MODEL,
            inputBlobId: blobId,
            inputSha256: sha256Of(await t.ctx.blobs.getBuffer(blobId)),
          });
        }
        // The teacher reads the same rows through the API; the job closed with their count.
        const api = await t.app.inject({
          url: `/api/v1/predictions?model=${IDENTIFY_MODEL}&job=${id}&limit=100`,
          headers: teacher.headers,
        });
        expect(api.statusCode, api.body).toBe(200);
        expect(api.json().total).toBe(ledger.length);
        const job = await t.app.inject({ url: `/api/v1/analyses/${id}`, headers: teacher.headers });
        expect(job.json()).toMatchObject({ status: 'done', processed: ledger.length });
        // The reference class's teacher is another teacher to this capture.
        expect((await t.app.inject({ url: `/api/v1/analyses/${id}`, headers: refTeacher.headers })).statusCode).toBe(
          404,
        );
      },
    );
  },
  ['mysql'],
);
