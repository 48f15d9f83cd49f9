/**
 * `npm run bench -- vision [--logins 40] [--json]`: the vision engine on this machine.
 *
 *  - cold start: forking a worker and loading every model;
 *  - per photo and per face: the full face pipeline (detect, landmarks, descriptor) over the
 *    shared `scenes/` and `faces/` photos, one worker, fitted as "fixed cost + cost per face";
 *  - the 29-face Solvay photo end to end, and throughput over the probe photos, with 1 and 2 workers;
 *  - identification accuracy on `faces/` at the configured threshold;
 *  - face sign-in through the HTTP route, warm: p50/p95 of photo in → decision;
 *  - gallery matching against 10,000 templates;
 *  - peak RSS of this process and of each worker.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { testConfig, type Config } from '../server/src/config.ts';
import { createContext } from '../server/src/context.ts';
import { buildApp } from '../server/src/http/app.ts';
import { SYSTEM_ACTOR } from '../server/src/modules/identity/actor.ts';
import { evaluateFaces } from '../server/src/vision/evaluate.ts';
import { DESCRIPTOR_DIM, Gallery } from '../server/src/vision/gallery.ts';
import { createVision, type Vision } from '../server/src/vision/index.ts';

const { values } = parseArgs({
  options: {
    logins: { type: 'string', default: '40' },
    json: { type: 'boolean', default: false },
  },
});
const LOGINS = Number(values.logins);

const ROOT = path.resolve(import.meta.dirname, '..');
const DATA = path.resolve(ROOT, '../shared/data');
const log = (line: string) => process.stderr.write(`${line}\n`);
const images = (dir: string): string[] =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? images(path.join(dir, d.name)) : [path.join(dir, d.name)]))
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort();

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const r1 = (v: number) => Math.round(v * 10) / 10;

/** Least squares ms = a + b·faces: the fixed cost of a photo and the cost of each face in it. */
function fit(points: { faces: number; ms: number }[]): { perPhoto: number; perFace: number } {
  const n = points.length;
  const mx = mean(points.map((p) => p.faces));
  const my = mean(points.map((p) => p.ms));
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.faces - mx) * (p.ms - my);
    sxx += (p.faces - mx) ** 2;
  }
  const b = n > 1 && sxx > 0 ? sxy / sxx : 0;
  return { perPhoto: my - b * mx, perFace: b };
}

/** Peak resident memory of a process from /proc (Linux), in MiB. */
function peakRssMiB(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

function config(workers: number, extra: Record<string, string> = {}): Config {
  return testConfig({ WORKERS: String(workers), ...extra });
}

async function coldStart(workers: number): Promise<{ vision: Vision; ms: number }> {
  const vision = createVision(config(workers));
  const t0 = performance.now();
  await vision.start();
  const ms = performance.now() - t0;
  const s = vision.pool.status();
  if (s.failed.length) throw new Error(`models failed to load: ${JSON.stringify(s.failed)}`);
  return { vision, ms };
}

async function timeEach(vision: Vision, files: string[]) {
  const out: { file: string; faces: number; ms: number; cpuMs: number; pixels: number }[] = [];
  for (const file of files) {
    const bytes = fs.readFileSync(file);
    const c0 = vision.pool.cpuMs();
    const t0 = performance.now();
    const r = await vision.engine.embedFaces(bytes);
    out.push({
      file: path.relative(DATA, file),
      faces: r.faces.length,
      ms: performance.now() - t0,
      cpuMs: vision.pool.cpuMs() - c0,
      pixels: r.size.width * r.size.height,
    });
  }
  return out;
}

async function throughput(vision: Vision, files: string[]): Promise<{ imagesPerSecond: number; wallMs: number }> {
  const buffers = files.map((f) => fs.readFileSync(f));
  const t0 = performance.now();
  await Promise.all(buffers.map((b) => vision.engine.embedFaces(b)));
  const wallMs = performance.now() - t0;
  return { imagesPerSecond: (buffers.length * 1000) / wallMs, wallMs };
}

async function solvay(vision: Vision, runs = 3): Promise<{ faces: number; medianMs: number; cpuMs: number }> {
  const bytes = fs.readFileSync(path.join(DATA, 'scenes/solvay1927.jpg'));
  const ms: number[] = [];
  let faces = 0;
  const c0 = vision.pool.cpuMs();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    faces = (await vision.engine.embedFaces(bytes)).faces.length;
    ms.push(performance.now() - t0);
  }
  return { faces, medianMs: quantile(ms, 0.5), cpuMs: (vision.pool.cpuMs() - c0) / runs };
}

async function faceSignIn(): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-bench-vision-'));
  const cfg = testConfig({
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${path.join(dir, 'aula.db')}`,
    BLOB_URL: `file:${path.join(dir, 'blobs')}`,
    WEB_DIST: path.join(dir, 'no-web'),
    FACE_LOGIN_RATE_LIMIT_PER_IP: '100000',
  });
  const ctx = await createContext(cfg);
  const app = await buildApp(ctx);
  try {
    await ctx.vision.start();
    const user = await ctx.identity.createUser(
      {
        username: 'bench-face',
        email: 'bench-face@example.test',
        fullName: 'Bench Face',
        role: 'student',
        password: 'bench-Passw0rd',
      },
      SYSTEM_ACTOR,
    );
    for (const f of ['faces/gallery/obama/1.jpg', 'faces/gallery/obama/2.jpg']) {
      await ctx.faces.enroll(SYSTEM_ACTOR, user.id, fs.readFileSync(path.join(DATA, f)), 'import');
    }
    await ctx.identity.updateMe({ ...SYSTEM_ACTOR, id: user.id }, { faceLoginConsent: true });
    // A webcam-sized frame, as the sign-in page sends it.
    const frame = await sharp(path.join(DATA, 'faces/probes/obama-test.jpg'))
      .resize(640)
      .jpeg({ quality: 90 })
      .toBuffer();
    const boundary = 'aulaBenchBoundary';
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="f.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
      ),
      frame,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const once = async () => {
      const t0 = performance.now();
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/face-login',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload,
      });
      if (res.statusCode !== 200) throw new Error(`face sign-in failed: ${res.statusCode} ${res.body}`);
      return performance.now() - t0;
    };
    for (let i = 0; i < 5; i++) await once();
    const ms: number[] = [];
    const c0 = ctx.vision.pool.cpuMs();
    for (let i = 0; i < LOGINS; i++) ms.push(await once());
    return {
      n: ms.length,
      p50: quantile(ms, 0.5),
      p95: quantile(ms, 0.95),
      max: Math.max(...ms),
      workerCpuMs: (ctx.vision.pool.cpuMs() - c0) / LOGINS,
      workers: cfg.vision.workers,
    };
  } finally {
    await app.close();
    await ctx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function galleryMatch(): Record<string, number> {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296 - 0.5;
  };
  const vec = () => Float32Array.from({ length: DESCRIPTOR_DIM }, () => rnd() * 0.18);
  const t0 = performance.now();
  const g = new Gallery('bench', 'bench@1');
  for (let i = 0; i < 10_000; i++) g.add(`t${i}`, `u${i % 3000}`, vec());
  const buildMs = performance.now() - t0;
  const probes = Array.from({ length: 2000 }, vec);
  for (let i = 0; i < 200; i++) g.match(probes[i], { threshold: 0.6, margin: 0.02 });
  const us: number[] = [];
  const c0 = process.cpuUsage();
  for (const p of probes) {
    const s = performance.now();
    g.match(p, { threshold: 0.6, margin: 0.02 });
    us.push((performance.now() - s) * 1000);
  }
  const c = process.cpuUsage(c0);
  return {
    templates: g.size,
    buildMs,
    meanUs: mean(us),
    p95Us: quantile(us, 0.95),
    cpuUsPerMatch: (c.user + c.system) / probes.length,
  };
}

async function main() {
  const results: Record<string, unknown> = { cpus: os.cpus().length, node: process.version };

  log('cold start, 1 worker …');
  const one = await coldStart(1);
  const status = one.vision.pool.status();
  results.coldStartMs = one.ms;
  results.backend = status.backend;
  results.networkLoadMs = Object.fromEntries(status.networks.map((n) => [n.id, n.loadMs]));

  log('per photo, scenes/ and faces/ …');
  const scenes = await timeEach(one.vision, images(path.join(DATA, 'scenes')));
  const faces = await timeEach(one.vision, images(path.join(DATA, 'faces')));
  const summary = (xs: typeof scenes) => ({
    photos: xs.length,
    faces: xs.reduce((n, x) => n + x.faces, 0),
    meanMs: mean(xs.map((x) => x.ms)),
    meanCpuMs: mean(xs.map((x) => x.cpuMs)),
    ...fit(xs),
    cpu: fit(xs.map((x) => ({ faces: x.faces, ms: x.cpuMs }))),
  });
  results.scenes = summary(scenes);
  results.facesSet = summary(faces);
  results.perPhoto = [...scenes, ...faces].map((x) => ({ ...x, ms: Math.round(x.ms), cpuMs: Math.round(x.cpuMs) }));

  log('identification accuracy …');
  const cfg = config(1);
  const evalReport = await evaluateFaces(one.vision.engine, {
    galleryDir: path.join(DATA, 'faces/gallery'),
    probesDir: path.join(DATA, 'faces/probes'),
    labelsFile: path.join(DATA, 'faces/labels.json'),
    threshold: cfg.faces.matchThreshold,
    margin: cfg.faces.matchMargin,
  });
  const known = evalReport.probes.flatMap((p) =>
    p.predicted.filter((x) => x.identity !== 'unknown').map((x) => x.distance),
  );
  const unknown = evalReport.probes.flatMap((p) =>
    p.predicted.filter((x) => x.identity === 'unknown').map((x) => x.distance),
  );
  results.accuracy = {
    top1: evalReport.top1,
    knownFaces: evalReport.knownFaces,
    unknownRejected: evalReport.unknownRejected,
    unknownFaces: evalReport.unknownFaces,
    falseAccepts: evalReport.falseAccepts,
    threshold: evalReport.threshold,
    margin: evalReport.margin,
    largestAcceptedDistance: Math.max(...known),
    smallestRejectedDistance: Math.min(...unknown),
  };

  // The same faces decided at other thresholds (nearest identity within T; no margin).
  results.thresholdSweep = [0.5, 0.55, 0.6, 0.645, 0.7].map((T) => {
    let correct = 0;
    let falseAccepts = 0;
    let rejected = 0;
    for (const p of evalReport.probes) {
      const want = new Map<string, number>();
      for (const l of p.labels) if (l !== 'unknown') want.set(l, (want.get(l) ?? 0) + 1);
      const decided = p.predicted.map((x) => (x.distance <= T && x.nearest ? x.nearest : 'unknown'));
      for (const id of decided.filter((d) => d !== 'unknown')) {
        const left = want.get(id) ?? 0;
        if (left > 0) {
          correct++;
          want.set(id, left - 1);
        } else falseAccepts++;
      }
      rejected += Math.min(
        p.labels.filter((l) => l === 'unknown').length,
        decided.filter((d) => d === 'unknown').length,
      );
    }
    return { threshold: T, top1: correct / evalReport.knownFaces, unknownRejected: rejected, falseAccepts };
  });

  log('Solvay and throughput, 1 worker …');
  const probes = images(path.join(DATA, 'faces/probes'));
  results.solvay1 = await solvay(one.vision);
  results.throughput1 = await throughput(one.vision, probes);
  const peak1 = one.vision.pool.pids().map(peakRssMiB);
  await one.vision.close();

  log('cold start and throughput, 2 workers …');
  const two = await coldStart(2);
  results.coldStart2Ms = two.ms;
  results.solvay2 = await solvay(two.vision);
  results.throughput2 = await throughput(two.vision, probes);
  results.workerPeakRssMiB = [...peak1, ...two.vision.pool.pids().map(peakRssMiB)];
  await two.vision.close();

  log('face sign-in, warm …');
  results.faceSignIn = await faceSignIn();

  log('gallery matching, 10,000 templates …');
  results.gallery = galleryMatch();
  results.mainPeakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);

  if (values.json) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  const s = results.scenes as ReturnType<typeof fit> & {
    photos: number;
    faces: number;
    meanMs: number;
    meanCpuMs: number;
    cpu: ReturnType<typeof fit>;
  };
  const f = results.facesSet as typeof s;
  const a = results.accuracy as Record<string, number>;
  const fl = results.faceSignIn as Record<string, number>;
  const g = results.gallery as Record<string, number>;
  const t1 = results.throughput1 as { imagesPerSecond: number };
  const t2 = results.throughput2 as { imagesPerSecond: number };
  const s1 = results.solvay1 as { faces: number; medianMs: number; cpuMs: number };
  const s2 = results.solvay2 as { faces: number; medianMs: number; cpuMs: number };
  const rows: [string, string][] = [
    ['back end', String(results.backend)],
    ['cold start, 1 worker (fork + all models)', `${Math.round(results.coldStartMs as number)} ms`],
    ['cold start, 2 workers', `${Math.round(results.coldStart2Ms as number)} ms`],
    [
      'scenes/: photos, faces; mean wall / worker CPU per photo',
      `${s.photos}, ${s.faces}; ${Math.round(s.meanMs)} / ${Math.round(s.meanCpuMs)} ms`,
    ],
    ['scenes/: fit, wall', `${Math.round(s.perPhoto)} ms per photo + ${Math.round(s.perFace)} ms per face`],
    [
      'scenes/: fit, worker CPU',
      `${Math.round(s.cpu.perPhoto)} ms per photo + ${Math.round(s.cpu.perFace)} ms per face`,
    ],
    [
      'faces/: photos, faces; mean wall / worker CPU per photo',
      `${f.photos}, ${f.faces}; ${Math.round(f.meanMs)} / ${Math.round(f.meanCpuMs)} ms`,
    ],
    ['faces/: fit, wall', `${Math.round(f.perPhoto)} ms per photo + ${Math.round(f.perFace)} ms per face`],
    [
      'faces/: fit, worker CPU',
      `${Math.round(f.cpu.perPhoto)} ms per photo + ${Math.round(f.cpu.perFace)} ms per face`,
    ],
    [
      'solvay1927, 1 worker: faces, wall, worker CPU',
      `${s1.faces}, ${Math.round(s1.medianMs)} ms, ${Math.round(s1.cpuMs)} ms`,
    ],
    [
      'solvay1927, 2 workers: faces, wall, worker CPU',
      `${s2.faces}, ${Math.round(s2.medianMs)} ms, ${Math.round(s2.cpuMs)} ms`,
    ],
    ['throughput over 24 probe photos, 1 worker', `${r1(t1.imagesPerSecond)} photos/s`],
    ['throughput over 24 probe photos, 2 workers', `${r1(t2.imagesPerSecond)} photos/s`],
    [
      'identification on faces/ (threshold, margin)',
      `top-1 ${a.top1 * 100}% of ${a.knownFaces}, unknown rejected ${a.unknownRejected}/${a.unknownFaces}, false accepts ${a.falseAccepts} (${a.threshold}, ${a.margin})`,
    ],
    ['largest accepted / smallest rejected distance', `${a.largestAcceptedDistance} / ${a.smallestRejectedDistance}`],
    ...(
      results.thresholdSweep as { threshold: number; top1: number; unknownRejected: number; falseAccepts: number }[]
    ).map((t): [string, string] => [
      `  at threshold ${t.threshold} (no margin)`,
      `top-1 ${r1(t.top1 * 100)}%, unknown rejected ${t.unknownRejected}/${a.unknownFaces}, false accepts ${t.falseAccepts}`,
    ]),
    [
      `face sign-in, warm, ${fl.n} runs, ${fl.workers} workers`,
      `p50 ${Math.round(fl.p50)} ms, p95 ${Math.round(fl.p95)} ms, max ${Math.round(fl.max)} ms; worker CPU ${Math.round(fl.workerCpuMs)} ms each`,
    ],
    [
      'match against 10,000 templates',
      `mean ${r1(g.meanUs)} µs, p95 ${r1(g.p95Us)} µs, CPU ${r1(g.cpuUsPerMatch)} µs (build ${Math.round(g.buildMs)} ms)`,
    ],
    [
      'peak RSS: main process / each worker',
      `${results.mainPeakRssMiB as number} MiB / ${(results.workerPeakRssMiB as number[]).join(', ')} MiB`,
    ],
  ];
  console.log('| measure | value |\n| --- | --- |');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
}

await main();
