import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngBomb } from '../../platform/image-fixtures.ts';
import { REALTIME_CHANNEL } from '../../realtime/sockets.ts';
import type { QueueWorker } from '../../platform/queue/index.ts';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { buildToken, type Session, signedIn } from '../../test/factories.ts';
import { renderTextImage } from '../../vision/ocr-fixtures.ts';
import { multipartBody } from './multipart-body.ts';
import { buildZip } from './zip-fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../../../..');
const DATA = path.resolve(ROOT, '../shared/data');
const photo = (rel: string) => fs.readFileSync(path.join(DATA, rel));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

type Json = Record<string, any>;

let t: TestApp;
let workers: QueueWorker | undefined;

beforeAll(async () => {
  t = await createTestApp({ env: { WORKERS: '1' } });
  await t.ctx.vision.start();
  workers = await t.ctx.background.start();
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
});

const get = (s: Session, url: string) => t.app.inject({ url: `/api/v1${url}`, headers: s.headers });

function analyse(
  auth: Session | Record<string, string>,
  files: { filename: string; data: Buffer }[],
  fields: Record<string, string>,
) {
  const m = multipartBody(
    files.map((f) => ({ field: 'files', ...f })),
    fields,
  );
  const headers = 'headers' in auth ? (auth as Session).headers : auth;
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/analyses',
    headers: { ...headers, ...m.headers },
    payload: m.payload,
  });
}

async function finished(s: Session, id: string): Promise<Json> {
  await t.ctx.background.idle();
  const res = await get(s, `/analyses/${id}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Json>();
}

describe('analysis lab', () => {
  it('runs a model over a zip: results per image, per-file errors, live progress', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const computer = photo('scenes/with_computer.jpg');
    const coco = photo('scenes/coco-image1.jpg');
    const zip = buildZip([
      { name: 'batch/with_computer.jpg', data: computer, method: 'store' },
      { name: 'batch/notes.txt', data: Buffer.from('not an image') },
      { name: 'batch/empty.jpg', data: Buffer.alloc(0) },
      { name: 'batch/bomb.png', data: pngBomb(40_000, 40_000) },
      { name: 'batch/coco.jpg', data: coco },
    ]);
    const events: Json[] = [];
    const off = t.ctx.bus.subscribe(REALTIME_CHANNEL, (m) => events.push(m as Json));
    try {
      const res = await analyse(me, [{ filename: 'batch.zip', data: zip }], {
        model: 'objects',
        parameters: JSON.stringify({ minConfidence: 0.3 }),
      });
      expect(res.statusCode, res.body).toBe(202);
      const started = res.json();
      expect(started).toMatchObject({
        model: 'objects',
        source: 'lab',
        total: 5,
        failed: 3,
        parameters: { minConfidence: 0.3, maxResults: 20 },
        userId: me.user.id,
      });

      const job = await finished(me, started.id);
      expect(job).toMatchObject({ status: 'done', total: 5, processed: 5, failed: 3, error: null });
      expect(job.inputs.map((i: Json) => [i.filename, i.status, i.errorCode])).toEqual([
        ['batch/with_computer.jpg', 'done', null],
        ['batch/notes.txt', 'failed', 'unsupported_media_type'],
        ['batch/empty.jpg', 'failed', 'empty_file'],
        ['batch/bomb.png', 'failed', 'image_too_large'],
        ['batch/coco.jpg', 'done', null],
      ]);
      expect(job.predictions).toHaveLength(2);
      const models = (await get(me, '/models')).json<Json[]>();
      const objects = models.find((m) => m.name === 'objects')!;
      const first = job.predictions.find((p: Json) => p.id === job.inputs[0].predictionId);
      expect(first).toMatchObject({
        jobId: job.id,
        userId: me.user.id,
        source: 'lab',
        model: 'objects',
        modelVersion: objects.version,
        weightsSha256: objects.weightsSha256,
        parameters: { minConfidence: 0.3, maxResults: 20 },
        inputSha256: sha(computer),
      });
      expect(first.output.objects.map((o: Json) => o.label)).toContain('laptop');
      expect(first.output.objects.every((o: Json) => o.score >= 0.3)).toBe(true);
      expect(first.durationMs).toBeGreaterThan(0);

      const img = await get(me, `/analyses/${job.id}/inputs/${job.inputs[0].id}/image`);
      expect(img.statusCode).toBe(200);
      expect(img.rawPayload.equals(computer)).toBe(true);
      expect((await get(me, `/analyses/${job.id}/inputs/${job.inputs[1].id}/image`)).statusCode).toBe(404);

      const progress = events
        .filter((e) => e.room === `job:${job.id}` && e.event === 'analysis.progress')
        .map((e) => e.payload);
      expect(progress.length).toBeGreaterThanOrEqual(3);
      expect(progress.map((p: Json) => p.processed)).toEqual(
        [...progress.map((p: Json) => p.processed)].sort((a, b) => a - b),
      );
      expect(progress.at(-1)).toMatchObject({ status: 'done', processed: 5 });

      const list = (await get(me, '/analyses')).json();
      expect(list.items.map((j: Json) => j.id)).toEqual([job.id]);

      // "Run again" repeats the stored images only; the object model gives the same answer.
      const again = await t.app.inject({
        method: 'POST',
        url: `/api/v1/analyses/${job.id}/rerun`,
        headers: me.headers,
      });
      expect(again.statusCode, again.body).toBe(202);
      const second = await finished(me, again.json().id);
      expect(second).toMatchObject({
        status: 'done',
        rerunOf: job.id,
        total: 2,
        failed: 0,
        parameters: job.parameters,
      });
      expect(second.inputs.map((i: Json) => [i.filename, i.sha256])).toEqual(
        [job.inputs[0], job.inputs[4]].map((i: Json) => [i.filename, i.sha256]),
      );
      const byInput = (j: Json) => j.inputs.map((i: Json) => j.predictions.find((p: Json) => p.id === i.predictionId));
      expect(byInput(second).map((p: Json) => p.output)).toEqual(
        [job.inputs[0], job.inputs[4]].map(
          (i: Json) => job.predictions.find((p: Json) => p.id === i.predictionId).output,
        ),
      );
    } finally {
      off();
    }
  });

  it('refuses unknown models, parameters outside the schema and hostile archives, storing nothing', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const img = { filename: 'a.jpg', data: photo('scenes/coco-image1.jpg') };
    const entry = { name: img.filename, data: img.data };
    const cases: [Record<string, string>, { filename: string; data: Buffer }[], number, string][] = [
      [{ model: 'no-such-model' }, [img], 404, 'unknown_model'],
      [{ model: 'objects', parameters: '{"minConfidence": 5}' }, [img], 400, 'invalid_parameters'],
      [{ model: 'objects', parameters: '{"colour": "red"}' }, [img], 400, 'invalid_parameters'],
      [{ model: 'objects', parameters: 'not json' }, [img], 400, 'validation_failed'],
      [{ model: 'face-identification', parameters: '{"gallery": "everyone"}' }, [img], 400, 'unknown_gallery'],
      [{ model: 'face-identification', parameters: '{"gallery": "login"}' }, [img], 403, 'gallery_forbidden'],
      [{ parameters: '{}' }, [img], 400, 'validation_failed'],
      [{ model: 'objects' }, [], 400, 'file_required'],
      [{ model: 'objects' }, [img, { filename: 'b.zip', data: buildZip([entry]) }], 400, 'zip_must_be_alone'],
      [
        { model: 'objects' },
        [{ filename: 'bomb.zip', data: buildZip([{ name: 'zeros.jpg', data: Buffer.alloc(16 << 20) }]) }],
        400,
        'zip_bomb',
      ],
      [
        { model: 'objects' },
        [{ filename: 'up.zip', data: buildZip([entry, { name: '../../etc/cron.d/x.jpg', data: img.data }]) }],
        400,
        'zip_unsafe_path',
      ],
      [
        { model: 'objects' },
        [{ filename: 'abs.zip', data: buildZip([{ name: '/tmp/x.jpg', data: img.data }]) }],
        400,
        'zip_unsafe_path',
      ],
      [
        { model: 'objects' },
        [{ filename: 'locked.zip', data: buildZip([{ name: 'x.jpg', data: img.data, encrypted: true }]) }],
        400,
        'zip_encrypted',
      ],
      [{ model: 'objects' }, [{ filename: 'empty.zip', data: buildZip([]) }], 400, 'no_inputs'],
    ];
    for (const [fields, files, status, code] of cases) {
      const res = await analyse(me, files, fields);
      expect([res.statusCode, res.json().code], `${code}: ${res.body}`).toEqual([status, code]);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    const paramErr = (await analyse(me, [img], { model: 'objects', parameters: '{"minConfidence": 5}' })).json();
    expect(paramErr.errors[0].path).toBe('minConfidence');
    expect((await get(me, '/analyses')).json().total).toBe(0);
    expect((await get(me, '/predictions')).json().total).toBe(0);
  });

  it('keeps going past loose files that are empty or not images, each with its own error', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const res = await analyse(
      me,
      [
        { filename: 'empty.jpg', data: Buffer.alloc(0) },
        { filename: 'coco.jpg', data: photo('scenes/coco-image1.jpg') },
        { filename: 'notes.pdf', data: Buffer.from('%PDF-1.4 not an image') },
      ],
      { model: 'objects' },
    );
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ total: 3, failed: 2 });
    const job = await finished(me, res.json().id);
    expect(job).toMatchObject({ status: 'done', processed: 3, failed: 2 });
    expect(job.inputs.map((i: Json) => [i.filename, i.status, i.errorCode, i.hasImage])).toEqual([
      ['empty.jpg', 'failed', 'empty_file', false],
      ['coco.jpg', 'done', null, true],
      ['notes.pdf', 'failed', 'unsupported_media_type', false],
    ]);
    expect(job.inputs[0].error).toBeTruthy();
    expect(job.predictions).toHaveLength(1);

    // Nothing usable at all: the job still ends, failed, with the reasons per file.
    const none = await analyse(me, [{ filename: 'empty.png', data: Buffer.alloc(0) }], { model: 'objects' });
    expect(none.statusCode).toBe(202);
    const failed = await finished(me, none.json().id);
    expect(failed).toMatchObject({ status: 'failed', failed: 1 });
    expect(failed.error).toMatch(/No image could be analysed/);
    const rerun = await t.app.inject({
      method: 'POST',
      url: `/api/v1/analyses/${failed.id}/rerun`,
      headers: me.headers,
    });
    expect([rerun.statusCode, rerun.json().code]).toEqual([409, 'no_inputs']);
  });

  it('repeats an analysis with the same model version and parameters, with identical output', async () => {
    const me = await signedIn(t.app, t.ctx, 'teacher');
    const files = [
      { filename: 'kit_with_rose.jpg', data: photo('faces/probes/kit_with_rose.jpg') },
      { filename: 'page.png', data: await renderTextImage(['Rerun me.']) },
    ];
    const res = await analyse(me, files, {
      model: 'face-detection',
      parameters: '{"minConfidence": 0.4, "tiling": "off"}',
    });
    expect(res.statusCode, res.body).toBe(202);
    const first = await finished(me, res.json().id);
    expect(first.status).toBe('done');

    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/analyses/${first.id}/rerun`,
      headers: me.headers,
    });
    expect(again.statusCode, again.body).toBe(202);
    const second = await finished(me, again.json().id);
    expect(second).toMatchObject({
      status: 'done',
      rerunOf: first.id,
      model: first.model,
      modelVersion: first.modelVersion,
      weightsSha256: first.weightsSha256,
      parameters: first.parameters,
      total: 2,
    });
    const outputs = (j: Json) => j.inputs.map((i: Json) => j.predictions.find((p: Json) => p.id === i.predictionId));
    const [a, b] = [outputs(first), outputs(second)];
    expect(a[0].output.faces).toHaveLength(2);
    for (let i = 0; i < a.length; i++) {
      expect(b[i].inputSha256).toBe(a[i].inputSha256);
      expect(b[i].id).not.toBe(a[i].id);
      expect(b[i].output).toEqual(a[i].output);
    }

    // OCR is a model like the others: run again, same text.
    const ocr = await analyse(me, [files[1]], { model: 'ocr', parameters: '{"lang": "eng"}' });
    const ocrJob = await finished(me, ocr.json().id);
    expect(ocrJob.predictions[0].output.text).toBe('Rerun me.');
    expect(ocrJob.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    const ocr2 = await t.app.inject({
      method: 'POST',
      url: `/api/v1/analyses/${ocrJob.id}/rerun`,
      headers: me.headers,
    });
    const ocrJob2 = await finished(me, ocr2.json().id);
    expect(ocrJob2.predictions[0].output).toEqual(ocrJob.predictions[0].output);

    const stranger = await signedIn(t.app, t.ctx, 'student');
    expect(
      (await t.app.inject({ method: 'POST', url: `/api/v1/analyses/${first.id}/rerun`, headers: stranger.headers }))
        .statusCode,
    ).toBe(404);
    expect((await get(stranger, `/analyses/${first.id}`)).statusCode).toBe(404);
  });
});

describe('prediction ledger', () => {
  it('answers queries by model, user, time and input hash; users see their own, admins all; exports CSV and JSON', async () => {
    const alice = await signedIn(t.app, t.ctx, 'student');
    const bob = await signedIn(t.app, t.ctx, 'student');
    const admin = await signedIn(t.app, t.ctx, 'admin');
    const predict = async (s: Session, model: string, file: Buffer, parameters = '{}') => {
      const m = multipartBody([{ filename: 'in.png', data: file }], { parameters });
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/models/${model}/predictions`,
        headers: { ...s.headers, ...m.headers },
        payload: m.payload,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<Json>();
    };
    const page = await renderTextImage(['Ledger entry one.']);
    const coco = photo('scenes/coco-image2.jpg');
    const before = Date.now();
    const p1 = await predict(alice, 'ocr', page, '{"lang": "eng"}');
    const p2 = await predict(alice, 'objects', coco);
    const p3 = await predict(bob, 'objects', coco);
    expect(p1).toMatchObject({
      model: 'ocr',
      jobId: null,
      source: 'lab',
      inputSha256: sha(page),
      parameters: { lang: 'eng', minConfidence: 0 },
    });
    expect(p1.output.text).toBe('Ledger entry one.');

    const mine = (await get(alice, '/predictions')).json();
    expect(mine.items.map((p: Json) => p.id)).toEqual([p2.id, p1.id]);
    expect((await get(alice, '/predictions?model=ocr')).json().items.map((p: Json) => p.id)).toEqual([p1.id]);
    expect((await get(alice, `/predictions?input_sha256=${sha(coco)}`)).json().items.map((p: Json) => p.id)).toEqual([
      p2.id,
    ]);
    expect((await get(alice, `/predictions?to=${before}`)).json().total).toBe(0);
    // `from` is inclusive, `to` exclusive: the window between two rows holds exactly the first.
    const window = (await get(alice, `/predictions?from=${p1.createdAt}&to=${p2.createdAt}`)).json();
    expect(window.items.map((p: Json) => p.id)).toEqual([p1.id]);
    expect((await get(alice, `/predictions?from=${Date.parse(p2.createdAt)}`)).json().items[0].id).toBe(p2.id);
    expect((await get(alice, `/predictions?from=${new Date(before).toISOString()}`)).json().total).toBe(2);
    expect((await get(alice, '/predictions?limit=1&offset=1')).json()).toMatchObject({
      total: 2,
      limit: 1,
      offset: 1,
      items: [{ id: p1.id }],
    });
    expect((await get(alice, `/predictions?user=${bob.user.id}`)).statusCode).toBe(403);
    expect((await get(alice, `/predictions/${p3.id}`)).statusCode).toBe(404);
    expect((await get(alice, `/predictions/${p1.id}`)).json()).toEqual(p1);
    // The ledger has no way to change or remove a row.
    for (const method of ['PATCH', 'PUT', 'DELETE'] as const) {
      const res = await t.app.inject({
        method,
        url: `/api/v1/predictions/${p1.id}`,
        headers: alice.headers,
        payload: { output: { text: 'forged' } },
      });
      expect(res.statusCode, method).toBe(404);
      const asAdmin = await t.app.inject({ method, url: `/api/v1/predictions/${p1.id}`, headers: admin.headers });
      expect(asAdmin.statusCode, method).toBe(404);
    }
    expect((await get(alice, `/predictions/${p1.id}`)).json()).toEqual(p1);
    expect((await get(alice, `/predictions/${p1.id}/input`)).rawPayload.equals(page)).toBe(true);
    expect((await get(alice, '/predictions?from=yesterday')).statusCode).toBe(400);
    expect((await get(alice, '/predictions?colour=red')).statusCode).toBe(400);
    expect((await get(alice, '/predictions?input_sha256=abc')).statusCode).toBe(400);

    const all = (await get(admin, `/predictions?input_sha256=${sha(coco)}`)).json();
    expect(all.items.map((p: Json) => p.id)).toEqual([p3.id, p2.id]);
    expect((await get(admin, `/predictions?user=${bob.user.id}`)).json().items.map((p: Json) => p.id)).toEqual([p3.id]);

    const csv = await get(alice, '/predictions/export?format=csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="predictions-.*\.csv"/);
    const rows = parse<Record<string, string>>(csv.body, { columns: true });
    expect(rows.map((r) => r.id)).toEqual([p1.id, p2.id]);
    expect(rows[0]).toMatchObject({ model: 'ocr', user_id: alice.user.id, input_sha256: sha(page), job_id: '' });
    expect(JSON.parse(rows[0].output)).toEqual(p1.output);
    expect(JSON.parse(rows[0].parameters)).toEqual(p1.parameters);

    const json = await get(alice, '/predictions/export?format=json&model=objects');
    expect(json.headers['content-type']).toContain('application/json');
    expect(JSON.parse(json.body)).toEqual([p2]);
    expect(JSON.parse((await get(bob, '/predictions/export?model=ocr')).body)).toEqual([]);
    expect((await get(alice, `/predictions/export?user=${bob.user.id}`)).statusCode).toBe(403);
  });

  it('records API and CLI runs with their source; tokens need the analysis:run scope', async () => {
    const owner = await signedIn(t.app, t.ctx, 'teacher');
    const token = await buildToken(t.ctx, owner.user.id, ['analysis:run']);
    const weak = await buildToken(t.ctx, owner.user.id, ['grades:read']);
    const img = { filename: 'coco.jpg', data: photo('scenes/coco-image1.jpg') };
    const denied = await analyse({ authorization: `Bearer ${weak}` }, [img], { model: 'objects' });
    expect(denied.statusCode).toBe(403);
    const viaApi = await analyse({ authorization: `Bearer ${token}` }, [img], { model: 'objects' });
    expect(viaApi.statusCode, viaApi.body).toBe(202);
    expect(viaApi.json().source).toBe('api');
    await t.ctx.background.idle();

    // `aula analyze --server`: the server runs the model and the CLI prints the ledger rows.
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (t.app.server.address() as { port: number }).port;
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const p = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'server/src/main.ts',
          'analyze',
          '--server',
          `http://127.0.0.1:${port}`,
          '--token',
          token,
          '--model',
          'objects',
          '--param',
          'maxResults=5',
          path.join(DATA, 'scenes/with_computer.jpg'),
          path.join(ROOT, 'package.json'),
        ],
        { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent' } },
      );
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', reject);
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.code, run.stderr).toBe(1);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Json);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      model: 'objects',
      file: 'with_computer.jpg',
      params: { maxResults: 5 },
      inputSha256: sha(photo('scenes/with_computer.jpg')),
    });
    expect(lines[1]).toMatchObject({ file: 'package.json', error: { code: 'unsupported_media_type' } });
    const row = (await get(owner, `/predictions/${lines[0].predictionId}`)).json();
    expect(row).toMatchObject({ source: 'cli', jobId: lines[0].jobId, userId: owner.user.id });
    expect((await get(owner, '/predictions?source=api')).json().total).toBe(1);
  });
});

describe('with the BullMQ queue on Redis', () => {
  it('runs lab jobs and reruns through the shared queue', async () => {
    // A queue prefix of its own: other test files share the Redis server.
    const prefix = `aula:test:${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 12)}`;
    const r = await createTestApp({ redis: true, env: { WORKERS: '1', QUEUE_PREFIX: prefix } });
    const w = await r.ctx.background.start();
    try {
      expect(r.ctx.queue.kind).toBe('bullmq');
      const me = await signedIn(r.app, r.ctx, 'student');
      const m = multipartBody(
        [{ field: 'files', filename: 'page.png', data: await renderTextImage(['Queued on Redis.']) }],
        {
          model: 'ocr',
          parameters: '{"lang": "eng"}',
        },
      );
      const res = await r.app.inject({
        method: 'POST',
        url: '/api/v1/analyses',
        headers: { ...me.headers, ...m.headers },
        payload: m.payload,
      });
      expect(res.statusCode, res.body).toBe(202);
      await r.ctx.background.idle();
      const job = (await r.app.inject({ url: `/api/v1/analyses/${res.json().id}`, headers: me.headers })).json<Json>();
      expect(job).toMatchObject({ status: 'done', processed: 1, failed: 0 });
      expect(job.predictions[0].output.text).toBe('Queued on Redis.');

      const again = await r.app.inject({
        method: 'POST',
        url: `/api/v1/analyses/${job.id}/rerun`,
        headers: me.headers,
      });
      await r.ctx.background.idle();
      const second = (
        await r.app.inject({ url: `/api/v1/analyses/${again.json().id}`, headers: me.headers })
      ).json<Json>();
      expect(second.predictions[0].output).toEqual(job.predictions[0].output);
    } finally {
      await w.close();
      await r.close();
    }
  });
});
