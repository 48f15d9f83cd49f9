import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../config.ts';
import { analyzeLocally, createLocalModels, type PredictionRecord } from '../modules/analysis/local-analyze.ts';
import { SYSTEM_ACTOR } from '../modules/identity/actor.ts';
import type { QueueWorker } from '../platform/queue/index.ts';
import { createTestApp, type TestApp } from '../test/app.ts';
import { buildToken, buildUser, loginAs, type Session } from '../test/factories.ts';
import type { ModelInfo } from '../vision/registry.ts';
import { renderTextImage } from '../vision/ocr-fixtures.ts';

/*
 * `aula analyze` on every registered model, in both modes: locally (the models run in the CLI's
 * own workers and it prints JSON) and pointed at a server (`--server URL --token T`, which writes
 * each prediction to the server's ledger). The models come from the registry, so a new model
 * fails here until it has a case below.
 */

const ROOT = path.resolve(import.meta.dirname, '../../..');
const DATA = path.resolve(ROOT, '../shared/data');
const GALLERY = path.join(DATA, 'faces/gallery');
const LABELS = (
  JSON.parse(fs.readFileSync(path.join(DATA, 'faces/labels.json'), 'utf8')) as { probes: Record<string, string[]> }
).probes;
const OCR_TEXT = 'Aula reads this line.';
/** The people of the server's "login" gallery and of the small folder gallery; everyone else is a stranger there. */
const FEW = ['obama', 'biden'];

type Json = Record<string, any>;

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const sorted = (xs: string[]) => [...xs].sort();
const probe = (name: string) => path.join(DATA, 'faces/probes', name);
const l2 = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - b[i]));
/** The labels as a gallery holding only `FEW` should name them. */
const withFew = (labels: string[]) => labels.map((l) => (FEW.includes(l) ? l : 'unknown'));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-analyze-'));
const textImage = path.join(tmp, 'page.png');
/** A gallery folder of the `FEW` people only (links to the shared photos): short to enroll. */
const fewGallery = path.join(tmp, 'people');
const localConfig = testConfig({ DATA_DIR: path.join(tmp, 'cli-data'), WORKERS: '1' });
// Only metadata until the first run: the workers start when a model is first used.
const local = createLocalModels(localConfig);

interface Mode {
  name: 'local' | 'server';
  /** Names the identity a match returns (a gallery folder locally, a user id on the server). */
  who: (identity: string) => string;
}

interface Case {
  files: () => string[];
  /** Per mode: parameters, and locally a gallery folder. */
  local?: { params?: Record<string, unknown>; galleryDir?: string };
  server?: { params?: Record<string, unknown> };
  /** Checks the outputs, one per file in order. */
  check: (outputs: Json[], mode: Mode) => void;
}

/** What each kind of model is run on and what it must find there. Keyed by task. */
const CASES: Record<string, Case> = {
  'face-detection': {
    files: () => [probe('obama_and_biden.jpg')],
    check: ([out]) => {
      // Two men and a child in the corner.
      expect(out.faces).toHaveLength(LABELS['obama_and_biden.jpg'].length);
      for (const f of out.faces) {
        expect(f.score).toBeGreaterThanOrEqual(localConfig.vision.detectMinConfidence);
        expect(f.landmarks).toHaveLength(5);
        const [x, y, w, h] = f.box as number[];
        expect(x >= 0 && y >= 0 && x + w <= out.size.width && y + h <= out.size.height).toBe(true);
      }
    },
  },
  'face-embedding': {
    files: () => [probe('obama-test.jpg'), probe('obama-240p.jpg'), probe('unknown-lin-manuel-miranda.png')],
    check: ([obama, obamaSmall, other]) => {
      for (const out of [obama, obamaSmall, other]) {
        expect(out.faces).toHaveLength(1);
        expect(out.faces[0].descriptor).toHaveLength(128);
        expect(out.faces[0].model).toMatch(/^face-api\/face_recognition@/);
      }
      // The descriptors identify: the same man is near, another man is far.
      const d = (a: Json, b: Json) => l2(a.faces[0].descriptor, b.faces[0].descriptor);
      expect(d(obama, obamaSmall)).toBeLessThan(localConfig.faces.matchThreshold);
      expect(d(obama, other)).toBeGreaterThan(localConfig.faces.matchThreshold);
    },
  },
  'face-identification': {
    files: () => [probe('obama_and_biden.jpg'), probe('unknown-lin-manuel-miranda.png')],
    local: { galleryDir: fewGallery },
    server: { params: { gallery: 'login' } },
    check: (outputs, mode) => {
      const files = ['obama_and_biden.jpg', 'unknown-lin-manuel-miranda.png'];
      outputs.forEach((out, i) => {
        const names = (out.faces as Json[]).map((f) => (f.match.known ? mode.who(f.match.identity) : 'unknown'));
        expect(sorted(names), files[i]).toEqual(sorted(withFew(LABELS[files[i]])));
        for (const f of out.faces) expect(f.descriptor).toBeUndefined();
      });
    },
  },
  'face-attributes': {
    files: () => [probe('obama-test.jpg')],
    check: ([out]) => {
      expect(out.faces).toHaveLength(1);
      const [face] = out.faces;
      expect(face.gender).toBe('male');
      expect(face.age).toBeGreaterThan(20);
      expect(face.age).toBeLessThan(80);
      expect(face.emotion.length).toBeGreaterThan(0);
    },
  },
  'object-detection': {
    files: () => [path.join(DATA, 'scenes/with_computer.jpg')],
    check: ([out]) => {
      expect((out.objects as Json[]).map((o) => o.label)).toContain('laptop');
    },
  },
  pose: {
    files: () => [probe('obama_and_biden.jpg')],
    check: ([out]) => {
      // Both men raise a hand.
      expect(out.people).toHaveLength(2);
      for (const p of out.people) {
        expect(p.handRaised).toBe(true);
        expect(p.keypoints.length).toBeGreaterThan(0);
        expect(p.keypoints.length).toBeLessThanOrEqual(17);
      }
    },
  },
  liveness: {
    files: () => [probe('obama-test.jpg')],
    check: ([out]) => {
      expect(out.box).toHaveLength(4);
      for (const score of [out.antispoof, out.liveness]) {
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
      }
    },
  },
  ocr: {
    files: () => [textImage],
    local: { params: { lang: 'eng' } },
    server: { params: { lang: 'eng' } },
    check: ([out]) => {
      expect(out.text).toBe(OCR_TEXT);
      expect(out.lines).toHaveLength(1);
    },
  },
};

function aula(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'silent', WORKERS: '1', DATA_DIR: path.join(tmp, 'spawned-cli'), ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Json);

const paramArgs = (params: Record<string, unknown> = {}) =>
  Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`]);

let t: TestApp;
let workers: QueueWorker | undefined;
let owner: Session;
let token: string;
let serverUrl: string;
let listing: Map<string, ModelInfo>;
const userNames = new Map<string, string>();

beforeAll(async () => {
  fs.writeFileSync(textImage, await renderTextImage([OCR_TEXT]));
  for (const name of FEW) {
    fs.mkdirSync(path.join(fewGallery, name), { recursive: true });
    for (const f of fs.readdirSync(path.join(GALLERY, name))) {
      fs.symlinkSync(path.join(GALLERY, name, f), path.join(fewGallery, name, f));
    }
  }
  t = await createTestApp({ env: { WORKERS: '1' } });
  await Promise.all([t.ctx.vision.start(), local.vision.start()]);
  workers = await t.ctx.background.start();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  serverUrl = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;

  owner = await loginAs(t.app, await buildUser(t.ctx, { role: 'admin' }));
  token = await buildToken(t.ctx, owner.user.id, ['analysis:run']);
  // The server's "login" gallery: people who enrolled and allow face recognition.
  for (const name of FEW) {
    const { user } = await buildUser(t.ctx, { role: 'student' });
    for (const f of fs.readdirSync(path.join(GALLERY, name))) {
      await t.ctx.faces.enroll(SYSTEM_ACTOR, user.id, fs.readFileSync(path.join(GALLERY, name, f)), 'import');
    }
    await t.ctx.identity.updateMe({ ...SYSTEM_ACTOR, id: user.id }, { faceLoginConsent: true });
    userNames.set(user.id, name);
  }

  const res = await t.app.inject({ url: '/api/v1/models', headers: owner.headers });
  expect(res.statusCode, res.body).toBe(200);
  listing = new Map(res.json<ModelInfo[]>().map((m) => [m.name, m]));
});

afterAll(async () => {
  await workers?.close();
  await t?.close();
  await local.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const localMode: Mode = { name: 'local', who: (id) => id };
const serverMode: Mode = { name: 'server', who: (id) => userNames.get(id) ?? `user ${id}` };

describe('aula analyze', () => {
  it('runs with the same models as the server, each listed with its version and weight hash', async () => {
    expect(sorted(local.vision.registry.names())).toEqual(sorted([...listing.keys()]));
    for (const m of listing.values()) {
      expect(m.available, m.name).toBe(true);
      expect(m.weightsSha256, m.name).toMatch(/^[0-9a-f]{64}$/);
      expect(m.version, m.name).toMatch(/^\d+\.\d+\.\d+$/);
    }
    const r = await aula(['analyze', '--list']);
    expect(r.code, r.stderr).toBe(0);
    const listed = jsonLines(r.stdout);
    expect(sorted(listed.map((m) => m.name))).toEqual(sorted([...listing.keys()]));
    for (const m of listed) {
      expect(m, m.name).toMatchObject({
        version: listing.get(m.name)!.version,
        weightsSha256: listing.get(m.name)!.weightsSha256,
        available: true,
      });
    }
    // Listing hashes the OCR language data where it is, without installing it.
    expect(fs.existsSync(path.join(tmp, 'spawned-cli'))).toBe(false);
  });

  for (const name of local.vision.registry.names()) {
    const def = local.vision.registry.get(name);
    it(`${name}: locally and on a server, recorded in the ledger`, async () => {
      const c = CASES[def.task];
      if (!c) expect.fail(`no case for the ${def.task} task of ${name}: add one to CASES`);
      const files = c.files();
      const model = listing.get(name)!;

      // Both modes at once: the local models and the server's run in different worker processes.
      const records: PredictionRecord[] = [];
      const [, run] = await Promise.all([
        analyzeLocally(local, {
          model: name,
          params: c.local?.params ?? {},
          files,
          ...(c.local?.galleryDir !== undefined && { galleryDir: c.local.galleryDir }),
          write: (r) => records.push(r),
        }),
        aula([
          'analyze',
          '--server',
          serverUrl,
          '--token',
          token,
          '--model',
          name,
          ...paramArgs(c.server?.params),
          ...files,
        ]),
      ]);
      expect(records.map((r) => r.file)).toEqual(files);
      for (const [i, r] of records.entries()) {
        expect(r).toMatchObject({ model: name, version: model.version, weightsSha256: model.weightsSha256 });
        expect(r.inputSha256).toBe(sha(files[i]));
      }
      c.check(
        records.map((r) => r.output as Json),
        localMode,
      );

      expect(run.code, run.stderr || run.stdout).toBe(0);
      const lines = jsonLines(run.stdout);
      expect(lines.map((l) => l.file)).toEqual(files.map((f) => path.basename(f)));
      c.check(
        lines.map((l) => l.output as Json),
        serverMode,
      );
      for (const [i, line] of lines.entries()) {
        const res = await t.app.inject({ url: `/api/v1/predictions/${line.predictionId}`, headers: owner.headers });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json()).toMatchObject({
          source: 'cli',
          userId: owner.user.id,
          jobId: line.jobId,
          model: name,
          modelVersion: model.version,
          weightsSha256: model.weightsSha256,
          inputSha256: sha(files[i]),
          parameters: expect.objectContaining(c.server?.params ?? {}),
          output: line.output,
        });
      }
    }, 120_000);
  }

  it('identifies faces against a folder gallery as a real process', async () => {
    const file = probe('obama_and_biden.jpg');
    const r = await aula(['analyze', '--model', 'face-identification', '--gallery', fewGallery, file]);
    expect(r.code, r.stderr).toBe(0);
    const [line] = jsonLines(r.stdout);
    expect(line).toMatchObject({
      model: 'face-identification',
      params: { gallery: 'people' },
      file,
      inputSha256: sha(file),
      weightsSha256: listing.get('face-identification')!.weightsSha256,
    });
    const names = (line.output.faces as Json[]).map((f) => f.match.identity as string);
    expect(sorted(names)).toEqual(sorted(withFew(LABELS['obama_and_biden.jpg'])));
  }, 120_000);

  it('explains a missing gallery and bad flags before any model loads', async () => {
    const file = probe('obama-test.jpg');
    const noGallery = await aula(['analyze', '--model', 'face-identification', '--param', 'gallery=login', file]);
    expect(noGallery.code).toBe(1);
    expect(noGallery.stderr).toContain('--gallery DIR');
    const galleryOnServer = await aula([
      'analyze',
      '--server',
      serverUrl,
      '--token',
      token,
      '--model',
      'face-identification',
      '--gallery',
      GALLERY,
      file,
    ]);
    expect(galleryOnServer.code).toBe(2);
    expect(galleryOnServer.stderr).toContain('--gallery is for local runs');
    const wrongModel = await aula(['analyze', '--model', 'objects', '--gallery', GALLERY, file]);
    expect(wrongModel.code).toBe(1);
    expect(wrongModel.stderr).toMatch(/gallery/);
  }, 60_000);
});
