import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueWorker } from '../../platform/queue/index.ts';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { buildToken, loginAs, type Session, signedIn } from '../../test/factories.ts';
import { extractZip } from '../analysis/zip.ts';
import { sweeperFor } from '../blobs/blobs.setup.ts';
import { SYSTEM_ACTOR } from '../identity/actor.ts';
import {
  buildClass,
  type ClassFixture,
  dataFile,
  ledgerOfCapture,
  multipartBody,
  sha256Of,
  waitForCaptures,
} from './attendance.fixtures.ts';
import { IDENTIFY_MODEL } from './capture-ledger.ts';

let t: TestApp;
let workers: QueueWorker;
let cls: ClassFixture;
let teacher: Session;

beforeAll(async () => {
  t = await createTestApp({ env: { WORKERS: '2' } });
  await t.ctx.vision.start();
  workers = await t.ctx.attendance.startWorkers();
  cls = await buildClass(t.ctx, {
    people: ['obama', 'biden', 'kit_harington', 'rose_leslie', 'alex_lacamoire'],
  });
  teacher = await loginAs(t.app, cls.teacher);
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
});

const upload = (
  s: Session | Record<string, string>,
  sessionId: string,
  files: Parameters<typeof multipartBody>[0],
  fields?: Record<string, string>,
) => {
  const m = multipartBody(files, fields);
  const headers = 'headers' in s ? (s as Session).headers : s;
  return t.app.inject({
    method: 'POST',
    url: `/api/v1/sessions/${sessionId}/captures`,
    headers: { ...headers, ...m.headers },
    payload: m.payload,
  });
};
const jpeg = (rel: string, filename = rel.split('/').pop()!) => ({ data: dataFile(rel), filename, type: 'image/jpeg' });

describe('attendance from photos', () => {
  it('turns classroom photos into attendance rows with evidence, and keeps the unknown face', async () => {
    const res = await upload(teacher, cls.sessionId, [
      jpeg('faces/probes/obama_and_biden.jpg'),
      jpeg('faces/probes/kit_with_rose.jpg'),
    ]);
    expect(res.statusCode, res.body).toBe(202);
    const items = res.json().items as { id: string; status: string; kind: string }[];
    expect(items).toHaveLength(2);
    expect(items.every((c) => c.kind === 'photo' && c.status === 'queued')).toBe(true);
    const done = await waitForCaptures(
      t.ctx,
      items.map((c) => c.id),
    );
    expect(
      done.map((d) => d.status),
      JSON.stringify(done),
    ).toEqual(['done', 'done']);

    const roster = await t.app.inject({
      url: `/api/v1/sessions/${cls.sessionId}/attendance`,
      headers: teacher.headers,
    });
    expect(roster.statusCode, roster.body).toBe(200);
    const body = roster.json();
    const by = Object.fromEntries(body.items.map((i: { studentId: string }) => [i.studentId, i]));
    for (const p of ['obama', 'biden', 'kit_harington', 'rose_leslie'] as const) {
      expect(by[cls.students[p].id], p).toMatchObject({ status: 'present', source: 'camera', hasEvidence: true });
      expect(by[cls.students[p].id].confidence).toBeGreaterThan(0.5);
    }
    expect(by[cls.students.alex_lacamoire.id]).toMatchObject({ status: null, firstSeenAt: null });
    expect(body.counts).toMatchObject({ enrolled: 5, present: 4, unseen: 1 });
    expect(body.sessionStatus).toBe('open');

    const evidence = await t.app.inject({
      url: `/api/v1/sessions/${cls.sessionId}/attendance/${cls.students.obama.id}/evidence`,
      headers: teacher.headers,
    });
    expect(evidence.statusCode).toBe(200);
    expect((await sharp(evidence.rawPayload).metadata()).format).toBe('jpeg');

    // The child in the corner of obama_and_biden.jpg is nobody enrolled.
    const unknown = await t.app.inject({
      url: `/api/v1/sessions/${cls.sessionId}/unknown-faces`,
      headers: teacher.headers,
    });
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json().items.length).toBeGreaterThanOrEqual(1);
    expect(unknown.json().items[0]).toMatchObject({ status: 'open', hasImage: true });

    // Both men raise a hand in obama_and_biden.jpg.
    const actions = await t.app.inject({ url: `/api/v1/sessions/${cls.sessionId}/actions`, headers: teacher.headers });
    expect(actions.statusCode).toBe(200);
    const raised = actions.json().items.filter((e: { kind: string }) => e.kind === 'hand_raised');
    expect(raised.map((e: { studentId: string }) => e.studentId).sort()).toEqual(
      [cls.students.obama.id, cls.students.biden.id].sort(),
    );

    // The frames can be stepped through with their boxes and names.
    const frames = await t.app.inject({ url: `/api/v1/captures/${items[0].id}/frames`, headers: teacher.headers });
    expect(frames.statusCode).toBe(200);
    const names = frames.json().items[0].faces.map((f: { name: string | null }) => f.name);
    expect(names).toEqual(expect.arrayContaining(['Barack Obama', 'Joe Biden', null]));
    const img = await t.app.inject({ url: `/api/v1/captures/${items[0].id}/frames/0/image`, headers: teacher.headers });
    expect(img.statusCode).toBe(200);
  });

  it('records each photo in the prediction ledger, for the teacher who sent it', async () => {
    const captures = await t.ctx.db.kysely
      .selectFrom('captures')
      .selectAll()
      .where('session_id', '=', cls.sessionId)
      .where('kind', '=', 'photo')
      .execute();
    expect(captures).toHaveLength(2);
    const registry = t.ctx.vision.registry;
    const weights = await registry.weightsSha256(IDENTIFY_MODEL);
    expect(weights).toMatch(/^[0-9a-f]{64}$/);
    const ids: string[] = [];
    for (const c of captures) {
      const rows = await ledgerOfCapture(t.ctx, c.id);
      expect(rows, c.filename ?? c.id).toHaveLength(1);
      const [p] = rows;
      ids.push(p.id);
      expect(p).toMatchObject({
        jobId: c.id,
        userId: cls.teacher.user.id,
        source: 'attendance',
        model: IDENTIFY_MODEL,
        modelVersion: registry.get(IDENTIFY_MODEL).version,
        weightsSha256: weights,
        inputBlobId: c.blob_id,
        inputSha256: sha256Of(await t.ctx.blobs.getBuffer(c.blob_id!)),
      });
      expect(p.durationMs).toBeGreaterThan(0);
      expect(p.parameters).toEqual({
        gallery: `offering:${cls.offeringId}`,
        threshold: t.config.faces.matchThreshold,
        margin: t.config.faces.matchMargin,
        minConfidence: t.config.vision.detectMinConfidence,
        tiling: 'auto',
        capture: { id: c.id, kind: 'photo', source: 'upload', frame: 0, offsetMs: 0, identified: 'all' },
      });
      // The output holds every face the observations hold, with its match and distance.
      const observations = await t.ctx.db.kysely
        .selectFrom('observations')
        .select(['box', 'student_id'])
        .where('capture_id', '=', c.id)
        .orderBy('face_index')
        .execute();
      expect(p.output.faces.map((f) => f.box)).toEqual(observations.map((o) => JSON.parse(o.box) as number[]));
      expect(p.output.faces.every((f) => f.match !== null && f.match.distance !== undefined)).toBe(true);
      expect(p.output.faces.filter((f) => f.match!.known).map((f) => f.match!.identity)).toEqual(
        p.output.faces.filter((f) => f.studentId).map((f) => f.studentId),
      );
    }
    const named = (
      await Promise.all(captures.map(async (c) => (await ledgerOfCapture(t.ctx, c.id))[0].output.faces))
    ).flat();
    expect(named.map((f) => f.studentId)).toEqual(
      expect.arrayContaining(['obama', 'biden', 'kit_harington', 'rose_leslie'].map((p) => cls.students[p].id)),
    );

    // The teacher finds them in the ledger API; another teacher does not.
    const mine = await t.app.inject({
      url: `/api/v1/predictions?model=${IDENTIFY_MODEL}&source=attendance&limit=100`,
      headers: teacher.headers,
    });
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json().items.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining(ids));
    const one = await t.app.inject({ url: `/api/v1/predictions/${ids[0]}`, headers: teacher.headers });
    expect(one.statusCode).toBe(200);
    const job = await t.app.inject({ url: `/api/v1/analyses/${captures[0].id}`, headers: teacher.headers });
    expect(job.statusCode, job.body).toBe(200);
    expect(job.json()).toMatchObject({ source: 'attendance', model: IDENTIFY_MODEL, status: 'done', processed: 1 });
    expect(job.json().predictions.map((p: { id: string }) => p.id)).toEqual([
      (await ledgerOfCapture(t.ctx, captures[0].id))[0].id,
    ]);
    // The lab's own list stays the lab's, and an attendance job is not run again from it.
    const labList = await t.app.inject({ url: '/api/v1/analyses', headers: teacher.headers });
    expect(labList.json().items.map((j: { id: string }) => j.id)).not.toContain(captures[0].id);
    const rerun = await t.app.inject({
      method: 'POST',
      url: `/api/v1/analyses/${captures[0].id}/rerun`,
      headers: teacher.headers,
    });
    expect(rerun.statusCode).toBe(409);

    const other = await signedIn(t.app, t.ctx, 'teacher');
    const theirs = await t.app.inject({
      url: `/api/v1/predictions?model=${IDENTIFY_MODEL}&limit=100`,
      headers: other.headers,
    });
    expect(theirs.statusCode).toBe(200);
    expect(theirs.json().total).toBe(0);
    for (const url of [`/api/v1/predictions/${ids[0]}`, `/api/v1/analyses/${captures[0].id}`]) {
      expect((await t.app.inject({ url, headers: other.headers })).statusCode, url).toBe(404);
    }
  });
});

describe('teacher review', () => {
  it('changes statuses by hand, recording who and when, and the camera leaves them alone', async () => {
    const url = `/api/v1/sessions/${cls.sessionId}/attendance/${cls.students.alex_lacamoire.id}`;
    const res = await t.app.inject({
      method: 'PATCH',
      url,
      headers: teacher.headers,
      payload: { status: 'excused', note: 'doctor' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const row = res.json().items.find((i: { studentId: string }) => i.studentId === cls.students.alex_lacamoire.id);
    expect(row).toMatchObject({ status: 'excused', source: 'manual', note: 'doctor' });
    expect(row.changedBy).toMatchObject({ id: cls.teacher.user.id });
    expect(Date.parse(row.changedAt)).toBeGreaterThan(Date.now() - 60_000);

    const bad = await t.app.inject({ method: 'PATCH', url, headers: teacher.headers, payload: { status: 'asleep' } });
    expect(bad.statusCode).toBe(400);
    const extra = await t.app.inject({
      method: 'PATCH',
      url,
      headers: teacher.headers,
      payload: { status: 'late', by: 'x' },
    });
    expect(extra.statusCode).toBe(400);

    // A photo of Alex now: the row keeps the teacher's status, and gains the camera's times.
    const up = await upload(teacher, cls.sessionId, [jpeg('faces/probes/alex_lacamoire-test.jpg')]);
    expect(up.statusCode, up.body).toBe(202);
    await waitForCaptures(t.ctx, [up.json().items[0].id]);
    const after = await t.app.inject({ url: `/api/v1/sessions/${cls.sessionId}/attendance`, headers: teacher.headers });
    const alex = after.json().items.find((i: { studentId: string }) => i.studentId === cls.students.alex_lacamoire.id);
    expect(alex).toMatchObject({ status: 'excused', source: 'manual' });
    expect(alex.firstSeenAt).not.toBeNull();
  });

  it('rejects a wrong match: the faces come back as unknown and can be assigned (and enrolled) to the right student', async () => {
    const base = `/api/v1/sessions/${cls.sessionId}`;
    const rej = await t.app.inject({
      method: 'POST',
      url: `${base}/attendance/${cls.students.rose_leslie.id}/reject`,
      headers: teacher.headers,
    });
    expect(rej.statusCode, rej.body).toBe(200);
    const rose = rej.json().items.find((i: { studentId: string }) => i.studentId === cls.students.rose_leslie.id);
    expect(rose).toMatchObject({ status: null, hasEvidence: false });

    const open = await t.app.inject({ url: `${base}/unknown-faces?status=open`, headers: teacher.headers });
    const face = open
      .json()
      .items.find(
        (f: { nearest: { studentId: string } | null }) => f.nearest?.studentId === cls.students.rose_leslie.id,
      );
    expect(face, open.body).toBeDefined();
    const img = await t.app.inject({ url: `${base}/unknown-faces/${face.id}/image`, headers: teacher.headers });
    expect(img.statusCode).toBe(200);

    const before = (await t.ctx.faces.list(SYSTEM_ACTOR, cls.students.rose_leslie.id)).items.length;
    const assign = await t.app.inject({
      method: 'POST',
      url: `${base}/unknown-faces/${face.id}/assign`,
      headers: teacher.headers,
      payload: { studentId: cls.students.rose_leslie.id, enroll: true },
    });
    expect(assign.statusCode, assign.body).toBe(200);
    expect(assign.json()).toMatchObject({ face: { status: 'assigned', studentId: cls.students.rose_leslie.id } });
    const enrolled = assign.json().enrolled as boolean;
    const templates = (await t.ctx.faces.list(SYSTEM_ACTOR, cls.students.rose_leslie.id)).items.length;
    expect(templates).toBe(before + (enrolled ? 1 : 0));
    if (!enrolled) expect(assign.json().enrollError.code).toBeTruthy();

    const roster = await t.app.inject({ url: `${base}/attendance`, headers: teacher.headers });
    const back = roster.json().items.find((i: { studentId: string }) => i.studentId === cls.students.rose_leslie.id);
    expect(back).toMatchObject({ status: 'present', source: 'camera', confidence: 1 });

    const notEnrolled = await t.app.inject({
      method: 'POST',
      url: `${base}/unknown-faces/${face.id}/assign`,
      headers: teacher.headers,
      payload: { studentId: cls.teacher.user.id },
    });
    expect(notEnrolled.statusCode).toBe(404);
  });

  it('lists low-confidence matches first until confirmed', async () => {
    await t.ctx.db.kysely
      .updateTable('attendance')
      .set({ confidence: 0.3 })
      .where('session_id', '=', cls.sessionId)
      .where('student_id', '=', cls.students.kit_harington.id)
      .execute();
    const base = `/api/v1/sessions/${cls.sessionId}`;
    const r = await t.app.inject({ url: `${base}/attendance`, headers: teacher.headers });
    expect(r.json().items[0]).toMatchObject({ studentId: cls.students.kit_harington.id, needsReview: true });
    const pending = r.json().counts.needsReview as number;
    expect(pending).toBeGreaterThanOrEqual(1);
    const ok = await t.app.inject({
      method: 'POST',
      url: `${base}/attendance/${cls.students.kit_harington.id}/confirm`,
      headers: teacher.headers,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().counts.needsReview).toBe(pending - 1);
    const kit = ok.json().items.find((i: { studentId: string }) => i.studentId === cls.students.kit_harington.id);
    expect(kit).toMatchObject({ needsReview: false, confirmed: true });
  });

  it('keeps other teachers, students and tokens without the scope out', async () => {
    const other = await signedIn(t.app, t.ctx, 'teacher');
    const student = await loginAs(t.app, { user: cls.students.obama, password: 'correct horse battery' });
    for (const s of [other, student]) {
      const r = await t.app.inject({ url: `/api/v1/sessions/${cls.sessionId}/attendance`, headers: s.headers });
      expect(r.statusCode).toBe(403);
      const up = await upload(s, cls.sessionId, [jpeg('faces/probes/obama-test.jpg')]);
      expect(up.statusCode).toBe(403);
    }
    const readOnly = await buildToken(t.ctx, cls.teacher.user.id, ['attendance:read']);
    const up = await upload({ authorization: `Bearer ${readOnly}` }, cls.sessionId, [
      jpeg('faces/probes/obama-test.jpg'),
    ]);
    expect(up.statusCode).toBe(403);
    const r = await t.app.inject({
      url: `/api/v1/sessions/${cls.sessionId}/attendance`,
      headers: { authorization: `Bearer ${readOnly}` },
    });
    expect(r.statusCode).toBe(200);
  });

  it('answers bad uploads with a 4xx and stores nothing', async () => {
    const count = async () =>
      Number(
        (
          await t.ctx.db.kysely
            .selectFrom('captures')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirst()
        )?.n,
      );
    const n0 = await count();
    const text = await upload(teacher, cls.sessionId, [
      { data: Buffer.from('hello'), filename: 'notes.txt', type: 'text/plain' },
    ]);
    expect(text.statusCode).toBe(415);
    const fake = await upload(teacher, cls.sessionId, [
      { data: Buffer.from('not a jpeg at all'), filename: 'x.jpg', type: 'image/jpeg' },
    ]);
    expect(fake.statusCode).toBe(415);
    // One good photo and one truncated one: nothing of the upload is kept.
    const good = dataFile('faces/probes/obama-test.jpg');
    const cut = await upload(teacher, cls.sessionId, [
      { data: good, filename: 'ok.jpg', type: 'image/jpeg' },
      { data: good.subarray(0, 2000), filename: 'cut.jpg', type: 'image/jpeg' },
    ]);
    expect(cut.statusCode).toBe(400);
    expect(cut.json().file).toBe('cut.jpg');
    const notVideo = await upload(teacher, cls.sessionId, [
      { data: Buffer.alloc(5000, 7), filename: 'class.mp4', type: 'video/mp4' },
    ]);
    expect(notVideo.statusCode).toBe(415);
    expect(notVideo.json().code).toBe('unsupported_video');
    const empty = await t.app.inject({
      method: 'POST',
      url: `/api/v1/sessions/${cls.sessionId}/captures`,
      headers: teacher.headers,
      payload: {},
    });
    expect(empty.statusCode).toBe(415);
    const noSession = await upload(teacher, '01hzzzzzzzzzzzzzzzzzzzzzzz', [jpeg('faces/probes/obama-test.jpg')]);
    expect(noSession.statusCode).toBe(404);
    expect(await count()).toBe(n0);
  });
});

describe('live frames, closing, reports and retention', () => {
  it('analyses a webcam frame at once and answers with boxes and names', async () => {
    const m = multipartBody([jpeg('faces/probes/obama_and_biden.jpg', 'frame.jpg')], { source: 'webcam' });
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/sessions/${cls.sessionId}/frames`,
      headers: { ...teacher.headers, ...m.headers },
      payload: m.payload,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.capture).toMatchObject({ kind: 'frame', source: 'webcam', status: 'done' });
    expect(body.intervalMs).toBe(5000);
    const names = body.frame.faces.map((f: { name: string | null }) => f.name);
    expect(names).toEqual(expect.arrayContaining(['Barack Obama', 'Joe Biden']));
    for (const f of body.frame.faces) expect(f.box).toHaveLength(4);

    const capture = await t.ctx.db.kysely
      .selectFrom('captures')
      .selectAll()
      .where('id', '=', body.capture.id)
      .executeTakeFirstOrThrow();
    const rows = await ledgerOfCapture(t.ctx, capture.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      jobId: capture.id,
      userId: cls.teacher.user.id,
      source: 'attendance',
      model: IDENTIFY_MODEL,
      inputBlobId: capture.blob_id,
      inputSha256: sha256Of(await t.ctx.blobs.getBuffer(capture.blob_id!)),
      parameters: { capture: { kind: 'frame', source: 'webcam', frame: 0 } },
    });
    expect(rows[0].output.faces).toHaveLength(body.frame.faces.length);
  });

  it('closes the session: everyone never seen is absent, and no capture is accepted any more', async () => {
    const extra = await buildClass(t.ctx, { people: ['obama', 'model_a'], noTemplate: ['model_a'] });
    const tch = await loginAs(t.app, extra.teacher);
    const up = await upload(tch, extra.sessionId, [jpeg('faces/probes/obama-test.jpg')]);
    await waitForCaptures(t.ctx, [up.json().items[0].id]);
    const closed = await t.app.inject({
      method: 'POST',
      url: `/api/v1/sessions/${extra.sessionId}/attendance/close`,
      headers: tch.headers,
    });
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json()).toMatchObject({ sessionStatus: 'closed', counts: { present: 1, absent: 1, unseen: 0 } });
    const late = await upload(tch, extra.sessionId, [jpeg('faces/probes/obama-test.jpg')]);
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('session_closed');

    const report = await t.app.inject({
      url: `/api/v1/offerings/${extra.offeringId}/attendance/report`,
      headers: tch.headers,
    });
    expect(report.statusCode, report.body).toBe(200);
    const students = report.json().students as {
      studentId: string;
      percent: number;
      belowThreshold: boolean;
      trend: number[];
    }[];
    const a = students.find((s) => s.studentId === extra.students.model_a.id)!;
    const o = students.find((s) => s.studentId === extra.students.obama.id)!;
    expect(a).toMatchObject({ percent: 0, belowThreshold: true, trend: [0] });
    expect(o).toMatchObject({ percent: 100, belowThreshold: false, trend: [100] });
    expect(report.json().sessions[0]).toMatchObject({ present: 1, absent: 1, percent: 50 });

    const csv = await t.app.inject({
      url: `/api/v1/offerings/${extra.offeringId}/attendance/export`,
      headers: tch.headers,
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toMatch(
      /^Student code,Full name,Email address,\d{4}-\d{2}-\d{2} \d{2}:\d{2},Present,Late,Absent,Excused,Attendance \(%\)$/,
    );
    const obamaLine = lines.find((l) => l.includes('Barack Obama'))!;
    expect(obamaLine.split(',').slice(-6)).toEqual(['P', '1', '0', '0', '0', '100.0']);
    const modelLine = lines.find((l) => l.includes('Model A'))!;
    expect(modelLine.split(',').slice(-6)).toEqual(['A', '0', '0', '1', '0', '0.0']);
    const moodle = await t.app.inject({
      url: `/api/v1/offerings/${extra.offeringId}/attendance/export?format=moodle`,
      headers: tch.headers,
    });
    const mlines = moodle.body.trim().split('\n');
    expect(mlines[0]).toBe('email,username,idnumber,session,status');
    expect(mlines).toHaveLength(3);
    expect(mlines.some((l) => l.endsWith(',P') && l.startsWith(extra.students.obama.email))).toBe(true);
    // The same table as a spreadsheet: codes and letters as text, counts and percentage as numbers.
    const xlsx = await t.app.inject({
      url: `/api/v1/offerings/${extra.offeringId}/attendance/export?format=xlsx`,
      headers: tch.headers,
    });
    expect(xlsx.statusCode).toBe(200);
    expect(xlsx.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(xlsx.headers['content-disposition']).toMatch(/filename=".+\.xlsx"/);
    const members = await extractZip(xlsx.rawPayload, {
      maxEntries: 20,
      maxTotalBytes: 1 << 20,
      maxRatio: 1000,
      maxEntryBytes: 1 << 20,
    });
    const sheet = members.find((m) => m.name === 'xl/worksheets/sheet1.xml')!.data!.toString('utf8');
    const cells = (row: number) =>
      [
        ...sheet.matchAll(new RegExp(`<c r="[A-Z]+${row}"[^>]*>(?:<v>([^<]*)</v>|<is><t>([^<]*)</t></is>)</c>`, 'g')),
      ].map((m) => m[1] ?? m[2]);
    expect(cells(1).slice(0, 3)).toEqual(['Student code', 'Full name', 'Email address']);
    expect(cells(1).slice(-5)).toEqual(['Present', 'Late', 'Absent', 'Excused', 'Attendance (%)']);
    const rowsOut = [2, 3].map(cells);
    const obamaRow = rowsOut.find((r) => r.includes('Barack Obama'))!;
    expect(obamaRow.slice(-6)).toEqual(['P', '1', '0', '0', '0', '100']);
    const modelRow = rowsOut.find((r) => r.includes('Model A'))!;
    expect(modelRow.slice(-6)).toEqual(['A', '0', '0', '1', '0', '0']);
    expect(sheet).toMatch(/<c r="[A-Z]+\d+"><v>100<\/v><\/c><\/row>/);
    const badFormat = await t.app.inject({
      url: `/api/v1/offerings/${extra.offeringId}/attendance/export?format=pdf`,
      headers: tch.headers,
    });
    expect(badFormat.statusCode).toBe(400);

    // The student sees their own history, and only theirs.
    const me = await loginAs(t.app, { user: extra.students.obama, password: 'correct horse battery' });
    const mine = await t.app.inject({ url: '/api/v1/me/attendance', headers: me.headers });
    expect(mine.statusCode).toBe(200);
    expect(mine.json().items.map((i: { sessionId: string }) => i.sessionId)).toContain(extra.sessionId);
    expect(mine.json().items.every((i: { status: string }) => i.status)).toBe(true);
    const theirReport = await t.app.inject({
      url: `/api/v1/offerings/${extra.offeringId}/attendance/report`,
      headers: me.headers,
    });
    expect(theirReport.statusCode).toBe(403);

    const dash = await t.app.inject({ url: '/api/v1/attendance/dashboard', headers: tch.headers });
    expect(dash.statusCode).toBe(200);
    const card = dash.json().items.find((i: { offeringId: string }) => i.offeringId === extra.offeringId);
    expect(card.today).toMatchObject({ present: 1, absent: 1, enrolled: 2 });
    expect(card.lowest[0]).toMatchObject({ studentId: extra.students.model_a.id, percent: 0 });
  });

  it('deletes raw captures after the retention period and keeps attendance and evidence', async () => {
    const up = await upload(teacher, cls.sessionId, [jpeg('faces/probes/obama-test.jpg')]);
    const id = up.json().items[0].id as string;
    await waitForCaptures(t.ctx, [id]);
    const capture = await t.ctx.db.kysely
      .selectFrom('captures')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const blobId = capture.blob_id!;
    expect(await t.ctx.blobs.head(blobId)).not.toBeNull();
    const [prediction] = await ledgerOfCapture(t.ctx, id);
    const input = `/api/v1/predictions/${prediction.id}/input`;
    expect((await t.app.inject({ url: input, headers: teacher.headers })).statusCode).toBe(200);
    // Nothing expires yet; a sweep as if 31 days had passed removes the raw photo.
    expect((await t.ctx.attendance.retention.sweep()).purged).toBe(0);
    const r = await t.ctx.attendance.retention.sweep(Date.now() + 31 * 86_400_000);
    expect(r.purged).toBeGreaterThanOrEqual(1);
    expect(await t.ctx.blobs.head(blobId)).toBeNull();
    const after = await t.app.inject({ url: `/api/v1/captures/${id}`, headers: teacher.headers });
    expect(after.json()).toMatchObject({ available: false, status: 'done' });
    const frame = await t.app.inject({ url: `/api/v1/captures/${id}/frames/0/image`, headers: teacher.headers });
    expect(frame.statusCode).toBe(410);
    const evidence = await t.app.inject({
      url: `/api/v1/sessions/${cls.sessionId}/attendance/${cls.students.obama.id}/evidence`,
      headers: teacher.headers,
    });
    expect(evidence.statusCode).toBe(200);
    const roster = await t.app.inject({
      url: `/api/v1/sessions/${cls.sessionId}/attendance`,
      headers: teacher.headers,
    });
    expect(roster.json().items.find((i: { studentId: string }) => i.studentId === cls.students.obama.id).status).toBe(
      'present',
    );
    expect((await t.ctx.attendance.retention.sweep(Date.now() + 31 * 86_400_000)).purged).toBe(0);

    // The ledger keeps the prediction and the id of the photo it was made from; the blob sweeper
    // takes that for history, not for a broken reference.
    expect(await ledgerOfCapture(t.ctx, id)).toEqual([prediction]);
    expect(prediction).toMatchObject({ inputBlobId: blobId, jobId: id });
    expect((await t.app.inject({ url: input, headers: teacher.headers })).statusCode).toBe(404);
    const swept = await sweeperFor(t.ctx).sweep({ graceMs: 0 });
    expect(swept.missingBlobs).toEqual([]);
  });
});
