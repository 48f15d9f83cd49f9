import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBomb } from '../../platform/image-fixtures.ts';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { SYSTEM_ACTOR } from './actor.ts';
import { signedIn, type Session } from '../../test/factories.ts';

const GALLERY = path.resolve(import.meta.dirname, '../../../../../shared/data/faces/gallery');
const PHOTO_A = fs.readFileSync(path.join(GALLERY, 'obama/1.jpg'));
const PHOTO_B = fs.readFileSync(path.join(GALLERY, 'biden/1.jpg'));

function multipart(file: Buffer, filename = 'photo.jpg', type = 'image/jpeg') {
  const boundary = `aula${randomBytes(12).toString('hex')}`;
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="${filename}"\r\n` +
          `Content-Type: ${type}\r\n\r\n`,
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
  };
}

let s3: S3rver | undefined;
let s3Port = 0;
let s3Dir = '';

beforeAll(async () => {
  s3Dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-photo-s3-'));
  s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir });
  s3Port = (await s3.run()).port;
});
afterAll(async () => {
  await new Promise<void>((r) => (s3 ? s3.close(() => r()) : r()));
  fs.rmSync(s3Dir, { recursive: true, force: true });
});

const stores: { name: string; env: () => Record<string, string> }[] = [
  { name: 'file', env: () => ({}) },
  {
    name: 's3',
    env: () => ({
      BLOB_URL:
        `s3://photos-${randomBytes(4).toString('hex')}?endpoint=http://127.0.0.1:${s3Port}&forcePathStyle=true` +
        '&accessKeyId=S3RVER&secretAccessKey=S3RVER&create=true',
    }),
  },
];

describe.each(stores)('profile photos on the $name blob store', ({ env }) => {
  let t: TestApp;
  let student: Session;
  let classmate: Session;
  let teacher: Session;
  let admin: Session;

  const blobIds = async () => {
    const out = new Set<string>();
    for await (const id of t.ctx.blobs.list()) out.add(id);
    return out;
  };
  const upload = (who: Session, file: Buffer, filename?: string, type?: string) => {
    const body = multipart(file, filename, type);
    return t.app.inject({
      method: 'PUT',
      url: '/api/v1/me/photo',
      headers: { ...who.headers, ...body.headers },
      payload: body.payload,
    });
  };
  const photo = (who: Session | null, userId: string, size?: 'full' | 'thumb') =>
    t.app.inject({
      url: `/api/v1/users/${userId}/photo${size ? `?size=${size}` : ''}`,
      headers: who?.headers ?? {},
    });

  beforeAll(async () => {
    t = await createTestApp({ env: env() });
    student = await signedIn(t.app, t.ctx, 'student');
    classmate = await signedIn(t.app, t.ctx, 'student');
    teacher = await signedIn(t.app, t.ctx, 'teacher');
    admin = await signedIn(t.app, t.ctx, 'admin');
    // The teacher teaches both students: teachers see the photos of their own students only.
    const sem = await t.ctx.academics.createSemester(SYSTEM_ACTOR, {
      year: 2030,
      term: 1,
      startsOn: '2030-01-01',
      endsOn: '2030-06-30',
    });
    const course = await t.ctx.academics.createCourse(SYSTEM_ACTOR, { code: 'PH1', name: 'Photos' });
    const o = await t.ctx.academics.createOffering(SYSTEM_ACTOR, {
      courseId: course.id,
      semesterId: sem.id,
      teacherId: teacher.user.id,
    });
    await t.ctx.academics.enrollMany(SYSTEM_ACTOR, o.id, [student.user.id, classmate.user.id]);
  });
  afterAll(async () => t?.close());

  it('stores a face photo and serves it back as JPEG, full and thumbnail', async () => {
    const res = await upload(student, PHOTO_A);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: student.user.id, hasPhoto: true });
    expect((await blobIds()).size).toBe(2);

    const full = await photo(student, student.user.id, 'full');
    expect(full.statusCode).toBe(200);
    expect(full.headers['content-type']).toBe('image/jpeg');
    const fm = await sharp(full.rawPayload).metadata();
    // 910×1137 fitted inside 1024×1024.
    expect([fm.format, fm.width, fm.height]).toEqual(['jpeg', 820, 1024]);

    const thumb = await photo(student, student.user.id, 'thumb');
    const tm = await sharp(thumb.rawPayload).metadata();
    expect([tm.format, tm.height]).toEqual(['jpeg', 192]);
    expect(tm.width).toBeLessThanOrEqual(192);
    // The thumbnail is the default size.
    expect((await photo(student, student.user.id)).rawPayload.equals(thumb.rawPayload)).toBe(true);
  });

  it('replaces a photo and deletes the old blobs', async () => {
    const before = await blobIds();
    const oldFull = (await photo(student, student.user.id, 'full')).rawPayload;
    const res = await upload(student, PHOTO_B, 'otra foto.JPG');
    expect(res.statusCode).toBe(200);
    const after = await blobIds();
    expect(after.size).toBe(2);
    for (const id of before) {
      expect(after.has(id)).toBe(false);
      expect(await t.ctx.blobs.head(id)).toBeNull();
    }
    const newFull = (await photo(student, student.user.id, 'full')).rawPayload;
    expect(newFull.equals(oldFull)).toBe(false);
    const m = await sharp(newFull).metadata();
    expect(m.format).toBe('jpeg');
    expect(Math.max(m.width, m.height)).toBeLessThanOrEqual(1024);
  });

  it('refuses hostile files with a 4xx and stores nothing', async () => {
    const before = await blobIds();
    const current = (await photo(student, student.user.id, 'full')).rawPayload;
    const cases: [Buffer, string, string, number, string][] = [
      [pngBomb(50_000, 50_000), 'bomb.png', 'image/png', 413, 'image_too_large'],
      [Buffer.from('this is not a photo\n'), 'notes.jpg', 'image/jpeg', 415, 'unsupported_media_type'],
      [Buffer.alloc(0), 'empty.jpg', 'image/jpeg', 400, 'empty_file'],
      [PHOTO_A.subarray(0, PHOTO_A.length >> 1), 'cut.jpg', 'image/jpeg', 400, 'corrupt_image'],
    ];
    for (const [file, name, type, status, code] of cases) {
      const res = await upload(student, file, name, type);
      expect([res.statusCode, res.json().code, name]).toEqual([status, code, name]);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(await blobIds()).toEqual(before);
    // The photo already accepted is untouched.
    expect((await photo(student, student.user.id, 'full')).rawPayload.equals(current)).toBe(true);
  });

  it('needs multipart and a CSRF token', async () => {
    const json = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/me/photo',
      headers: student.headers,
      payload: { photo: 'base64...' },
    });
    expect([json.statusCode, json.json().code]).toEqual([415, 'multipart_required']);
    const body = multipart(PHOTO_A);
    const noCsrf = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/me/photo',
      headers: { cookie: student.headers.cookie, ...body.headers },
      payload: body.payload,
    });
    expect([noCsrf.statusCode, noCsrf.json().code]).toEqual([403, 'csrf_failed']);
  });

  it('lets teachers and admins see a student photo, but not other students', async () => {
    const id = student.user.id;
    expect((await photo(teacher, id, 'thumb')).statusCode).toBe(200);
    expect((await photo(admin, id, 'full')).statusCode).toBe(200);
    const other = await photo(classmate, id, 'thumb');
    expect([other.statusCode, other.json().code]).toEqual([403, 'forbidden']);
    expect((await photo(null, id)).statusCode).toBe(401);
    const stranger = await signedIn(t.app, t.ctx, 'teacher');
    const notTheirs = await photo(stranger, id, 'thumb');
    expect([notTheirs.statusCode, notTheirs.json().code]).toEqual([403, 'forbidden']);
    // No photo yet, and a malformed id.
    const none = await photo(teacher, classmate.user.id);
    expect([none.statusCode, none.json().code]).toEqual([404, 'not_found']);
    expect((await photo(teacher, '../../etc/passwd')).statusCode).toBeGreaterThanOrEqual(400);
    expect((await photo(teacher, '../../etc/passwd')).statusCode).toBeLessThan(500);
    const bad = await t.app.inject({ url: `/api/v1/users/${id}/photo?size=huge`, headers: teacher.headers });
    expect(bad.statusCode).toBe(400);
  });

  it('lets an admin set another user photo, and nobody else', async () => {
    const body = multipart(PHOTO_A);
    const byStudent = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/users/${classmate.user.id}/photo`,
      headers: { ...student.headers, ...body.headers },
      payload: body.payload,
    });
    expect(byStudent.statusCode).toBe(403);
    const byAdmin = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/users/${classmate.user.id}/photo`,
      headers: { ...admin.headers, ...body.headers },
      payload: body.payload,
    });
    expect(byAdmin.statusCode).toBe(200);
    expect(byAdmin.json()).toMatchObject({ id: classmate.user.id, hasPhoto: true });
    expect((await photo(classmate, classmate.user.id, 'thumb')).statusCode).toBe(200);
  });
});
