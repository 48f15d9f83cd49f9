import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBomb } from '../../platform/image-fixtures.ts';
import type { QueueWorker } from '../../platform/queue/index.ts';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { buildUser, loginAs, type Session, signedIn } from '../../test/factories.ts';
import { renderTextImage } from '../../vision/ocr-fixtures.ts';
import { startLibreTranslate } from '../../vision/translate/libretranslate-fixtures.ts';
import { multipartBody } from '../analysis/multipart-body.ts';
import { MEDIA_TASK } from './media-processing.ts';
import { SYSTEM_ACTOR } from '../identity/actor.ts';

const DATA = path.resolve(import.meta.dirname, '../../../../../shared/data');
const photo = (rel: string) => fs.readFileSync(path.join(DATA, rel));

const SPANISH = ['El niño come una manzana roja.', 'La biblioteca abre a las nueve.'];
const ENGLISH = ['The quick brown fox jumps over the lazy dog.', 'Reading is a school for life.'];

let t: TestApp;
let workers: QueueWorker | undefined;

beforeAll(async () => {
  // One vision worker for the file: models load once. Apertium is installed on the test machines.
  t = await createTestApp({ env: { WORKERS: '1', TRANSLATE_PROVIDER: 'apertium' } });
  await t.ctx.vision.start();
  workers = await t.ctx.background.start();
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
});

type Json = Record<string, any>;

const call = (s: Session, method: string, url: string, payload?: unknown) =>
  t.app.inject({
    method: method as 'GET',
    url: `/api/v1${url}`,
    headers: s.headers,
    ...(payload !== undefined && { payload: payload as Json }),
  });

async function upload(s: Session, files: { filename: string; data: Buffer }[], fields: Record<string, string> = {}) {
  const m = multipartBody(
    files.map((f) => ({ field: 'photos', ...f })),
    fields,
  );
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/images',
    headers: { ...s.headers, ...m.headers },
    payload: m.payload,
  });
}

async function uploadOne(
  s: Session,
  filename: string,
  data: Buffer,
  fields: Record<string, string> = {},
): Promise<Json> {
  const res = await upload(s, [{ filename, data }], fields);
  expect(res.statusCode, res.body).toBe(201);
  return res.json().items[0] as Json;
}

/** Waits for the background analysis of everything uploaded so far, then reads the image. */
async function processed(s: Session, id: string): Promise<Json> {
  await t.ctx.background.idle();
  const res = await call(s, 'GET', `/images/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Json>();
}

describe('albums', () => {
  it('are created, renamed, listed and deleted; bad input is a 400', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const created = await call(me, 'POST', '/albums', { name: 'Excursión', description: 'Museo' });
    expect(created.statusCode, created.body).toBe(201);
    const album = created.json();
    expect(album).toMatchObject({ name: 'Excursión', description: 'Museo', smartLabel: null, imageCount: 0 });

    const renamed = await call(me, 'PATCH', `/albums/${album.id}`, { name: 'Field trip' });
    expect(renamed.json()).toMatchObject({ id: album.id, name: 'Field trip', description: 'Museo' });

    expect((await call(me, 'POST', '/albums', { name: '  ' })).statusCode).toBe(400);
    const unknown = await call(me, 'POST', '/albums', { name: 'x', color: 'red' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe('validation_failed');
    const kind = await call(me, 'PATCH', `/albums/${album.id}`, { smartLabel: 'dog' });
    expect(kind.json().code).toBe('album_kind_fixed');

    const list = await call(me, 'GET', '/albums');
    expect(list.json().map((a: Json) => a.name)).toEqual(['Field trip']);
    expect((await call(me, 'DELETE', `/albums/${album.id}`)).statusCode).toBe(204);
    expect((await call(me, 'GET', `/albums/${album.id}`)).statusCode).toBe(404);
  });
});

describe('upload and labels', () => {
  it('finds a laptop in with_computer.jpg, lists the label and fills a smart album', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const album = (await call(me, 'POST', '/albums', { name: 'Desk' })).json();
    const img = await uploadOne(me, 'with_computer.jpg', photo('scenes/with_computer.jpg'), {
      albumId: album.id,
      title: 'My desk',
      description: 'Una computadora portátil en la mesa.',
    });
    expect(img).toMatchObject({ albumId: album.id, title: 'My desk', status: 'pending', shared: false });
    expect(img.sha256).toMatch(/^[0-9a-f]{64}$/);

    const detail = await processed(me, img.id);
    expect(detail.status).toBe('done');
    expect(detail.statusError).toBeNull();
    const laptop = detail.labels.find((l: Json) => l.label === 'laptop');
    expect(laptop, JSON.stringify(detail.labels)).toBeDefined();
    expect(laptop.score).toBeGreaterThan(0.25);
    const box = detail.detections.find((d: Json) => d.label === 'laptop').box;
    expect(box).toHaveLength(4);
    expect(box[2]).toBeGreaterThan(50);
    expect(detail.looksLikeDocument).toBe(false);

    const labels = (await call(me, 'GET', '/labels')).json();
    expect(labels).toContainEqual({ label: 'laptop', count: 1 });
    const withLaptop = (await call(me, 'GET', '/images?label=laptop')).json();
    expect(withLaptop.items.map((i: Json) => i.id)).toEqual([img.id]);
    expect((await call(me, 'GET', '/images?label=giraffe')).json().total).toBe(0);

    const smart = (await call(me, 'POST', '/albums', { name: 'Laptops', smartLabel: 'Laptop' })).json();
    expect(smart.smartLabel).toBe('laptop');
    expect(smart.imageCount).toBe(1);
    expect((await call(me, 'GET', `/images?album=${smart.id}`)).json().items[0].id).toBe(img.id);
    const intoSmart = await upload(me, [{ filename: 'x.jpg', data: photo('scenes/with_computer.jpg') }], {
      albumId: smart.id,
    });
    expect(intoSmart.statusCode).toBe(400);
    expect(intoSmart.json().code).toBe('smart_album_upload');

    const thumb = await call(me, 'GET', `/images/${img.id}/file?size=thumb`);
    expect(thumb.statusCode).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/jpeg');
    const meta = await sharp(thumb.rawPayload).metadata();
    expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(384);

    // Each model run of the album pipeline is in the ledger, tied to the stored image.
    const ledger = (await call(me, 'GET', `/predictions?source=album&input_sha256=${img.sha256}`)).json();
    expect(ledger.items.map((p: Json) => p.model).sort()).toEqual(['face-identification', 'objects']);
    for (const p of ledger.items) expect(p).toMatchObject({ userId: me.user.id, inputSha256: img.sha256, jobId: null });
  });

  it('stores several photos at once and reports each bad file on its own', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const mixed = await upload(me, [
      { filename: 'a.jpg', data: photo('scenes/coco-image1.jpg') },
      { filename: 'notes.txt', data: Buffer.from('not a picture') },
      { filename: 'empty.png', data: Buffer.alloc(0) },
      { filename: 'bomb.png', data: pngBomb(30_000, 30_000) },
    ]);
    expect(mixed.statusCode, mixed.body).toBe(201);
    const body = mixed.json();
    expect(body.items.map((i: Json) => i.title)).toEqual(['a']);
    expect(body.errors).toEqual([
      expect.objectContaining({ filename: 'notes.txt', code: 'unsupported_media_type' }),
      expect.objectContaining({ filename: 'empty.png', code: 'empty_file' }),
      expect.objectContaining({ filename: 'bomb.png', code: 'image_too_large' }),
    ]);

    const single = await upload(me, [{ filename: 'bomb.png', data: pngBomb(30_000, 30_000) }]);
    expect(single.statusCode).toBe(413);
    expect(single.json().code).toBe('image_too_large');
    const allBad = await upload(me, [
      { filename: 'a.txt', data: Buffer.from('a') },
      { filename: 'b.txt', data: Buffer.from('b') },
    ]);
    expect(allBad.statusCode).toBe(400);
    expect(allBad.json()).toMatchObject({ code: 'no_images' });
    expect(allBad.json().errors).toHaveLength(2);
    const fieldsOnly = multipartBody([], { title: 'x' });
    const none = await t.app.inject({
      method: 'POST',
      url: '/api/v1/images',
      headers: { ...me.headers, ...fieldsOnly.headers },
      payload: fieldsOnly.payload,
    });
    expect(none.statusCode).toBe(400);
    expect(none.json().code).toBe('file_required');
    // A body cut off or sent with another boundary is the client's mistake, not a crash.
    const cut = multipartBody([{ filename: 'a.jpg', data: photo('scenes/coco-image1.jpg') }]);
    const broken = await t.app.inject({
      method: 'POST',
      url: '/api/v1/images',
      headers: { ...me.headers, ...cut.headers },
      payload: cut.payload.subarray(0, 2000),
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().code).toBe('invalid_multipart');
    const json = await call(me, 'POST', '/images', { title: 'x' });
    expect(json.statusCode).toBe(415);
    await t.ctx.background.idle();
    expect((await call(me, 'GET', '/images')).json().total).toBe(1);
  });
});

describe('people in a photo', () => {
  it('matches the faces of kit_with_rose.jpg with enrolled users who allow it, and keeps corrections', async () => {
    const people: Record<string, string> = {};
    for (const who of ['kit_harington', 'rose_leslie']) {
      const built = await buildUser(t.ctx, { role: 'student', fullName: who });
      const s = await loginAs(t.app, built);
      expect((await call(s, 'PATCH', '/me', { faceLoginConsent: true })).statusCode).toBe(200);
      for (const f of fs.readdirSync(path.join(DATA, 'faces/gallery', who))) {
        await t.ctx.faces.enroll(SYSTEM_ACTOR, built.user.id, photo(`faces/gallery/${who}/${f}`), 'upload');
      }
      people[built.user.id] = who;
    }
    // Someone enrolled but without consent is never named.
    const shy = await buildUser(t.ctx, { role: 'student' });
    await t.ctx.faces.enroll(SYSTEM_ACTOR, shy.user.id, photo('faces/gallery/obama/1.jpg'), 'upload');

    const me = await signedIn(t.app, t.ctx, 'student');
    const img = await uploadOne(me, 'kit_with_rose.jpg', photo('faces/probes/kit_with_rose.jpg'));
    const detail = await processed(me, img.id);
    expect(detail.status).toBe('done');
    expect(detail.faces).toHaveLength(2);
    const named = detail.faces.map((f: Json) => people[f.userId]).sort();
    expect(named).toEqual(['kit_harington', 'rose_leslie']);
    for (const f of detail.faces) {
      expect(f.source).toBe('auto');
      expect(f.fullName).toBe(people[f.userId]);
      expect(f.box[2]).toBeGreaterThan(20);
      expect(f.distance).toBeLessThan(t.config.faces.matchThreshold);
    }

    const kitFace = detail.faces.find((f: Json) => people[f.userId] === 'kit_harington');
    const fixed = await call(me, 'PATCH', `/images/${img.id}/faces/${kitFace.id}`, { userId: null });
    expect(fixed.statusCode, fixed.body).toBe(200);
    expect(fixed.json()).toMatchObject({ userId: null, source: 'manual', distance: null });
    const nobody = await call(me, 'PATCH', `/images/${img.id}/faces/${kitFace.id}`, { userId: '0'.repeat(26) });
    expect(nobody.json().code).toBe('unknown_user');

    expect((await call(me, 'POST', `/images/${img.id}/reprocess`)).statusCode).toBe(202);
    const again = await processed(me, img.id);
    expect(again.faces).toHaveLength(2);
    expect(again.faces.find((f: Json) => f.id === kitFace.id)).toMatchObject({ userId: null, source: 'manual' });
    expect(again.faces.filter((f: Json) => f.source === 'auto').map((f: Json) => people[f.userId])).toEqual([
      'rose_leslie',
    ]);
  });
});

describe('text and translation', () => {
  it('extracts the exact text of generated Spanish (on upload) and English (on demand) pages', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const es = await uploadOne(me, 'hoja.png', await renderTextImage(SPANISH), {
      description: 'A red apple on the table.',
    });
    const esDetail = await processed(me, es.id);
    expect(esDetail.looksLikeDocument).toBe(true);
    expect(esDetail.text).toMatchObject({ text: SPANISH.join('\n'), origin: 'auto', lang: 'spa+eng' });
    expect(esDetail.text.lines.map((l: Json) => l.text)).toEqual(SPANISH);
    expect(esDetail.text.model).toMatch(/^ocr@/);

    const en = await uploadOne(me, 'page.png', await renderTextImage(ENGLISH), { title: 'Page' });
    await t.ctx.background.idle();
    const ocr = await call(me, 'POST', `/images/${en.id}/ocr`, { lang: 'eng' });
    expect(ocr.statusCode, ocr.body).toBe(200);
    expect(ocr.json()).toMatchObject({ text: ENGLISH.join('\n'), origin: 'manual', lang: 'eng' });
    expect(ocr.json().lines[0].box[2]).toBeGreaterThan(300);
    const badLang = await call(me, 'POST', `/images/${en.id}/ocr`, { lang: 'fra' });
    expect(badLang.statusCode).toBe(400);

    // Translation of the extracted text and of the description, through apertium, cached in SQL.
    const tr = await call(me, 'POST', `/images/${es.id}/translate`, { field: 'text', from: 'es', to: 'en' });
    expect(tr.statusCode, tr.body).toBe(200);
    expect(tr.json()).toEqual({
      text: 'The boy eats a red apple.\nThe library opens to the nine.',
      from: 'es',
      to: 'en',
      provider: 'apertium',
      cached: false,
    });
    const again = await call(me, 'POST', `/images/${es.id}/translate`, { field: 'text', from: 'es', to: 'en' });
    expect(again.json()).toMatchObject({ cached: true, text: tr.json().text });
    const cachedRows = await t.ctx.db.kysely.selectFrom('translations').selectAll().execute();
    expect(cachedRows.some((r) => r.text === tr.json().text && r.provider === 'apertium')).toBe(true);
    const desc = await call(me, 'POST', `/images/${es.id}/translate`, { field: 'description', from: 'en', to: 'es' });
    expect(desc.json()).toMatchObject({ text: 'Una manzana roja en la mesa.', provider: 'apertium' });

    const noText = await call(me, 'POST', `/images/${en.id}/translate`, { field: 'description', from: 'en', to: 'es' });
    expect(noText.json().code).toBe('empty_text');
  });

  it('answers bad translation requests with a clear 4xx and lists the provider', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const info = (await call(me, 'GET', '/translation')).json();
    expect(info).toMatchObject({ provider: 'apertium', configured: true, available: true });
    expect(info.pairs).toEqual(
      expect.arrayContaining([
        { from: 'es', to: 'en' },
        { from: 'en', to: 'es' },
      ]),
    );

    const ok = await call(me, 'POST', '/translations', { text: 'Mi perro lee un libro.', from: 'es', to: 'en' });
    expect(ok.json()).toMatchObject({ text: 'My dog reads a book.', cached: false });
    const empty = await call(me, 'POST', '/translations', { text: '   ', from: 'es', to: 'en' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().code).toBe('empty_text');
    const long = await call(me, 'POST', '/translations', { text: 'a'.repeat(info.maxChars + 1), from: 'es', to: 'en' });
    expect(long.statusCode).toBe(413);
    expect(long.json()).toMatchObject({ code: 'text_too_long', maxChars: info.maxChars });
    const pair = await call(me, 'POST', '/translations', { text: 'Hola', from: 'es', to: 'fi' });
    expect(pair.statusCode).toBe(400);
    expect(pair.json().code).toBe('unsupported_language_pair');
    const same = await call(me, 'POST', '/translations', { text: 'Hola', from: 'es', to: 'es' });
    expect(same.json().code).toBe('same_language');
    const badCode = await call(me, 'POST', '/translations', { text: 'Hola', from: 'spanish!', to: 'en' });
    expect(badCode.statusCode).toBe(400);
  });

  it('with the none provider, says that translation is not configured', async () => {
    const bare = await createTestApp({ env: { TRANSLATE_PROVIDER: 'none' } });
    try {
      const me = await signedIn(bare.app, bare.ctx, 'student');
      const info = await bare.app.inject({ url: '/api/v1/translation', headers: me.headers });
      expect(info.json()).toMatchObject({ provider: 'none', configured: false, available: false, pairs: [] });
      const res = await bare.app.inject({
        method: 'POST',
        url: '/api/v1/translations',
        headers: me.headers,
        payload: { text: 'Hola', from: 'es', to: 'en' },
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code).toBe('translation_not_configured');
      expect(res.json().detail).toMatch(/not configured/);
    } finally {
      await bare.close();
    }
  });
});

describe('translation through LibreTranslate', () => {
  it('uses the configured server for pairs and translations, and caches its answers', async () => {
    const lt = await startLibreTranslate({ apiKey: 'k-123' });
    const app = await createTestApp({
      env: { TRANSLATE_PROVIDER: 'libretranslate', LIBRETRANSLATE_URL: lt.url, LIBRETRANSLATE_API_KEY: 'k-123' },
    });
    try {
      const me = await signedIn(app.app, app.ctx, 'student');
      const info = await app.app.inject({ url: '/api/v1/translation', headers: me.headers });
      expect(info.json()).toMatchObject({ provider: 'libretranslate', configured: true, available: true });
      expect(info.json().pairs).toContainEqual({ from: 'es', to: 'en' });
      const translate = () =>
        app.app.inject({
          method: 'POST',
          url: '/api/v1/translations',
          headers: me.headers,
          payload: { text: 'El perro lee un libro.', from: 'es', to: 'en' },
        });
      const first = await translate();
      expect(first.statusCode, first.body).toBe(200);
      expect(first.json()).toEqual({
        text: 'The dog reads a book.',
        from: 'es',
        to: 'en',
        provider: 'libretranslate',
        cached: false,
      });
      const sent = lt.requests.filter((r) => r.path === '/translate');
      expect(sent).toHaveLength(1);
      expect(sent[0].body).toMatchObject({ q: 'El perro lee un libro.', api_key: 'k-123' });
      expect((await translate()).json()).toMatchObject({ text: 'The dog reads a book.', cached: true });
      expect(lt.requests.filter((r) => r.path === '/translate')).toHaveLength(1);

      // The server going away is the server's problem, said plainly: 503, not a crash.
      await lt.close();
      const gone = await app.app.inject({
        method: 'POST',
        url: '/api/v1/translations',
        headers: me.headers,
        payload: { text: 'Otro texto.', from: 'es', to: 'en' },
      });
      expect(gone.statusCode).toBe(503);
      expect(gone.json().code).toBe('translation_unavailable');
    } finally {
      await app.close();
      await lt.close().catch(() => {});
    }
  });
});

describe('privacy and organisation', () => {
  it('keeps albums and photos to their owner unless a photo is shared', async () => {
    const alice = await signedIn(t.app, t.ctx, 'student');
    const bob = await signedIn(t.app, t.ctx, 'teacher');
    const album = (await call(alice, 'POST', '/albums', { name: 'Private' })).json();
    const img = await uploadOne(alice, 'x.jpg', photo('scenes/tie_with_beer.jpg'), { albumId: album.id });

    for (const [method, url, body] of [
      ['GET', `/images/${img.id}`],
      ['GET', `/images/${img.id}/file`],
      ['PATCH', `/images/${img.id}`, { title: 'mine now' }],
      ['DELETE', `/images/${img.id}`],
      ['POST', `/images/${img.id}/ocr`, {}],
      ['GET', `/albums/${album.id}`],
      ['PATCH', `/albums/${album.id}`, { name: 'x' }],
      ['DELETE', `/albums/${album.id}`],
      ['GET', `/images?album=${album.id}`],
      ['POST', `/images/${img.id}/reprocess`],
      ['POST', `/images/${img.id}/translate`, { field: 'description', from: 'en', to: 'es' }],
      ['PATCH', `/images/${img.id}/faces/${'0'.repeat(26)}`, { userId: null }],
      ['DELETE', `/images/${img.id}/faces/${'0'.repeat(26)}`],
    ] as [string, string, unknown?][]) {
      const res = await call(bob, method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    expect((await call(bob, 'GET', '/images')).json().total).toBe(0);
    expect((await call(bob, 'GET', '/albums')).json()).toEqual([]);
    const into = await upload(bob, [{ filename: 'b.jpg', data: photo('scenes/coco-image2.jpg') }], {
      albumId: album.id,
    });
    expect(into.statusCode).toBe(404);
    const bobImg = await uploadOne(bob, 'b.jpg', photo('scenes/coco-image2.jpg'));
    expect((await call(bob, 'PATCH', `/images/${bobImg.id}`, { albumId: album.id })).statusCode).toBe(404);

    // The labels of one library never show in another's.
    await t.ctx.background.idle();
    const aliceLabels = (await call(alice, 'GET', '/labels')).json<Json[]>();
    expect(aliceLabels.length).toBeGreaterThan(0);
    const bobLabels = (await call(bob, 'GET', '/labels')).json<Json[]>();
    expect(bobLabels.every((l) => l.count === 1)).toBe(true);
    for (const l of aliceLabels) {
      const found = (await call(bob, 'GET', `/images?label=${encodeURIComponent(l.label)}`)).json();
      expect(found.items.every((i: Json) => i.ownerId === bob.user.id)).toBe(true);
    }

    const shared = await call(alice, 'PATCH', `/images/${img.id}`, { shared: true, description: 'Una mesa.' });
    expect(shared.json().shared).toBe(true);
    const seen = await call(bob, 'GET', `/images/${img.id}`);
    expect(seen.statusCode).toBe(200);
    expect(seen.json()).toMatchObject({ mine: false, ownerId: alice.user.id });
    expect((await call(bob, 'GET', `/images/${img.id}/file?size=thumb`)).statusCode).toBe(200);
    expect((await call(bob, 'GET', '/images?scope=shared')).json().items.map((i: Json) => i.id)).toEqual([img.id]);
    // A shared photo can be read and its description translated, not changed or analysed by others.
    const translated = await call(bob, 'POST', `/images/${img.id}/translate`, {
      field: 'description',
      from: 'es',
      to: 'en',
    });
    expect(translated.statusCode, translated.body).toBe(200);
    expect(translated.json().text).toBe('A table.');
    expect((await call(bob, 'PATCH', `/images/${img.id}`, { title: 'mine now' })).statusCode).toBe(404);
    expect((await call(bob, 'DELETE', `/images/${img.id}`)).statusCode).toBe(404);
    expect((await call(bob, 'POST', `/images/${img.id}/ocr`, {})).statusCode).toBe(404);
    expect((await call(bob, 'POST', `/images/${img.id}/reprocess`)).statusCode).toBe(404);
    // Shared photos stay out of the other user's own library and albums.
    expect((await call(bob, 'GET', '/images')).json().items.map((i: Json) => i.id)).toEqual([bobImg.id]);
    expect((await call(alice, 'GET', '/images?scope=shared')).json().total).toBe(0);

    expect((await call(alice, 'PATCH', `/images/${img.id}`, { shared: false })).json().shared).toBe(false);
    expect((await call(bob, 'GET', `/images/${img.id}`)).statusCode).toBe(404);
    expect((await call(bob, 'GET', `/images/${img.id}/file`)).statusCode).toBe(404);
    expect((await call(bob, 'GET', '/images?scope=shared')).json().total).toBe(0);
    await t.ctx.background.idle();
  });

  it('moves photos between albums and deletes albums with or without their photos', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const a = (await call(me, 'POST', '/albums', { name: 'A' })).json();
    const b = (await call(me, 'POST', '/albums', { name: 'B' })).json();
    const one = await uploadOne(me, 'one.jpg', photo('scenes/coco-image1.jpg'), { albumId: a.id });
    const two = await uploadOne(me, 'two.jpg', photo('scenes/coco-image2.jpg'), { albumId: a.id });

    expect((await call(me, 'PATCH', `/images/${one.id}`, { albumId: b.id, title: 'Moved' })).json()).toMatchObject({
      albumId: b.id,
      title: 'Moved',
    });
    expect((await call(me, 'GET', `/images?album=${b.id}`)).json().items.map((i: Json) => i.id)).toEqual([one.id]);
    expect((await call(me, 'GET', `/images?album=${a.id}`)).json().items.map((i: Json) => i.id)).toEqual([two.id]);
    const albums = (await call(me, 'GET', '/albums')).json();
    expect(albums.map((x: Json) => [x.name, x.imageCount, x.coverImageId])).toEqual([
      ['A', 1, two.id],
      ['B', 1, one.id],
    ]);

    expect((await call(me, 'DELETE', `/albums/${b.id}`)).statusCode).toBe(204);
    expect((await call(me, 'GET', `/images/${one.id}`)).json().albumId).toBeNull();
    expect((await call(me, 'GET', '/images?unfiled=true')).json().items.map((i: Json) => i.id)).toEqual([one.id]);

    await t.ctx.background.idle();
    const row = (await t.ctx.db.kysely.selectFrom('images').selectAll().where('id', '=', two.id).executeTakeFirst())!;
    expect((await call(me, 'DELETE', `/albums/${a.id}?images=delete`)).statusCode).toBe(204);
    expect((await call(me, 'GET', `/images/${two.id}`)).statusCode).toBe(404);
    expect(await t.ctx.blobs.head(row.blob_id)).toBeNull();
    expect(await t.ctx.blobs.head(row.thumb_blob_id)).toBeNull();

    expect((await call(me, 'DELETE', `/images/${one.id}`)).statusCode).toBe(204);
    expect((await call(me, 'GET', '/images')).json().total).toBe(0);
  });
});

describe('processing in the prediction ledger', () => {
  const db = () => t.ctx.db.kysely;
  const imageRow = async (id: string) =>
    (await db().selectFrom('images').selectAll().where('id', '=', id).executeTakeFirst())!;
  /** The ledger rows of a photo, by model. */
  async function ledger(blobId: string): Promise<Record<string, string[]>> {
    const rows = await db()
      .selectFrom('predictions')
      .select(['id', 'model'])
      .where('input_blob_id', '=', blobId)
      .where('source', '=', 'album')
      .orderBy('id')
      .execute();
    const byModel: Record<string, string[]> = {};
    for (const r of rows) (byModel[r.model] ??= []).push(r.id);
    return byModel;
  }

  it('records a retried job once per model, and a reprocess as new predictions', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const img = await uploadOne(me, 'hoja.png', await renderTextImage(SPANISH));
    expect((await processed(me, img.id)).text).toMatchObject({ text: SPANISH.join('\n'), origin: 'auto' });
    const row = await imageRow(img.id);
    const first = await ledger(row.blob_id);
    expect(Object.keys(first).sort()).toEqual(['face-identification', 'objects', 'ocr']);
    for (const ids of Object.values(first)) expect(ids).toHaveLength(1);

    // The worker died after the models were recorded but before the text was stored and the photo
    // marked done: the queue runs the same job (same id, same payload) again.
    await db().updateTable('images').set({ status: 'processing' }).where('id', '=', img.id).execute();
    await db().deleteFrom('image_texts').where('image_id', '=', img.id).execute();
    for (let i = 0; i < 2; i++) {
      await t.ctx.queue.add(MEDIA_TASK, { id: img.id }, { jobId: `${img.id}-${row.updated_at}` });
      await t.ctx.background.idle();
    }
    expect(await ledger(row.blob_id)).toEqual(first);
    const retried = await processed(me, img.id);
    expect(retried.status).toBe('done');
    // The text comes back from the prediction already recorded, which it names.
    expect(retried.text).toMatchObject({ text: SPANISH.join('\n'), origin: 'auto' });
    const text = (await db().selectFrom('image_texts').selectAll().where('image_id', '=', img.id).executeTakeFirst())!;
    expect(text.prediction_id).toBe(first.ocr[0]);

    // Asked for again by the owner: a new run, so new predictions beside the old ones. OCR is not
    // repeated for a photo that has its text.
    expect((await call(me, 'POST', `/images/${img.id}/reprocess`)).statusCode).toBe(202);
    expect((await processed(me, img.id)).status).toBe('done');
    const second = await ledger(row.blob_id);
    expect(second.ocr).toEqual(first.ocr);
    for (const model of ['objects', 'face-identification']) {
      expect(second[model]).toHaveLength(2);
      expect(second[model]).toContain(first[model][0]);
    }
  });
});
