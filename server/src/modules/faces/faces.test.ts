import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBomb } from '../../platform/image-fixtures.ts';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { buildUser, loginAs, type Session, signedIn } from '../../test/factories.ts';
import { SYSTEM_ACTOR } from '../identity/actor.ts';

const DATA = path.resolve(import.meta.dirname, '../../../../../shared/data');
const photo = (rel: string) => fs.readFileSync(path.join(DATA, rel));

function multipart(file: Buffer, fields: Record<string, string> = {}, filename = 'photo.jpg', type = 'image/jpeg') {
  const boundary = `aula${randomBytes(12).toString('hex')}`;
  const parts = Object.entries(fields).map(
    ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
  );
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([
      Buffer.from(parts.join('')),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`,
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
  };
}

let t: TestApp;
let blank: Buffer;
let ipSeq = 0;
/** Every face sign-in test uses its own client address, so the per-IP limit is tested alone. */
const nextIp = () => `10.9.0.${++ipSeq}`;

beforeAll(async () => {
  // One worker for the file: models load once. A small per-IP limit for the rate-limit test.
  t = await createTestApp({ env: { WORKERS: '1', FACE_LOGIN_RATE_LIMIT_PER_IP: '4' } });
  await t.ctx.vision.start();
  blank = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#7a8a99' } })
    .jpeg()
    .toBuffer();
});
afterAll(async () => {
  await t?.close();
});

const enroll = (
  s: Session | Record<string, string>,
  userId: string,
  file: Buffer,
  fields = {},
  name?: string,
  type?: string,
) => {
  const m = multipart(file, fields, name, type);
  const headers = 'headers' in s ? (s as Session).headers : s;
  return t.app.inject({
    method: 'POST',
    url: `/api/v1/users/${userId}/faces`,
    headers: { ...headers, ...m.headers },
    payload: m.payload,
  });
};

const faceLogin = (file: Buffer, ip = nextIp()) => {
  const m = multipart(file);
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/face-login',
    headers: m.headers,
    payload: m.payload,
    remoteAddress: ip,
  });
};

const setConsent = (s: Session, on: boolean) =>
  t.app.inject({ method: 'PATCH', url: '/api/v1/me', headers: s.headers, payload: { faceLoginConsent: on } });

describe('face enrollment', () => {
  it('enrolls one face per photo, lists templates and serves the source image', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const res = await enroll(me, me.user.id, photo('faces/gallery/rose_leslie/1.jpg'), { source: 'webcam' });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ userId: me.user.id, source: 'webcam', hasImage: true });
    expect(body.model).toMatch(/^face-api\/face_recognition@/);
    expect(body.face.quality.size).toBeGreaterThan(80);

    const second = await enroll(me, me.user.id, photo('faces/gallery/rose_leslie/2.jpg'));
    expect(second.statusCode).toBe(201);
    const list = await t.app.inject({ url: `/api/v1/users/${me.user.id}/faces`, headers: me.headers });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((i: { id: string }) => i.id)).toEqual([body.id, second.json().id]);
    expect(list.json().faceLoginConsent).toBe(false);

    const img = await t.app.inject({ url: `/api/v1/users/${me.user.id}/faces/${body.id}/image`, headers: me.headers });
    expect(img.statusCode).toBe(200);
    expect(img.headers['content-type']).toBe('image/jpeg');
    expect((await sharp(img.rawPayload).metadata()).format).toBe('jpeg');
  });

  it('rejects photos without exactly one good face, saying why', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const noFace = await enroll(me, me.user.id, blank);
    expect(noFace.statusCode).toBe(400);
    expect(noFace.json()).toMatchObject({ code: 'no_face', faces: 0 });

    const two = await enroll(me, me.user.id, photo('faces/probes/two_people.jpg'));
    expect(two.statusCode).toBe(400);
    expect(two.json()).toMatchObject({ code: 'multiple_faces', faces: 2 });
    expect(two.json().boxes).toHaveLength(2);

    const tiny = await enroll(me, me.user.id, photo('faces/probes/obama-240p.jpg'));
    expect(tiny.statusCode).toBe(400);
    expect(tiny.json().code).toBe('low_quality');
    expect(tiny.json().reasons.join(' ')).toMatch(/px/);
    expect(tiny.json().quality.size).toBeLessThan(80);

    const list = await t.app.inject({ url: `/api/v1/users/${me.user.id}/faces`, headers: me.headers });
    expect(list.json().items).toEqual([]);
  });

  it('answers bad files with a 4xx and stores nothing', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const jpeg = photo('faces/gallery/obama/1.jpg');
    const cases: [Buffer, string, string, number, string][] = [
      [Buffer.alloc(0), 'empty.jpg', 'image/jpeg', 400, 'empty_file'],
      [Buffer.from('just some text, not a photo'), 'notes.txt', 'text/plain', 415, 'unsupported_media_type'],
      [jpeg.subarray(0, Math.floor(jpeg.length / 2)), 'cut.jpg', 'image/jpeg', 400, 'corrupt_image'],
      [pngBomb(50_000, 50_000), 'bomb.png', 'image/png', 413, 'image_too_large'],
    ];
    for (const [file, name, type, status, code] of cases) {
      const res = await enroll(me, me.user.id, file, {}, name, type);
      expect(res.statusCode, `${name}: ${res.body}`).toBe(status);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(res.json().code).toBe(code);
    }
    const unknownField = await enroll(me, me.user.id, jpeg, { colour: 'red' });
    expect(unknownField.statusCode).toBe(400);
    const noFile = await t.app.inject({
      method: 'POST',
      url: `/api/v1/users/${me.user.id}/faces`,
      headers: { ...me.headers, 'content-type': 'application/json' },
      payload: { image: 'x' },
    });
    expect(noFile.statusCode).toBe(415);
    const list = await t.app.inject({ url: `/api/v1/users/${me.user.id}/faces`, headers: me.headers });
    expect(list.json().items).toEqual([]);
  });

  it('lets the user, an admin or their teacher manage face data, and no one else', async () => {
    const student = await buildUser(t.ctx, { role: 'student' });
    const other = await signedIn(t.app, t.ctx, 'student');
    const admin = await signedIn(t.app, t.ctx, 'admin');
    const teacherUser = await buildUser(t.ctx, { role: 'teacher' });
    const teacher = await loginAs(t.app, teacherUser);
    const stranger = await signedIn(t.app, t.ctx, 'teacher');
    const img = photo('faces/gallery/kit_harington/1.jpg');

    expect((await enroll(other, student.user.id, img)).statusCode).toBe(403);
    expect((await enroll(teacher, student.user.id, img)).statusCode).toBe(403);
    expect((await enroll(admin, student.user.id, img)).statusCode).toBe(201);
    expect((await enroll({}, student.user.id, img)).statusCode).toBe(401);
    expect((await enroll(admin, 'no-such-user', img)).statusCode).toBe(404);

    // Once the student attends the teacher's offering, the teacher may enroll their face.
    const a = SYSTEM_ACTOR;
    const sem = await t.ctx.academics.createSemester(a, {
      year: 2025,
      term: 1,
      startsOn: '2025-01-10',
      endsOn: '2025-06-10',
    });
    const course = await t.ctx.academics.createCourse(a, { code: `F${randomBytes(2).toString('hex')}`, name: 'Faces' });
    const offering = await t.ctx.academics.createOffering(a, {
      courseId: course.id,
      semesterId: sem.id,
      teacherId: teacherUser.user.id,
    });
    await t.ctx.academics.enroll(a, offering.id, student.user.id);
    expect((await enroll(teacher, student.user.id, photo('faces/gallery/kit_harington/2.jpg'))).statusCode).toBe(201);
    expect((await enroll(stranger, student.user.id, img)).statusCode).toBe(403);
    const list = await t.app.inject({ url: `/api/v1/users/${student.user.id}/faces`, headers: teacher.headers });
    expect(list.json().items).toHaveLength(2);
    expect(
      (await t.app.inject({ url: `/api/v1/users/${student.user.id}/faces`, headers: other.headers })).statusCode,
    ).toBe(403);
  });
});

describe('face sign-in', () => {
  let obama: Session;

  beforeAll(async () => {
    obama = await signedIn(t.app, t.ctx, 'student');
    for (const f of ['faces/gallery/obama/1.jpg', 'faces/gallery/obama/2.jpg']) {
      expect((await enroll(obama, obama.user.id, photo(f))).statusCode).toBe(201);
    }
  });

  it('needs the user’s consent', async () => {
    await setConsent(obama, false);
    const res = await faceLogin(photo('faces/probes/obama-test.jpg'));
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('face_not_recognized');
  });

  it('signs in with a matching face, like a password sign-in (multipart and webcam JSON)', async () => {
    expect((await setConsent(obama, true)).statusCode).toBe(200);
    const res = await faceLogin(photo('faces/probes/obama-test.jpg'));
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ id: obama.user.id, faceLoginConsent: true });
    expect(body.face.distance).toBeLessThan(t.config.faces.matchThreshold);
    expect(body.csrfToken).toBeTruthy();
    const cookies = res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    expect(cookies).toContain('aula_session=');
    const me = await t.app.inject({ url: '/api/v1/auth/me', headers: { cookie: cookies } });
    expect(me.statusCode).toBe(200);
    expect(me.json().id).toBe(obama.user.id);

    const dataUrl = `data:image/jpeg;base64,${photo('faces/probes/obama-720p.jpg').toString('base64')}`;
    const json = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/face-login',
      payload: { image: dataUrl },
      remoteAddress: nextIp(),
    });
    expect(json.statusCode, json.body).toBe(200);
    expect(json.json().id).toBe(obama.user.id);

    const audit = await t.ctx.identity.listAudit(SYSTEM_ACTOR, 200, 0);
    expect(audit.items.some((a) => a.action === 'auth.face_login' && a.target_id === obama.user.id)).toBe(true);
  });

  it('refuses strangers, pictures without a face and bad payloads with a clear reason', async () => {
    await setConsent(obama, true);
    const stranger = await faceLogin(photo('faces/probes/unknown-lin-manuel-miranda.png'));
    expect(stranger.statusCode).toBe(401);
    expect(stranger.json().code).toBe('face_not_recognized');
    expect(stranger.cookies.find((c) => c.name === 'aula_session')).toBeUndefined();

    const none = await faceLogin(blank);
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('no_face');

    const badUrl = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/face-login',
      payload: { image: 'data:text/plain;base64,aGVsbG8=' },
      remoteAddress: nextIp(),
    });
    expect(badUrl.statusCode).toBe(400);
    const extra = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/face-login',
      payload: { image: 'data:image/jpeg;base64,AAAA', user: 'x' },
      remoteAddress: nextIp(),
    });
    expect(extra.statusCode).toBe(400);
    const notImage = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/face-login',
      payload: { image: `data:image/jpeg;base64,${Buffer.from('not a jpeg at all').toString('base64')}` },
      remoteAddress: nextIp(),
    });
    expect(notImage.statusCode).toBe(415);
  });

  it('requires liveness and anti-spoof scores above the configured minimums', async () => {
    await setConsent(obama, true);
    const faces = t.ctx.config.faces;
    const saved = faces.loginMinAntispoof;
    // Printed photos score well below 0.99; the check must refuse them at that setting.
    faces.loginMinAntispoof = 0.99;
    try {
      const res = await faceLogin(photo('faces/probes/obama-test.jpg'));
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('liveness_failed');
      expect(res.json().antispoof).toBeLessThan(0.99);
    } finally {
      faces.loginMinAntispoof = saved;
    }
  });

  it('is rate limited per client address, like password sign-in', async () => {
    const ip = nextIp();
    for (let i = 0; i < 4; i++) expect((await faceLogin(blank, ip)).statusCode).toBe(401);
    const limited = await faceLogin(blank, ip);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('too_many_attempts');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await faceLogin(blank)).statusCode).toBe(401);
  });

  it('counts the profile photo as a template once the user consents', async () => {
    const kit = await signedIn(t.app, t.ctx, 'student');
    const m = multipart(photo('faces/gallery/kit_harington/1.jpg'));
    const up = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/me/photo',
      headers: { ...kit.headers, ...m.headers },
      payload: m.payload,
    });
    expect(up.statusCode, up.body).toBe(200);
    expect((await faceLogin(photo('faces/probes/kit_harington-test.jpg'))).statusCode).toBe(401);
    await setConsent(kit, true);
    const res = await faceLogin(photo('faces/probes/kit_harington-test.jpg'));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().id).toBe(kit.user.id);
    const list = await t.app.inject({ url: `/api/v1/users/${kit.user.id}/faces`, headers: kit.headers });
    expect(list.json().items.map((i: { source: string }) => i.source)).toEqual(['profile']);
  });

  it('deletes one template or all face data, with audit entries, and sign-in stops working', async () => {
    await setConsent(obama, true);
    const list = (await t.app.inject({ url: `/api/v1/users/${obama.user.id}/faces`, headers: obama.headers })).json();
    expect(list.items).toHaveLength(2);
    const one = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${obama.user.id}/faces/${list.items[0].id}`,
      headers: obama.headers,
    });
    expect(one.statusCode).toBe(204);
    const missing = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${obama.user.id}/faces/${list.items[0].id}`,
      headers: obama.headers,
    });
    expect(missing.statusCode).toBe(404);

    const all = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${obama.user.id}/faces`,
      headers: obama.headers,
    });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual({ deleted: 1 });
    const after = (await t.app.inject({ url: `/api/v1/users/${obama.user.id}/faces`, headers: obama.headers })).json();
    expect(after).toEqual({ items: [], faceLoginConsent: false });

    const audit = await t.ctx.identity.listAudit(SYSTEM_ACTOR, 500, 0);
    const mine = audit.items.filter((a) => a.target_id === obama.user.id).map((a) => a.action);
    expect(mine).toEqual(expect.arrayContaining(['face.enroll', 'face.delete', 'face.delete_all']));

    const res = await faceLogin(photo('faces/probes/obama-test.jpg'));
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('face_not_recognized');
  });
});

describe('models', () => {
  it('lists every model with its weight hash and parameter schema, to signed-in users', async () => {
    expect((await t.app.inject({ url: '/api/v1/models' })).statusCode).toBe(401);
    const me = await signedIn(t.app, t.ctx, 'student');
    const res = await t.app.inject({ url: '/api/v1/models', headers: me.headers });
    expect(res.statusCode).toBe(200);
    const models =
      res.json<{ name: string; weightsSha256: string; available: boolean; parameters: { type: string } }[]>();
    expect(models.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        'face-detection',
        'face-embedding',
        'face-identification',
        'face-attributes',
        'objects',
        'pose',
        'liveness',
      ]),
    );
    const builtIn = [
      'face-detection',
      'face-embedding',
      'face-identification',
      'face-attributes',
      'objects',
      'pose',
      'liveness',
    ];
    for (const m of models.filter((x) => builtIn.includes(x.name))) {
      expect(m.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(m.available).toBe(true);
      expect(m.parameters.type).toBe('object');
    }
  });
});
