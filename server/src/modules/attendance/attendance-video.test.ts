import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueWorker } from '../../platform/queue/index.ts';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { requireBinaries } from '../../test/binaries.ts';
import { loginAs, type Session } from '../../test/factories.ts';
import {
  buildClass,
  type ClassFixture,
  dataFile,
  ledgerOfCapture,
  multipartBody,
  PEOPLE,
  sha256Of,
  waitForCaptures,
} from './attendance.fixtures.ts';
import { IDENTIFY_MODEL } from './capture-ledger.ts';
import { buildClassVideo, faceTile, type Seat } from './synthetic-class.ts';

/**
 * A synthetic class video: people sit down at known times (one of them after the late
 * threshold, one a stranger), one enrolled student never comes. Sampled at most 10 s apart, and
 * within about a second of a scene change.
 */
const ENTRANTS = [
  { who: 'obama', at: 0 },
  { who: 'biden', at: 12 },
  { who: 'kit_harington', at: 31 },
  { who: 'stranger', at: 44 },
  { who: 'rose_leslie', at: 75 },
] as const;
const DURATION_S = 95;
const MAX_INTERVAL_MS = 10_000;

let t: TestApp;
let workers: QueueWorker;
let cls: ClassFixture;
let teacher: Session;
let dir: string;
let video: Buffer;
let seats: Seat[];

beforeAll(async () => {
  requireBinaries('ffmpeg', 'ffprobe');
  t = await createTestApp({
    env: {
      WORKERS: '2',
      ATTENDANCE_SAMPLE_MAX_INTERVAL: '10s',
      ATTENDANCE_SAMPLE_MIN_INTERVAL: '1s',
      ATTENDANCE_SCENE_THRESHOLD: '0.03',
    },
  });
  await t.ctx.vision.start();
  workers = await t.ctx.attendance.startWorkers();
  // Late after 1 minute: Rose (at 75 s) is late, everyone before her is present.
  cls = await buildClass(t.ctx, {
    people: ['obama', 'biden', 'kit_harington', 'rose_leslie', 'alex_lacamoire'],
    lateAfterMinutes: 1,
    startsAt: Date.now() - 30 * 60_000,
  });
  teacher = await loginAs(t.app, cls.teacher);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-video-test-'));
  const entrants = [];
  for (const e of ENTRANTS) {
    const photo =
      e.who === 'stranger' ? dataFile('faces/probes/unknown-lin-manuel-miranda.png') : dataFile(PEOPLE[e.who].probe);
    entrants.push({ identity: e.who, tile: await faceTile(t.ctx.vision.engine, photo, 300), enterAtS: e.at });
  }
  seats = await buildClassVideo(path.join(dir, 'class.mp4'), { durationS: DURATION_S, entrants });
  video = fs.readFileSync(path.join(dir, 'class.mp4'));
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const uploadVideo = (data: Buffer, filename = 'class.mp4', type = 'video/mp4') => {
  const m = multipartBody([{ data, filename, type }]);
  return t.app.inject({
    method: 'POST',
    url: `/api/v1/sessions/${cls.sessionId}/captures`,
    headers: { ...teacher.headers, ...m.headers },
    payload: m.payload,
  });
};

describe('attendance from a class video', () => {
  it('finds every student with the right status and first-seen time, tracking each face through the video', async () => {
    expect(seats).toHaveLength(ENTRANTS.length);
    const res = await uploadVideo(video);
    expect(res.statusCode, res.body).toBe(202);
    const capture = res.json().items[0];
    expect(capture).toMatchObject({ kind: 'video', status: 'queued', contentType: 'video/mp4' });
    const [done] = await waitForCaptures(t.ctx, [capture.id], 300_000);
    expect(done.status, done.error ?? '').toBe('done');

    const info = await t.app.inject({ url: `/api/v1/captures/${capture.id}`, headers: teacher.headers });
    expect(info.json()).toMatchObject({
      status: 'done',
      progress: 100,
      durationMs: DURATION_S * 1000,
      width: 1280,
      height: 720,
    });

    const roster = await t.app.inject({
      url: `/api/v1/sessions/${cls.sessionId}/attendance`,
      headers: teacher.headers,
    });
    const by = Object.fromEntries(roster.json().items.map((i: { studentId: string }) => [i.studentId, i]));
    const firstSeen: Record<string, number> = {};
    for (const e of ENTRANTS) {
      if (e.who === 'stranger') continue;
      const row = by[cls.students[e.who].id];
      expect(row, e.who).toBeDefined();
      expect(row.status, e.who).toBe(e.at >= 60 ? 'late' : 'present');
      const offset = (Date.parse(row.firstSeenAt) - cls.startsAt) / 1000;
      firstSeen[e.who] = offset;
      // Never before they came in, and within one sampling interval after.
      expect(offset, e.who).toBeGreaterThanOrEqual(e.at - 0.25);
      expect(offset, e.who).toBeLessThanOrEqual(e.at + MAX_INTERVAL_MS / 1000);
    }
    expect(by[cls.students.alex_lacamoire.id].status).toBeNull();

    // The stranger is one unknown face (one track from the moment they sat down), not one per frame.
    const unknown = await t.app.inject({
      url: `/api/v1/sessions/${cls.sessionId}/unknown-faces`,
      headers: teacher.headers,
    });
    const seat = seats.find((x) => x.identity === 'stranger')!.box;
    const inSeat = (b: number[]) =>
      b[0] >= seat[0] && b[1] >= seat[1] && b[0] + b[2] <= seat[0] + seat[2] && b[1] + b[3] <= seat[1] + seat[3];
    const strangers = (unknown.json().items as { observations: number; firstSeenAt: string; box: number[] }[]).filter(
      (u) => inSeat(u.box),
    );
    expect(strangers).toHaveLength(1);
    expect(strangers[0].observations).toBeGreaterThan(3);
    expect((Date.parse(strangers[0].firstSeenAt) - cls.startsAt) / 1000).toBeCloseTo(44, 0);

    // Each person is one track through the video, identified on a few frames, not all of them.
    const obs = await t.ctx.db.kysely
      .selectFrom('observations')
      .select(['student_id', 'track_id', 'identified'])
      .where('capture_id', '=', capture.id)
      .execute();
    for (const e of ENTRANTS) {
      if (e.who === 'stranger') continue;
      const mine = obs.filter((o) => o.student_id === cls.students[e.who].id);
      expect(new Set(mine.map((o) => o.track_id)).size, e.who).toBe(1);
      if (mine.length > 6)
        expect(mine.filter((o) => Number(o.identified) === 1).length, e.who).toBeLessThan(mine.length);
    }

    // Frames can be stepped through; there are more than the 10-second minimum (scene changes).
    const frames = await t.app.inject({
      url: `/api/v1/captures/${capture.id}/frames?limit=100`,
      headers: teacher.headers,
    });
    const list = frames.json().items as { offsetMs: number; faces: unknown[] }[];
    expect(list.length).toBeGreaterThanOrEqual(Math.ceil(DURATION_S / 10));
    for (let i = 1; i < list.length; i++)
      expect(list[i].offsetMs - list[i - 1].offsetMs).toBeLessThanOrEqual(MAX_INTERVAL_MS + 200);
    const img = await t.app.inject({ url: `/api/v1/captures/${capture.id}/frames/1/image`, headers: teacher.headers });
    expect(img.statusCode).toBe(200);
    expect(img.headers['content-type']).toBe('image/jpeg');

    const rows = await t.ctx.db.kysely
      .selectFrom('attendance')
      .select('student_id')
      .where('session_id', '=', cls.sessionId)
      .execute();
    expect(rows).toHaveLength(4);

    // One ledger row per analysed frame (a still frame reuses the last one's faces and has none),
    // made from the frame's own JPEG and naming the video it was sampled from.
    const ledger = await ledgerOfCapture(t.ctx, capture.id);
    const frameRows = await t.ctx.db.kysely
      .selectFrom('capture_frames')
      .select(['frame_index', 'offset_ms', 'blob_id'])
      .where('capture_id', '=', capture.id)
      .execute();
    const byIndex = new Map(frameRows.map((f) => [Number(f.frame_index), f]));
    expect(ledger.length).toBeGreaterThan(1);
    expect(ledger.length).toBeLessThanOrEqual(frameRows.length);
    expect(new Set(ledger.map((p) => p.parameters.capture.frame)).size).toBe(ledger.length);
    expect(ledger[0].parameters.capture).toMatchObject({ frame: 0, identified: 'all' });
    for (const p of ledger) {
      const f = byIndex.get(p.parameters.capture.frame)!;
      expect(f, `frame ${p.parameters.capture.frame}`).toBeDefined();
      expect(p).toMatchObject({
        jobId: capture.id,
        userId: cls.teacher.user.id,
        model: IDENTIFY_MODEL,
        inputBlobId: f.blob_id,
        inputSha256: sha256Of(await t.ctx.blobs.getBuffer(f.blob_id!)),
      });
      expect(p.parameters.capture).toMatchObject({
        kind: 'video',
        offsetMs: Number(f.offset_ms),
        video: { sha256: sha256Of(video) },
        sampling: { maxIntervalMs: MAX_INTERVAL_MS, minIntervalMs: 1000, maxSide: 1280 },
      });
    }
    const matched = ledger.flatMap((p) => p.output.faces.filter((f) => f.match?.known).map((f) => f.match!.identity));
    expect(new Set(matched)).toEqual(
      new Set(ENTRANTS.filter((e) => e.who !== 'stranger').map((e) => cls.students[e.who].id)),
    );
  });

  it('fails a damaged video or one without faces, with the reason', async () => {
    const damaged = Buffer.concat([video.subarray(0, 64), Buffer.alloc(20_000, 0x5a)]);
    const bad = await uploadVideo(damaged);
    expect(bad.statusCode, bad.body).toBe(202);
    const [b] = await waitForCaptures(t.ctx, [bad.json().items[0].id]);
    expect(b.status).toBe('failed');
    const c = await t.app.inject({ url: `/api/v1/captures/${b.id}`, headers: teacher.headers });
    expect(c.json().error.code).toMatch(/corrupt_video|no_video_stream|video_failed|no_frames/);

    const empty = path.join(dir, 'empty.mp4');
    await buildClassVideo(empty, { durationS: 3, entrants: [] });
    const none = await uploadVideo(fs.readFileSync(empty));
    const [n] = await waitForCaptures(t.ctx, [none.json().items[0].id]);
    expect(n.status).toBe('failed');
    expect(
      (await t.app.inject({ url: `/api/v1/captures/${n.id}`, headers: teacher.headers })).json().error,
    ).toMatchObject({
      code: 'no_faces',
    });
  });
});
