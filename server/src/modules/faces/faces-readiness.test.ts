import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { signedIn } from '../../test/factories.ts';

const DATA = path.resolve(import.meta.dirname, '../../../../../shared/data');

describe('vision readiness with a missing model folder', () => {
  let t: TestApp;
  let empty: string;

  beforeAll(async () => {
    empty = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-no-models-'));
    t = await createTestApp({ env: { WORKERS: '1', FACE_API_MODEL_DIR: empty } });
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(empty, { recursive: true, force: true });
  });

  it('is ready before the workers start, then fails and names each model that did not load', async () => {
    expect((await t.app.inject({ url: '/health/ready' })).statusCode).toBe(200);
    await t.ctx.vision.start();
    const res = await t.app.inject({ url: '/health/ready' });
    expect(res.statusCode).toBe(503);
    const body = res.json();
    expect(body.code).toBe('not_ready');
    expect(body.detail).toContain('vision');
    const vision = body.checks.find((c: { name: string }) => c.name === 'vision');
    expect(vision.ok).toBe(false);
    expect(vision.error).toContain('face-api/ssd_mobilenetv1');
    // human's models come from their own folder and still loaded.
    expect(
      t.ctx.vision.pool
        .status()
        .failed.map((f) => f.id)
        .sort(),
    ).toEqual(['face-api/face_landmark_68', 'face-api/face_recognition', 'face-api/ssd_mobilenetv1']);
  });

  it('refuses face work with a 503 naming the model, instead of answering "no face"', async () => {
    const me = await signedIn(t.app, t.ctx, 'student');
    const boundary = 'aulaBoundary42';
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/users/${me.user.id}/faces`,
      headers: { ...me.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
        ),
        fs.readFileSync(path.join(DATA, 'faces/gallery/obama/1.jpg')),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]),
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'model_unavailable', model: 'face-api/ssd_mobilenetv1' });

    const models = await t.app.inject({ url: '/api/v1/models', headers: me.headers });
    const byName = new Map(
      models.json<{ name: string; available: boolean; error?: string }[]>().map((m) => [m.name, m]),
    );
    expect(byName.get('face-detection')).toMatchObject({ available: false });
    expect(byName.get('face-detection')!.error).toContain('face-api/ssd_mobilenetv1');
    expect(byName.get('objects')).toMatchObject({ available: true });

    // Models that did load keep working.
    const objects = await t.ctx.vision.engine.detectObjects(
      fs.readFileSync(path.join(DATA, 'scenes/with_computer.jpg')),
    );
    expect(objects.objects.some((o) => o.label === 'laptop')).toBe(true);
  });
});
