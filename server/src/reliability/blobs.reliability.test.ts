import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipartBody } from '../modules/attendance/attendance.fixtures.ts';
import { sweeperFor } from '../modules/blobs/blobs.setup.ts';
import { createTestApp, type TestApp } from '../test/app.ts';
import { buildUser, loginAs, type Session } from '../test/factories.ts';

/**
 * The blob store unavailable during uploads: a clean 503 with Retry-After, no SQL row pointing at
 * nothing, no blob left behind; and the sweeper that finds what other paths leave behind.
 */
describe('blob store outage and the orphan sweeper', () => {
  let t: TestApp;
  let root: string;
  let admin: Session;
  let photo: Buffer;

  beforeAll(async () => {
    t = await createTestApp({ env: { MEDIA_AUTO_OCR: 'false' } });
    root = t.config.blobUrl.replace(/^file:/, '');
    admin = await loginAs(t.app, await buildUser(t.ctx, { role: 'admin' }));
    photo = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#36c' } })
      .jpeg()
      .toBuffer();
  });
  afterAll(async () => {
    await t?.close();
  });

  const count = async (table: 'images' | 'users') =>
    Number(
      (
        await t.ctx.db.kysely
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const blobFiles = () =>
    fs.existsSync(root) && fs.statSync(root).isDirectory()
      ? fs.readdirSync(root, { recursive: true }).filter((f) => !String(f).endsWith('.json')).length
      : 0;
  const upload = (s: Session, url: string, method: 'POST' | 'PUT' = 'POST') => {
    const m = multipartBody([{ data: photo, filename: 'p.jpg', type: 'image/jpeg' }]);
    return t.app.inject({ method, url, headers: { ...s.headers, ...m.headers }, payload: m.payload });
  };

  it('answers uploads with 503 and Retry-After while the store is away, leaving nothing behind', async () => {
    const teacher = await loginAs(t.app, await buildUser(t.ctx, { role: 'teacher' }));
    expect((await upload(teacher, '/api/v1/images')).statusCode).toBe(201);
    const [images, files] = [await count('images'), blobFiles()];

    // The store's folder replaced by a file: every write fails as a lost mount would.
    const away = `${root}.away`;
    fs.renameSync(root, away);
    fs.writeFileSync(root, 'not a directory');
    try {
      for (const [url, method] of [
        ['/api/v1/images', 'POST'],
        ['/api/v1/me/photo', 'PUT'],
      ] as const) {
        const r = await upload(teacher, url, method);
        expect(r.statusCode, `${url} ${r.body}`).toBe(503);
        expect(r.headers['retry-after']).toMatch(/^\d+$/);
        expect(r.json().code).toBe('blob_store_unavailable');
      }
    } finally {
      fs.rmSync(root);
      fs.renameSync(away, root);
    }
    expect(await count('images')).toBe(images);
    expect(blobFiles()).toBe(files);
    const me = await t.app.inject({ url: '/api/v1/auth/me', headers: teacher.headers });
    expect(me.json().user?.profilePhotoUrl ?? me.json().profilePhotoUrl ?? null).toBeNull();

    const r = await sweeperFor(t.ctx).sweep({ graceMs: 0 });
    expect(r.orphanBlobs).toEqual([]);
    expect(r.missingBlobs).toEqual([]);
  });

  it('leaves no orphan when a user with a photo is deleted', async () => {
    const built = await buildUser(t.ctx, { role: 'teacher' });
    const s = await loginAs(t.app, built);
    expect((await upload(s, '/api/v1/me/photo', 'PUT')).statusCode).toBe(200);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/users/${built.user.id}`, headers: admin.headers });
    expect(del.statusCode, del.body).toBeLessThan(300);
    expect((await sweeperFor(t.ctx).sweep({ graceMs: 0 })).orphanBlobs).toEqual([]);
  });

  it('finds a blob no row refers to (a crash between store write and commit) and deletes it on request', async () => {
    const stray = await t.ctx.blobs.put(photo, { contentType: 'image/jpeg' });
    const sweeper = sweeperFor(t.ctx);
    const found = await sweeper.sweep({ graceMs: 0 });
    expect(found.orphanBlobs).toEqual([stray.id]);
    expect(found.deleted).toBe(0);
    // Within the grace period it may still be an upload on its way to its commit: left alone.
    const young = await sweeper.sweep();
    expect(young.orphanBlobs).toEqual([]);
    expect(young.young).toBe(1);
    const removed = await sweeper.sweep({ graceMs: 0, delete: true });
    expect(removed.deleted).toBe(1);
    expect(await t.ctx.blobs.head(stray.id)).toBeNull();
    expect((await sweeper.sweep({ graceMs: 0 })).orphanBlobs).toEqual([]);
  });

  it('reports SQL rows whose blob has gone missing', async () => {
    const teacher = await loginAs(t.app, await buildUser(t.ctx, { role: 'teacher' }));
    const up = await upload(teacher, '/api/v1/images');
    expect(up.statusCode).toBe(201);
    const row = await t.ctx.db.kysely
      .selectFrom('images')
      .select('blob_id')
      .where('id', '=', up.json().items[0].id)
      .executeTakeFirstOrThrow();
    await t.ctx.blobs.delete(row.blob_id);
    const r = await sweeperFor(t.ctx).sweep({ graceMs: 0 });
    expect(r.missingBlobs).toContainEqual({ table: 'images', column: 'blob_id', blobId: row.blob_id });
    expect(path.isAbsolute(root)).toBe(true);
  });
});
