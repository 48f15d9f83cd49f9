import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { newBlobId } from './blob-ids.ts';
import type { BlobStore } from './blob-store.ts';
import { createBlobStore } from './index.ts';
import { freePort } from '../ports.ts';

/*
 * One contract, three stores: a folder, S3 (against s3rver) and Azure Blob (against azurite).
 * Both emulators run in-process or as a child of this test on a free port, so nothing is shared
 * with other suites.
 */

const REPO = path.resolve(import.meta.dirname, '../../../..');
const AZURITE_BIN = path.join(REPO, 'node_modules/.bin/azurite-blob');
// The well-known key of the Azure storage emulators' development account (public by design).
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const MB = 1024 * 1024;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function chunked(data: Buffer, size = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
    })(),
  );
}

async function drain(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function ids(store: BlobStore): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const id of store.list()) out.add(id);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

/** A TCP server that accepts connections and never answers: the worst kind of dead store. */
async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

interface Harness {
  name: 'file' | 's3' | 'azure';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A URL for a fresh, empty bucket/container/folder. */
  url(): string;
  /** URLs of the same kind of store that cannot be reached: nothing listening, and a black hole. */
  deadUrls(refusedPort: number, holePort: number): string[];
}

let tmpRoot = '';

function fileHarness(): Harness {
  let n = 0;
  return {
    name: 'file',
    start: async () => {},
    stop: async () => {},
    url: () => `file:${path.join(tmpRoot, `file-store-${n++}`)}`,
    deadUrls: () => [],
  };
}

function s3Harness(): Harness {
  let server: S3rver | undefined;
  let port = 0;
  let n = 0;
  const creds = 'accessKeyId=S3RVER&secretAccessKey=S3RVER';
  return {
    name: 's3',
    start: async () => {
      server = new S3rver({
        address: '127.0.0.1',
        port: 0,
        silent: true,
        directory: fs.mkdtempSync(path.join(tmpRoot, 's3rver-')),
      });
      port = (await server.run()).port;
    },
    stop: async () => {
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    },
    url: () =>
      `s3://contract-${n++}?endpoint=http://127.0.0.1:${port}&forcePathStyle=true&region=us-east-1&${creds}&create=true`,
    deadUrls: (refused, hole) =>
      [refused, hole].map(
        (p) =>
          `s3://dead?endpoint=http://127.0.0.1:${p}&forcePathStyle=true&${creds}` +
          '&timeoutMs=1000&connectTimeoutMs=1000&maxAttempts=1',
      ),
  };
}

let azurite: { child: ChildProcess; port: number } | undefined;

async function startAzurite(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      fs.realpathSync(AZURITE_BIN),
      '--inMemoryPersistence',
      '--extentMemoryLimit',
      '256',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--skipApiVersionCheck',
      '--loose',
      '--silent',
      '--disableTelemetry',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: tmpRoot },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += String(d);
      const m = /listens on https?:\/\/[^\s:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`azurite exited with ${code}: ${out}`)));
    setTimeout(() => reject(new Error(`azurite did not start: ${out}`)), 30_000).unref();
  });
  return { child, port };
}

function azureHarness(): Harness {
  let n = 0;
  const endpoint = () => `http://127.0.0.1:${azurite!.port}/${DEV_ACCOUNT}`;
  return {
    name: 'azure',
    start: async () => {
      azurite ??= await startAzurite();
    },
    stop: async () => {
      if (!azurite) return;
      const { child } = azurite;
      azurite = undefined;
      await new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      });
    },
    url: () =>
      `azure://contract-${n++}?account=${DEV_ACCOUNT}&key=${encodeURIComponent(DEV_KEY)}&endpoint=${endpoint()}&create=true`,
    deadUrls: (refused, hole) =>
      [refused, hole].map(
        (p) =>
          `azure://dead?account=${DEV_ACCOUNT}&key=${encodeURIComponent(DEV_KEY)}` +
          `&endpoint=http://127.0.0.1:${p}/${DEV_ACCOUNT}&timeoutMs=1000&maxAttempts=1`,
      ),
  };
}

beforeAll(() => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-blobs-'));
});
afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

const INVALID_IDS = [
  '../etc/passwd',
  '/etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '..\\..\\windows\\win.ini',
  '',
  '01m811yd35agt4qxv7rpfzp4v', // 25 characters
  '01m811yd35agt4qxv7rpfzp4v5x', // 27 characters
  '01M811YD35AGT4QXV7RPFZP4V5', // upper case
  '01m811yd35agt4qxv7rpfz/4v5', // a slash inside
  '01m811yd35agt4qxv7rpfz%2F5', // an encoded slash inside
  'iiiiiiiiiiiiiiiiiiiiiiiiii', // letters outside the id alphabet
];

describe.each([fileHarness(), s3Harness(), azureHarness()])('$name blob store', (h) => {
  let store: BlobStore;
  let storeUrl: string;

  beforeAll(async () => {
    await h.start();
    storeUrl = h.url();
    store = await createBlobStore(storeUrl);
  });
  afterAll(async () => {
    await store?.close();
    await h.stop();
  });

  it('reports itself ready and of the right kind', async () => {
    expect(store.kind).toBe(h.name);
    await expect(store.check()).resolves.toBeUndefined();
  });

  it('round-trips a small buffer with its size, type and sha256', async () => {
    const data = Buffer.from('¡hola, aula!\n', 'utf8');
    const info = await store.put(data, { contentType: 'text/plain; charset=utf-8' });
    expect(info).toEqual({
      id: expect.stringMatching(/^[0-9a-hjkmnp-tv-z]{26}$/),
      size: data.length,
      contentType: 'text/plain; charset=utf-8',
      sha256: sha(data),
    });
    expect(await store.head(info.id)).toEqual(info);
    expect(await store.getBuffer(info.id)).toEqual(data);
    expect(await drain(await store.get(info.id))).toEqual(data);
  });

  it('streams a multi-megabyte upload and download, hashing on the way', async () => {
    const data = randomBytes(12 * MB + 12_345);
    const info = await store.put(chunked(data), { contentType: 'video/mp4', maxBytes: 20 * MB });
    expect(info.size).toBe(data.length);
    expect(info.sha256).toBe(sha(data));
    expect(await store.head(info.id)).toEqual(info);
    const hash = createHash('sha256');
    let size = 0;
    for await (const c of await store.get(info.id)) {
      hash.update(c as Buffer);
      size += (c as Buffer).length;
    }
    expect(size).toBe(data.length);
    expect(hash.digest('hex')).toBe(info.sha256);
  });

  it('accepts parallel uploads and lists every id, and only ids', async () => {
    const datas = Array.from({ length: 5 }, (_, i) => Buffer.from(`blob ${i} `.repeat(1000 * (i + 1))));
    const infos = await Promise.all(datas.map((d) => store.put(chunked(d, 1000), { contentType: 'text/plain' })));
    const listed = await ids(store);
    for (const [i, info] of infos.entries()) {
      expect(listed.has(info.id)).toBe(true);
      expect((await store.getBuffer(info.id)).equals(datas[i])).toBe(true);
    }
    for (const id of listed) expect(id).toMatch(/^[0-9a-hjkmnp-tv-z]{26}$/);
  });

  it('deletes, and treats what is missing as missing', async () => {
    const info = await store.put(Buffer.from('short-lived'), { contentType: 'text/plain' });
    await store.delete(info.id);
    expect(await store.head(info.id)).toBeNull();
    expect((await ids(store)).has(info.id)).toBe(false);
    const get = await rejection(store.get(info.id));
    expect([get.status, get.code]).toEqual([404, 'not_found']);
    const buf = await rejection(store.getBuffer(info.id));
    expect([buf.status, buf.code]).toEqual([404, 'not_found']);
    // Deleting twice is not an error: sweeps and retries may repeat a delete.
    await expect(store.delete(info.id)).resolves.toBeUndefined();
    expect(await store.head(newBlobId())).toBeNull();
  });

  it('gives a signed URL that serves the bytes (or null where the API proxies)', async () => {
    const data = randomBytes(300_000);
    const info = await store.put(data, { contentType: 'image/jpeg' });
    const url = await store.signedUrl(info.id, 60);
    if (h.name === 'file') {
      expect(url).toBeNull();
      return;
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    const u = new URL(url!);
    if (h.name === 's3') {
      // s3rver checks the key but not a presigned URL's signature (a tampered one still reads), so check the form itself: a read, for 60 s.
      expect(u.searchParams.get('X-Amz-Expires')).toBe('60');
      expect(u.searchParams.get('X-Amz-Credential')).toMatch(/^S3RVER\//);
      expect(u.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
      expect(u.searchParams.get('x-id')).toBe('GetObject');
      return;
    }
    expect(u.searchParams.get('sp')).toBe('r');
    // The signature is what grants access: a tampered one is refused.
    const sig = u.searchParams.get('sig')!;
    u.searchParams.set('sig', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
    const forged = await fetch(u);
    expect(forged.status).toBe(403);
    await forged.arrayBuffer();
  });

  it('enforces the size limit while streaming and leaves nothing behind', async () => {
    const before = await ids(store);
    const small = await rejection(
      store.put(chunked(Buffer.alloc(2 * MB, 1)), { contentType: 'application/octet-stream', maxBytes: MB }),
    );
    expect([small.status, small.code]).toEqual([413, 'payload_too_large']);
    // Past the first multipart part (S3) or block (Azure) before the limit trips.
    const large = await rejection(
      store.put(chunked(randomBytes(10 * MB)), { contentType: 'video/mp4', maxBytes: 9 * MB }),
    );
    expect([large.status, large.code]).toEqual([413, 'payload_too_large']);
    const buffer = await rejection(store.put(Buffer.alloc(1001), { contentType: 'text/plain', maxBytes: 1000 }));
    expect([buffer.status, buffer.code]).toEqual([413, 'payload_too_large']);
    expect(await ids(store)).toEqual(before);
    if (h.name === 'file') {
      // No partial file or sidecar either.
      const root = storeUrl.slice('file:'.length);
      const files = fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      expect(files.filter((f) => f.name.endsWith('.part')).length).toBe(0);
      expect(files.filter((f) => !f.name.endsWith('.json')).length).toBe(before.size);
    }
    // Exactly at the limit is allowed.
    const exact = await store.put(chunked(Buffer.alloc(MB, 2)), { contentType: 'text/plain', maxBytes: MB });
    expect(exact.size).toBe(MB);
  });

  it('rejects every id it did not generate, before touching storage', async () => {
    for (const bad of INVALID_IDS) {
      for (const op of [
        () => store.get(bad),
        () => store.getBuffer(bad),
        () => store.head(bad),
        () => store.delete(bad),
        () => store.signedUrl(bad, 60),
      ]) {
        const err = await rejection(op());
        expect([err.status, err.code, bad]).toEqual([400, 'invalid_blob_id', bad]);
      }
    }
  });

  it('fails promptly with an error, never hangs, when the store is down', { timeout: 30_000 }, async () => {
    if (h.name === 'file') {
      // A folder replaced by a file (or an unmounted volume) is the file store's outage.
      const root = path.join(tmpRoot, 'file-down');
      const dead = await createBlobStore(`file:${root}`);
      fs.rmSync(root, { recursive: true });
      fs.writeFileSync(root, 'not a folder');
      await expect(dead.check()).rejects.toThrow();
      const err = await rejection(dead.put(Buffer.from('x'), { contentType: 'text/plain' }));
      expect([err.status, err.code]).toEqual([503, 'blob_store_unavailable']);
      await dead.close();
      return;
    }
    const refused = await freePort();
    const hole = await blackHole();
    try {
      for (const url of h.deadUrls(refused, hole.port)) {
        const dead = await createBlobStore(url);
        await expect(dead.check()).rejects.toThrow();
        const a = await rejection(dead.put(Buffer.from('x'), { contentType: 'text/plain' }));
        expect([a.status, a.code]).toEqual([503, 'blob_store_unavailable']);
        const b = await rejection(dead.put(chunked(Buffer.alloc(100_000)), { contentType: 'text/plain' }));
        expect([b.status, b.code]).toEqual([503, 'blob_store_unavailable']);
        const c = await rejection(dead.getBuffer(newBlobId()));
        expect(c.status).toBe(503);
        await dead.close();
      }
    } finally {
      await hole.close();
    }
  });
});

describe('S3 specifics', () => {
  const h = s3Harness();
  beforeAll(() => h.start());
  afterAll(() => h.stop());

  it('names a missing bucket when create is off, and keeps prefixed keys apart', async () => {
    const base = h.url();
    const missing = await createBlobStore(base.replace('&create=true', ''));
    await expect(missing.check()).rejects.toThrow(/bucket contract-\d+ does not exist \(add create=true/);
    await missing.close();

    const root = await createBlobStore(base);
    const bucket = /^s3:\/\/([^?]+)/.exec(base)![1];
    const tenant = await createBlobStore(base.replace(`s3://${bucket}?`, `s3://${bucket}/tenant-a?`));
    const a = await root.put(Buffer.from('root'), { contentType: 'text/plain' });
    const b = await tenant.put(Buffer.from('tenant'), { contentType: 'text/plain' });
    expect([...(await ids(root))]).toEqual([a.id]);
    expect([...(await ids(tenant))]).toEqual([b.id]);
    expect((await tenant.getBuffer(b.id)).toString()).toBe('tenant');
    expect(await root.head(b.id)).toBeNull();
    await root.close();
    await tenant.close();
  });
});

describe('Azure specifics', () => {
  const h = azureHarness();
  beforeAll(() => h.start());
  afterAll(() => h.stop());

  it('works with a container SAS but signs no URLs with it', async () => {
    const url = h.url();
    const keyed = await createBlobStore(url);
    await keyed.check(); // creates the container
    const container = /^azure:\/\/([^?]+)/.exec(url)![1];
    const sas = generateBlobSASQueryParameters(
      {
        containerName: container,
        permissions: ContainerSASPermissions.parse('racwdl'),
        startsOn: new Date(Date.now() - 60_000),
        expiresOn: new Date(Date.now() + 3_600_000),
      },
      new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY),
    ).toString();
    const endpoint = `http://127.0.0.1:${azurite!.port}/${DEV_ACCOUNT}`;
    const viaSas = await createBlobStore(
      `azure://${container}?account=${DEV_ACCOUNT}&sas=${encodeURIComponent(sas)}&endpoint=${endpoint}`,
    );
    const info = await viaSas.put(chunked(Buffer.from('through a SAS')), { contentType: 'text/plain' });
    expect((await keyed.getBuffer(info.id)).toString()).toBe('through a SAS');
    expect(await viaSas.head(info.id)).toEqual(info);
    expect(await viaSas.signedUrl(info.id, 60)).toBeNull();
    await expect(viaSas.check()).resolves.toBeUndefined();
    await viaSas.close();
    await keyed.close();
  });

  it('names a missing container when create is off', async () => {
    const missing = await createBlobStore(h.url().replace('&create=true', ''));
    await expect(missing.check()).rejects.toThrow(/container contract-\d+ does not exist \(add create=true/);
    await missing.close();
  });
});
