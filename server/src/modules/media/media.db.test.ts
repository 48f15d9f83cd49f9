import { afterAll, beforeAll, expect, it } from 'vitest';
import { isUniqueViolation, type Db } from '../../platform/db/database.ts';
import { newId } from '../../platform/ids.ts';
import { describeEachDialect, openTestDb } from '../../test/databases.ts';
import { IdentityRepository } from '../identity/identity.repository.ts';
import { MediaRepository } from './media.repository.ts';

describeEachDialect('media repository', (dialect) => {
  let db: Db;
  let cleanup: () => Promise<void>;
  let repo: MediaRepository;
  const owner = newId();
  const other = newId();

  beforeAll(async () => {
    ({ db, cleanup } = await openTestDb(dialect));
    repo = new MediaRepository(db.kysely);
    const users = new IdentityRepository(db.kysely);
    for (const [id, name] of [
      [owner, 'owner'],
      [other, 'other'],
    ]) {
      await users.insertUser({
        id,
        email: `${name}@example.test`,
        username: name,
        full_name: `The ${name}`,
        role: 'student',
        password_hash: null,
        student_code: null,
        profile_blob_id: null,
        profile_thumb_blob_id: null,
        created_at: Date.now(),
        updated_at: Date.now(),
      });
    }
  });
  afterAll(async () => {
    await cleanup();
  });

  let t = Date.now();
  async function image(
    ownerId: string,
    albumId: string | null,
    title: string,
    labels: string[] = [],
    description: string | null = null,
  ) {
    const id = newId(++t);
    await repo.insertImage({
      id,
      owner_id: ownerId,
      album_id: albumId,
      blob_id: `blob-${id}`,
      thumb_blob_id: `thumb-${id}`,
      sha256: 'a'.repeat(64),
      size: 10,
      width: 4,
      height: 3,
      original_sha256: 'b'.repeat(64),
      original_name: `${title}.jpg`,
      title,
      description,
      status: 'done',
      status_error: null,
      created_at: t,
      updated_at: t,
    });
    await repo.insertLabels(
      labels.map((label, i) => ({
        id: newId(t),
        image_id: id,
        owner_id: ownerId,
        label,
        score: 0.5 + i / 100,
        box: JSON.stringify([1, 2, 3, 4]),
        model: 'objects@1',
        prediction_id: null,
        created_at: t,
      })),
    );
    return id;
  }

  it('lists images by album, label and text, and counts labels per photo', async () => {
    const album = newId();
    await repo.insertAlbum({
      id: album,
      owner_id: owner,
      name: 'Trip',
      description: null,
      smart_label: null,
      created_at: t,
      updated_at: t,
    });
    const a = await image(owner, album, 'Beach 100%', ['person', 'person', 'surfboard']);
    const b = await image(owner, album, 'Desk', ['laptop', 'cup'], 'My_desk at home');
    const c = await image(owner, null, 'Loose', ['laptop']);
    await image(other, null, 'Not mine', ['laptop']);

    const ids = async (f: Parameters<MediaRepository['listImages']>[0]) =>
      (await repo.listImages(f)).items.map((i) => i.id);
    expect(await ids({ ownerId: owner, limit: 50, offset: 0 })).toEqual([c, b, a]);
    expect(await ids({ ownerId: owner, albumId: album, limit: 50, offset: 0 })).toEqual([b, a]);
    expect(await ids({ ownerId: owner, unfiled: true, limit: 50, offset: 0 })).toEqual([c]);
    expect(await ids({ ownerId: owner, label: 'laptop', limit: 50, offset: 0 })).toEqual([c, b]);
    expect(await ids({ ownerId: owner, q: '100%', limit: 50, offset: 0 })).toEqual([a]);
    expect(await ids({ ownerId: owner, q: 'my_desk', limit: 50, offset: 0 })).toEqual([b]);
    expect((await repo.listImages({ ownerId: owner, limit: 1, offset: 1 })).total).toBe(3);

    expect(await repo.labelCounts(owner)).toEqual([
      { label: 'cup', count: 1 },
      { label: 'laptop', count: 2 },
      { label: 'person', count: 1 },
      { label: 'surfboard', count: 1 },
    ]);
    expect((await repo.albumStats(owner)).get(album)).toEqual({ count: 2, cover: b });
    expect(await repo.labelStats(owner, 'laptop')).toEqual({ count: 2, cover: c });

    await repo.updateImage(c, { shared: 1 });
    expect(await ids({ sharedExcept: other, limit: 50, offset: 0 })).toEqual([c]);
    expect(await ids({ sharedExcept: owner, limit: 50, offset: 0 })).toEqual([]);

    // Deleting the album leaves its photos in the library; deleting a photo takes its rows along.
    await repo.deleteAlbum(album);
    expect((await repo.findImage(a))!.album_id).toBeNull();
    await repo.deleteImage(a);
    expect(await repo.listLabelsOfImages([a])).toEqual([]);
  });

  it('keeps manual faces when automatic ones are replaced, and long texts whole', async () => {
    const img = await image(owner, null, 'People');
    const face = (source: string, userId: string | null) => ({
      id: newId(++t),
      image_id: img,
      owner_id: owner,
      box: JSON.stringify([0, 0, 10, 10]),
      score: 0.9,
      user_id: userId,
      distance: userId ? 0.4 : null,
      source,
      model: 'face-identification@1',
      prediction_id: null,
      created_at: t,
      updated_at: t,
    });
    await repo.insertFaces([face('auto', other), face('manual', owner), face('auto', null)]);
    const faces = await repo.listFaces(img);
    expect(faces.map((f) => [f.source, f.username])).toEqual([
      ['auto', 'other'],
      ['manual', 'owner'],
      ['auto', null],
    ]);
    await repo.deleteAutoFaces(img);
    expect((await repo.listFaces(img)).map((f) => f.full_name)).toEqual(['The owner']);

    const text = 'Línea de texto con acentos. '.repeat(4000);
    expect(Buffer.byteLength(text)).toBeGreaterThan(65_536);
    await repo.insertText({
      image_id: img,
      lang: 'spa+eng',
      text,
      regions: JSON.stringify([{ text: 'x', confidence: 90, box: [0, 0, 1, 1] }]),
      confidence: 91.5,
      model: 'ocr@7',
      origin: 'manual',
      prediction_id: null,
      created_at: t,
    });
    expect((await repo.findText(img))!.text).toBe(text);
  });

  it('caches one translation per text, languages and provider', async () => {
    const row = {
      source_sha256: 'c'.repeat(64),
      source_lang: 'es',
      target_lang: 'en',
      provider: 'apertium',
      text: 'Hello',
      created_at: t,
    };
    await repo.insertTranslation({ id: newId(), ...row });
    const err = await repo.insertTranslation({ id: newId(), ...row, text: 'Hi' }).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    await repo.insertTranslation({ id: newId(), ...row, provider: 'libretranslate', text: 'Hi' });
    const key = { sourceSha256: row.source_sha256, from: 'es', to: 'en' };
    expect((await repo.findTranslation({ ...key, provider: 'apertium' }))!.text).toBe('Hello');
    expect((await repo.findTranslation({ ...key, provider: 'libretranslate' }))!.text).toBe('Hi');
    expect(await repo.findTranslation({ ...key, to: 'fr', provider: 'apertium' })).toBeUndefined();
  });
});
