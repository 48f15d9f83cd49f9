import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGrpcServer, type GrpcServerHandle } from '../grpc/server.ts';
import { parseRoster } from '../modules/academics/roster-import.ts';
import { buildZip } from '../modules/analysis/zip-fixtures.ts';
import { extractZip } from '../modules/analysis/zip.ts';
import { gifBomb, pngBomb, webpBomb } from '../platform/image-fixtures.ts';
import { normalizeImage, probeImage } from '../platform/images.ts';
import { AppError } from '../platform/errors.ts';
import { createTestApp, type TestApp } from '../test/app.ts';
import { buildToken, buildUser, loginAs, type Session } from '../test/factories.ts';
import { fuzzRuns } from '../test/reliability.ts';
import { bytes, mutate, NASTY_STRINGS, rssMiB, RSS_BOUND_BYTES } from './fuzz-support.ts';
import { ROOT } from './processes.ts';

/**
 * Structure-aware fuzzing of the product's parsers and upload paths: multipart bodies, roster CSV,
 * lab zips, gRPC messages (against the real gRPC server) and image decoders. The expectation is
 * always a 4xx or a per-item error: never a 5xx, a crash, a hang over 5 s or unbounded memory.
 */

const SLOW_MS = 5_000;
const MAX_PIXELS = 50_000_000;
const SAMPLE_DIR = path.join(ROOT, '../shared/data');

function samplePhoto(): Buffer {
  // Any photo of the shared test set will do as a seed for mutations.
  const walk = (dir: string): string | undefined => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isFile() && /\.jpe?g$/i.test(e.name)) return p;
      if (e.isDirectory()) {
        const found = walk(p);
        if (found) return found;
      }
    }
    return undefined;
  };
  const file = walk(SAMPLE_DIR);
  if (!file) throw new Error(`no JPEG under ${SAMPLE_DIR}`);
  return fs.readFileSync(file);
}

/** Throws unless `err` is a product error of the client's making (a per-item or 4xx error). */
function expectClientError(err: unknown, what: string): void {
  if (err instanceof AppError && err.status < 500) return;
  throw new Error(`${what}: ${(err as Error)?.stack ?? String(err)}`);
}

async function timed<T>(what: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await run();
  const ms = performance.now() - t0;
  if (ms > SLOW_MS) throw new Error(`${what} took ${Math.round(ms)} ms`);
  return out;
}

let seeds: { jpeg: Buffer; png: Buffer; webp: Buffer };

beforeAll(async () => {
  const jpeg = await sharp(samplePhoto()).resize(160, 160, { fit: 'inside' }).jpeg({ quality: 70 }).toBuffer();
  seeds = {
    jpeg,
    png: await sharp(jpeg).png().toBuffer(),
    webp: await sharp(jpeg).webp({ quality: 60 }).toBuffer(),
  };
});

describe('image decoders', () => {
  it('turn mutated JPEG, PNG and WebP files into a clear refusal or an image', async () => {
    const arb = fc.oneof(mutate(seeds.jpeg), mutate(seeds.png), mutate(seeds.webp), bytes(2048));
    let decoded = 0;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(arb, async (buf) => {
        try {
          await timed('probe', () => probeImage(buf, MAX_PIXELS));
          await timed('normalize', () => normalizeImage(buf, MAX_PIXELS, { full: 256, thumb: 64 }));
          decoded++;
        } catch (err) {
          expectClientError(err, `decoding ${buf.subarray(0, 16).toString('hex')}…`);
        }
        if (++n % 100 === 0) expect(process.memoryUsage().rss, `rss ${rssMiB()} MiB`).toBeLessThan(RSS_BOUND_BYTES);
      }),
      { numRuns: fuzzRuns(150) },
    );
    console.info(`image fuzz: ${n} cases, ${decoded} still decodable`);
  });

  it('refuses decompression bombs before allocating them', async () => {
    for (const bomb of [pngBomb(100_000, 100_000), gifBomb(), await webpBomb(16_000)]) {
      const before = process.memoryUsage().rss;
      await expect(timed('bomb', () => probeImage(bomb, MAX_PIXELS))).rejects.toSatisfy(
        (e) => e instanceof AppError && e.status < 500,
      );
      expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 ** 2);
    }
  });
});

describe('roster CSV parser', () => {
  it('reports line-numbered errors, never throws otherwise', async () => {
    const valid = Buffer.from(
      'student_code,full_name,email\n201900001,Ana López,ana@example.com\n201900002,"Luis, Jr.",luis@example.com\n',
    );
    const cell = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(...NASTY_STRINGS.filter((s) => s.length < 1000), '"', '""', '"a""b', ';', '\t'),
    );
    const csvText = fc
      .tuple(
        fc.constantFrom(',', ';', '\t', '|'),
        fc.array(fc.array(cell, { maxLength: 5 }), { maxLength: 20 }),
        fc.boolean(),
      )
      .map(([sep, rows, bom]) =>
        Buffer.from(
          (bom ? '\ufeff' : '') +
            [['student_code', 'full_name', 'email'], ...rows]
              .map((r) => r.join(sep))
              .join(fc.sample(fc.constantFrom('\n', '\r\n', '\r'), 1)[0]),
        ),
      );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(csvText, mutate(valid), bytes(1024)), async (buf) => {
        n++;
        try {
          const r = await timed('parseRoster', async () => parseRoster(buf));
          for (const e of r.errors) expect(e.line).toBeGreaterThanOrEqual(1);
        } catch (err) {
          expectClientError(err, 'parseRoster');
        }
      }),
      { numRuns: fuzzRuns(300) },
    );
    console.info(`roster CSV fuzz: ${n} cases`);
  });
});

describe('lab zip extraction', () => {
  it('refuses hostile or broken archives with a 400, never a crash', async () => {
    const limits = { maxEntries: 50, maxEntryBytes: 10 * 1024 ** 2, maxTotalBytes: 20 * 1024 ** 2, maxRatio: 100 };
    const entry = fc.record({
      name: fc.oneof(
        fc.constantFrom(
          'a.jpg',
          'dir/b.png',
          '../evil.jpg',
          '/abs.jpg',
          'C:\\x.jpg',
          'a/../../b.jpg',
          '',
          '.',
          'ñ.webp',
        ),
        fc.string({ maxLength: 40 }),
      ),
      data: fc.oneof(fc.constant(seeds?.jpeg ?? Buffer.alloc(0)), bytes(512), fc.constant(Buffer.alloc(200_000))),
      method: fc.constantFrom<'store' | 'deflate'>('store', 'deflate'),
      encrypted: fc.boolean(),
      declaredSize: fc.option(fc.oneof(fc.nat(), fc.constant(0xffffffff)), { nil: undefined }),
    });
    const zipArb = fc
      .array(entry, { maxLength: 6 })
      .map((es) => buildZip(es))
      .chain((z) => fc.oneof(fc.constant(z), mutate(z)));
    let n = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 5, arbitrary: zipArb }, { weight: 1, arbitrary: bytes(2048) }),
        async (buf) => {
          n++;
          try {
            await timed('extractZip', () => extractZip(buf, limits));
            accepted++;
          } catch (err) {
            expectClientError(err, 'extractZip');
          }
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
    console.info(`zip fuzz: ${n} cases, ${accepted} accepted`);
  });
});

describe('uploads over HTTP', () => {
  let t: TestApp;
  let teacher: Session;
  let offeringId: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { WORKERS: '1', MEDIA_AUTO_OCR: 'false' } });
    const admin = await loginAs(t.app, await buildUser(t.ctx, { role: 'admin' }));
    const tu = await buildUser(t.ctx, { role: 'teacher' });
    teacher = await loginAs(t.app, tu);
    const post = async (url: string, payload: unknown) => {
      const r = await t.app.inject({
        method: 'POST',
        url: `/api/v1${url}`,
        headers: admin.headers,
        payload: payload as object,
      });
      if (r.statusCode !== 201) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
      return r.json<{ id: string }>();
    };
    const sem = await post('/semesters', { year: 2025, term: 1, startsOn: '2025-01-01', endsOn: '2025-06-30' });
    const course = await post('/courses', { code: 'FZ1', name: 'Fuzzing' });
    offeringId = (await post('/offerings', { courseId: course.id, semesterId: sem.id, teacherId: tu.user.id })).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  const part = fc.record({
    name: fc.oneof(
      fc.constantFrom('file', 'files', 'model', 'parameters', 'albumId', 'title', 'shared'),
      fc.string({ maxLength: 12 }),
    ),
    filename: fc.option(
      fc.oneof(fc.constantFrom('a.jpg', '../../x.png', 'a.zip', 'r.csv', ''), fc.string({ maxLength: 20 })),
    ),
    type: fc.constantFrom(
      'image/jpeg',
      'image/png',
      'application/zip',
      'text/csv',
      'application/octet-stream',
      '',
      'x/\u0000',
    ),
    data: fc.oneof(
      fc.constant('jpeg'),
      fc.constant('zip'),
      fc.string({ maxLength: 60 }).map((s) => Buffer.from(s)),
      bytes(1024),
    ),
  });

  /** A multipart body built from parts, then (sometimes) damaged: cut short, boundary lost, headers garbled. */
  const multipartArb = fc
    .tuple(
      fc.array(part, { maxLength: 4 }),
      fc.constantFrom('ok', 'truncate', 'no-close', 'bad-boundary', 'garble'),
      fc.nat(),
    )
    .map(([parts, damage, cut]) => {
      const boundary = `----fuzz${parts.length}x`;
      const chunks: Buffer[] = [];
      for (const p of parts) {
        const data =
          p.data === 'jpeg'
            ? seeds.jpeg
            : p.data === 'zip'
              ? buildZip([{ name: 'a.jpg', data: seeds.jpeg }])
              : (p.data as Buffer);
        const disp = `form-data; name="${p.name}"${p.filename !== null ? `; filename="${p.filename}"` : ''}`;
        chunks.push(
          Buffer.from(`--${boundary}\r\nContent-Disposition: ${disp}\r\nContent-Type: ${p.type}\r\n\r\n`),
          data,
          Buffer.from('\r\n'),
        );
      }
      if (damage !== 'no-close') chunks.push(Buffer.from(`--${boundary}--\r\n`));
      let body = Buffer.concat(chunks);
      if (damage === 'truncate') body = body.subarray(0, cut % (body.length + 1));
      if (damage === 'garble' && body.length) body[cut % body.length] ^= 0xff;
      const header =
        damage === 'bad-boundary' ? 'multipart/form-data; boundary=' : `multipart/form-data; boundary=${boundary}`;
      return { body, header };
    });

  it('answers multipart uploads to every upload route with a 4xx or per-file errors', async () => {
    const routes = [
      '/api/v1/me/photo',
      '/api/v1/images',
      '/api/v1/analyses',
      `/api/v1/offerings/${offeringId}/roster`,
      `/api/v1/offerings/${offeringId}/gradebook/import`,
    ];
    const statuses = new Map<number, number>();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), multipartArb, async (url, m) => {
        const t0 = performance.now();
        const res = await t.app.inject({
          method: url.endsWith('/photo') ? 'PUT' : 'POST',
          url,
          headers: { ...teacher.headers, 'content-type': m.header },
          payload: m.body,
        });
        const ms = performance.now() - t0;
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        const where = `${url} ${res.statusCode} ${res.body.slice(0, 300)}`;
        expect(res.statusCode, where).toBeLessThan(500);
        expect(ms, where).toBeLessThan(SLOW_MS);
        if (++n % 50 === 0) expect(process.memoryUsage().rss, `rss ${rssMiB()} MiB`).toBeLessThan(RSS_BOUND_BYTES);
      }),
      { numRuns: fuzzRuns(150) },
    );
    console.info(`multipart fuzz: ${n} cases; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  });

  it('answers roster CSV imports with a 4xx or line-numbered errors', async () => {
    const valid = 'student_code,full_name,email\n201900001,Ana López,ana@example.com\n';
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutate(Buffer.from(valid)), bytes(1024)), async (csv) => {
        n++;
        const res = await t.app.inject({
          method: 'POST',
          url: `/api/v1/offerings/${offeringId}/roster`,
          headers: { ...teacher.headers, 'content-type': 'text/csv' },
          payload: csv,
        });
        expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
      }),
      { numRuns: fuzzRuns(150) },
    );
    console.info(`roster import fuzz: ${n} cases`);
  });
});

describe('gRPC ingest', () => {
  let t: TestApp;
  let server: GrpcServerHandle;
  let token: string;
  let client: grpc.Client;

  beforeAll(async () => {
    t = await createTestApp();
    server = await startGrpcServer(t.ctx, { host: '127.0.0.1', port: 0 });
    const u = await buildUser(t.ctx, { role: 'teacher' });
    token = await buildToken(t.ctx, u.user.id, ['grades:write']);
    client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await server?.stop(1000);
    await t?.close();
  });

  /** A valid SubmitBatch message, encoded by hand (fields 1..7 of Grade inside field 1). */
  const encodeGrade = (g: {
    code: string;
    name: string;
    course: string;
    semester: number;
    year: number;
    score: number;
    key: string;
  }) => {
    const str = (field: number, s: string) => {
      const b = Buffer.from(s);
      return Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
    };
    const varint = (field: number, v: number) => {
      const out = [(field << 3) | 0];
      let x = v >>> 0;
      while (x > 0x7f) {
        out.push((x & 0x7f) | 0x80);
        x >>>= 7;
      }
      out.push(x);
      return Buffer.from(out);
    };
    const double = (field: number, v: number) => {
      const b = Buffer.alloc(9);
      b[0] = (field << 3) | 1;
      b.writeDoubleLE(v, 1);
      return b;
    };
    return Buffer.concat([
      str(1, g.code),
      str(2, g.name),
      str(3, g.course),
      varint(4, g.semester),
      varint(5, g.year),
      double(6, g.score),
      str(7, g.key),
    ]);
  };

  it('answers random bytes and mutated valid messages with a clear status, never INTERNAL', async () => {
    const grade = encodeGrade({
      code: '201900001',
      name: 'Ana',
      course: 'SO1',
      semester: 1,
      year: 2025,
      score: 80,
      key: 'k1',
    });
    const batch = Buffer.concat([Buffer.from([0x0a, grade.length]), grade]);
    const codes = new Map<string, number>();
    let n = 0;
    const call = (method: string, payload: Buffer) =>
      new Promise<grpc.StatusObject | { code: 0 }>((resolve) => {
        const md = new grpc.Metadata();
        md.set('authorization', `Bearer ${token}`);
        client.makeUnaryRequest(
          method,
          (b: Buffer) => b,
          (b: Buffer) => b,
          payload,
          md,
          { deadline: Date.now() + SLOW_MS },
          (err) => resolve(err ? (err as grpc.StatusObject) : { code: 0 }),
        );
      });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/aula.grades.v1.Grades/Submit', '/aula.grades.v1.Grades/SubmitBatch'),
        fc.oneof(mutate(grade), mutate(batch), bytes(512)),
        async (method, payload) => {
          n++;
          const r = await call(method, payload);
          const name = grpc.status[r.code];
          codes.set(name, (codes.get(name) ?? 0) + 1);
          expect(r.code, `${method} ${payload.toString('hex').slice(0, 120)}: ${JSON.stringify(r)}`).not.toBe(
            grpc.status.INTERNAL,
          );
          expect(r.code).not.toBe(grpc.status.DEADLINE_EXCEEDED);
          expect(r.code).not.toBe(grpc.status.UNKNOWN);
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
    console.info(`gRPC fuzz: ${n} cases; codes ${JSON.stringify(Object.fromEntries(codes))}`);
  });
});
