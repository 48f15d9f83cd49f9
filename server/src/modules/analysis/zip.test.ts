import { describe, expect, it } from 'vitest';
import { AppError } from '../../platform/errors.ts';
import { extractZip, unsafePath, type ZipLimits } from './zip.ts';
import { buildZip } from './zip-fixtures.ts';

const limits: ZipLimits = {
  maxEntries: 10,
  maxTotalBytes: 50 * 1024 * 1024,
  maxRatio: 100,
  maxEntryBytes: 20 * 1024 * 1024,
};

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('zip extraction', () => {
  it('returns the files, skips folders and hidden files, and marks empty or oversized ones', async () => {
    const zip = buildZip([
      { name: 'photos/', data: Buffer.alloc(0), method: 'store' },
      { name: 'photos/a.jpg', data: Buffer.from('first file') },
      { name: 'b.png', data: Buffer.from('second file'), method: 'store' },
      { name: '__MACOSX/photos/._a.jpg', data: Buffer.from('resource fork') },
      { name: 'photos/.DS_Store', data: Buffer.from('finder') },
      { name: 'empty.jpg', data: Buffer.alloc(0) },
      { name: 'big.jpg', data: Buffer.alloc(2000, 7) },
      { name: 'ñandú.jpg', data: Buffer.from('utf-8 name') },
    ]);
    const out = await extractZip(zip, { ...limits, maxEntryBytes: 1000 });
    expect(out.map((m) => [m.name, m.data?.toString() ?? m.error?.code])).toEqual([
      ['photos/a.jpg', 'first file'],
      ['b.png', 'second file'],
      ['empty.jpg', 'empty_file'],
      ['big.jpg', 'file_too_large'],
      ['ñandú.jpg', 'utf-8 name'],
    ]);
  });

  it('refuses entries that climb out of the archive', async () => {
    for (const name of [
      '../evil.jpg',
      'photos/../../evil.jpg',
      '/etc/passwd',
      'C:/Windows/evil.jpg',
      'photos\\..\\evil.jpg',
    ]) {
      const err = await refusal(
        extractZip(
          buildZip([
            { name: 'ok.jpg', data: Buffer.from('x') },
            { name, data: Buffer.from('x') },
          ]),
          limits,
        ),
      );
      expect(err.code, name).toBe('zip_unsafe_path');
      expect(err.status).toBe(400);
    }
    expect(unsafePath('photos/a..b.jpg')).toBeNull();
  });

  it('refuses encrypted archives', async () => {
    const err = await refusal(
      extractZip(buildZip([{ name: 'secret.jpg', data: Buffer.from('x'), encrypted: true }]), limits),
    );
    expect(err.code).toBe('zip_encrypted');
  });

  it('refuses decompression bombs before inflating them', async () => {
    // 16 MB of zeros deflate to ~16 KB: a ratio no photo has.
    const bomb = buildZip([{ name: 'zeros.jpg', data: Buffer.alloc(16 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(100_000);
    const err = await refusal(extractZip(bomb, limits));
    expect(err.code).toBe('zip_bomb');
    expect(err.status).toBe(400);
  });

  it('stops an entry that inflates to more than it declares', async () => {
    const liar = buildZip([{ name: 'liar.jpg', data: Buffer.alloc(4 * 1024 * 1024, 1), declaredSize: 1000 }]);
    const err = await refusal(extractZip(liar, limits));
    expect(err.code).toBe('zip_bomb');
  });

  it('enforces the entry count and total size, and refuses what is not a zip', async () => {
    const many = buildZip(Array.from({ length: 11 }, (_, i) => ({ name: `${i}.jpg`, data: Buffer.from(`${i}`) })));
    expect((await refusal(extractZip(many, limits))).code).toBe('zip_too_many_entries');

    const random = Buffer.alloc(300_000);
    for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
    const large = buildZip([
      { name: 'a.jpg', data: random, method: 'store' },
      { name: 'b.jpg', data: random, method: 'store' },
    ]);
    expect((await refusal(extractZip(large, { ...limits, maxTotalBytes: 500_000 }))).code).toBe('zip_too_large');

    expect((await refusal(extractZip(Buffer.from('PK\u0003\u0004 this is not really a zip'), limits))).code).toBe(
      'invalid_zip',
    );
  });
});
