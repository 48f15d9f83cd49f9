import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../config.ts';
import { evaluateFaces, readLabels } from './evaluate.ts';
import { Gallery } from './gallery.ts';
import { createVision, type Vision } from './index.ts';

/** The shared test photos, used in place. */
const DATA = path.resolve(import.meta.dirname, '../../../../shared/data');
const read = (rel: string) => fs.readFileSync(path.join(DATA, rel));

// One worker for the whole file: models load once.
let vision: Vision;
beforeAll(async () => {
  vision = createVision(testConfig({ WORKERS: '1' }));
  await vision.start();
});
afterAll(async () => {
  await vision?.close();
});

describe('vision engine (real models, one worker)', () => {
  it('loads every model and reports them by name', () => {
    const s = vision.pool.status();
    expect(s.ready).toBe(1);
    expect(s.failed).toEqual([]);
    expect(s.networks.map((n) => n.id)).toEqual(
      expect.arrayContaining([
        'face-api/ssd_mobilenetv1',
        'face-api/face_landmark_68',
        'face-api/face_recognition',
        'human/movenet-multipose',
        'human/centernet',
        'human/antispoof',
        'human/liveness',
      ]),
    );
  });

  it('finds all 29 faces of the 1927 Solvay photo by tiling it', async () => {
    const { size, faces } = await vision.engine.detectFaces(read('scenes/solvay1927.jpg'));
    expect(size).toEqual({ width: 2048, height: 922 });
    expect(faces).toHaveLength(29);
    for (const f of faces) {
      expect(f.box[2]).toBeGreaterThan(30);
      expect(f.landmarks).toHaveLength(5);
      expect(f.quality.size).toBeGreaterThan(30);
    }
    // Without tiling the detector alone misses faces of this crowd.
    const untiled = await vision.pool.run('faces.detect', {
      image: { key: 'solvay-untiled', bytes: read('scenes/solvay1927.jpg') },
      minConfidence: 0.5,
      maxResults: 100,
    });
    expect(untiled.faces.length).toBeLessThan(29);
  });

  it('counts faces in smaller group photos, including a half-hidden child', async () => {
    expect((await vision.engine.detectFaces(read('scenes/stock-group-2.jpg'))).faces).toHaveLength(4);
    const ob = await vision.engine.detectFaces(read('faces/probes/obama_and_biden.jpg'));
    expect(ob.faces).toHaveLength(3);
    // The largest faces come first; the child in the corner is the smallest and least certain.
    expect(ob.faces[2].score).toBeLessThan(ob.faces[0].score);
  });

  it('identifies every known probe face and rejects every unknown one', async () => {
    const labels = await readLabels(path.join(DATA, 'faces/labels.json'));
    const report = await evaluateFaces(vision.engine, {
      galleryDir: path.join(DATA, 'faces/gallery'),
      probesDir: path.join(DATA, 'faces/probes'),
      labelsFile: path.join(DATA, 'faces/labels.json'),
      threshold: testConfig().faces.matchThreshold,
      margin: testConfig().faces.matchMargin,
    });
    expect(report.galleryProblems).toEqual([]);
    expect(report.probes).toHaveLength(labels.size);
    const knownLabels = [...labels.values()].flat().filter((l) => l !== 'unknown').length;
    const unknownLabels = [...labels.values()].flat().filter((l) => l === 'unknown').length;
    expect(report.knownFaces).toBe(knownLabels);
    expect(report.unknownFaces).toBe(unknownLabels);
    expect(report.top1).toBe(1);
    expect(report.unknownRejected).toBe(unknownLabels);
    expect(report.falseAccepts).toBe(0);
    const ob = report.probes.find((p) => p.file === 'obama_and_biden.jpg')!;
    expect(ob.predicted.map((p) => p.identity).sort()).toEqual(['biden', 'obama', 'unknown']);
  }, 240_000);

  it('matches against a named gallery and refuses descriptors of another model', async () => {
    const enroll = await vision.engine.embedFaces(read('faces/gallery/obama/1.jpg'));
    const other = await vision.engine.embedFaces(read('faces/gallery/biden/2.jpg'));
    expect(enroll.faces).toHaveLength(1);
    const face = enroll.faces[0];
    expect(face.descriptor).toHaveLength(128);
    expect(face.model).toMatch(/^face-api\/face_recognition@\d/);
    const g = new Gallery('test:obama', face.model);
    g.add('o1', 'obama', face.descriptor);
    g.add('b1', 'biden', other.faces[0].descriptor);
    vision.engine.galleries.set(g);
    const probe = await vision.engine.embedFaces(read('faces/probes/obama-720p.jpg'));
    const [m] = vision.engine.matchFaces('test:obama', probe.faces);
    expect(m).toMatchObject({ identity: 'obama', known: true });
    expect(() => vision.engine.matchFaces('no-such-gallery', probe.faces)).toThrow(/No face gallery/);
    expect(() => vision.engine.matchFaces('test:obama', [{ descriptor: face.descriptor, model: 'other@1' }])).toThrow(
      /holds/,
    );
  });

  it('sees raised hands: four people in stock-group-2, both men in obama_and_biden', async () => {
    const group = await vision.engine.detectPose(read('scenes/stock-group-2.jpg'));
    expect(group.people).toHaveLength(4);
    expect(group.people.every((p) => p.handRaised)).toBe(true);
    const ob = await vision.engine.detectPose(read('faces/probes/obama_and_biden.jpg'));
    const raised = ob.people.filter((p) => p.handRaised);
    expect(raised).toHaveLength(2);
    for (const p of raised) expect(p.keypoints.find((k) => k.part === 'nose')).toBeDefined();
  });

  it('labels a laptop', async () => {
    const { objects } = await vision.engine.detectObjects(read('scenes/with_computer.jpg'));
    const laptop = objects.find((o) => o.label === 'laptop');
    expect(laptop).toBeDefined();
    expect(laptop!.box[2]).toBeGreaterThan(0);
  });

  it('scores liveness and face attributes', async () => {
    const live = await vision.engine.checkLiveness(read('faces/gallery/obama/1.jpg'));
    expect(live.box).not.toBeNull();
    expect(live.antispoof).toBeGreaterThan(0);
    expect(live.liveness).toBeGreaterThan(0);
    const attrs = await vision.engine.faceAttributes(read('faces/gallery/obama/1.jpg'));
    expect(attrs.faces).toHaveLength(1);
    expect(attrs.faces[0].gender).toBe('male');
    expect(attrs.faces[0].age).toBeGreaterThan(15);
  });

  it('refuses bad images with a 4xx before they reach a model', async () => {
    await expect(vision.engine.detectFaces(Buffer.alloc(0))).rejects.toMatchObject({ code: 'empty_file', status: 400 });
    await expect(vision.engine.detectFaces(Buffer.from('not an image'))).rejects.toMatchObject({ status: 415 });
    const jpeg = read('faces/gallery/obama/1.jpg');
    await expect(vision.engine.detectFaces(jpeg.subarray(0, Math.floor(jpeg.length / 3)))).rejects.toMatchObject({
      code: 'corrupt_image',
      status: 400,
    });
  });

  it('replaces a crashed worker and fails its task with a 503, not a hang', async () => {
    const [pid] = vision.pool.pids();
    const pending = vision.engine.detectFaces(read('faces/probes/obama_and_biden.jpg'));
    while (vision.pool.status().busy === 0) await new Promise((r) => setTimeout(r, 10));
    process.kill(pid, 'SIGKILL');
    await expect(pending).rejects.toMatchObject({ code: 'vision_worker_crashed', status: 503 });
    // The next task waits for the replacement worker and succeeds.
    const again = await vision.engine.detectFaces(read('faces/gallery/obama/1.jpg'));
    expect(again.faces).toHaveLength(1);
    expect(vision.pool.pids()[0]).not.toBe(pid);
    expect(vision.pool.status().restarts).toBe(1);
  });

  it('gives up on a task past its deadline and replaces the worker', async () => {
    const image = { key: 'deadline', bytes: read('scenes/solvay1927.jpg') };
    await expect(
      vision.pool.run('faces.detect', { image, minConfidence: 0.3, maxResults: 100 }, { timeoutMs: 5 }),
    ).rejects.toMatchObject({ code: 'vision_timeout', status: 503 });
    const again = await vision.engine.detectFaces(read('faces/gallery/obama/1.jpg'));
    expect(again.faces).toHaveLength(1);
  });
});
