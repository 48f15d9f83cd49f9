import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testConfig } from '../config.ts';
import { createVision } from './index.ts';
import { defaultModelDirs, hashNetworks, NETWORKS } from './model-files.ts';
import { ModelRegistry } from './registry.ts';

// The registry is metadata only: nothing here starts a worker.
const vision = createVision(testConfig({ FACE_MATCH_THRESHOLD: '0.6' }));

describe('model registry', () => {
  it('describes every built-in model with a weight hash and a JSON schema of its parameters', async () => {
    const models = await vision.registry.list();
    expect(models.map((m) => m.task).sort()).toEqual(
      [
        'face-attributes',
        'face-detection',
        'face-embedding',
        'face-identification',
        'liveness',
        'object-detection',
        'pose',
      ].sort(),
    );
    for (const m of models) {
      expect(m.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(m.description.length).toBeGreaterThan(20);
      expect(m.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(m.available).toBe(true);
      expect(m.parameters).toMatchObject({ type: 'object' });
    }
    const id = models.find((m) => m.name === 'face-identification')!;
    expect(id.parameters).toMatchObject({
      type: 'object',
      required: ['gallery'],
      properties: { threshold: { type: 'number', default: 0.6 }, gallery: { type: 'string' } },
      additionalProperties: false,
    });
    expect(vision.pool.isStarted).toBe(false);
  });

  it('hashes the weight files themselves', async () => {
    const dirs = defaultModelDirs();
    const a = await hashNetworks([NETWORKS.ssd, NETWORKS.landmarks], dirs);
    expect(await vision.registry.weightsSha256('face-detection')).toBe(a);
    expect(await hashNetworks([NETWORKS.ssd], dirs)).not.toBe(a);
    const missing = new ModelRegistry({ faceApi: '/nonexistent', human: '/nonexistent' });
    missing.register({
      name: 'x',
      task: 'face-detection',
      version: '1.0.0',
      description: 'a model whose weights are missing',
      networks: [NETWORKS.ssd],
      parameters: z.strictObject({}),
      run: async () => null,
    });
    const info = await missing.info('x');
    expect(info).toMatchObject({ weightsSha256: null, available: false });
    expect(info.error).toContain('/nonexistent');
  });

  it('hashes weights that are not networks through the hook of the model', async () => {
    const registry = new ModelRegistry(defaultModelDirs());
    const define = (name: string, weightsSha256: () => Promise<string>) =>
      registry.register({
        name,
        task: 'ocr',
        version: '1.0.0',
        description: 'a model whose weights are data files',
        networks: [],
        weightsSha256,
        parameters: z.strictObject({}),
        run: async () => null,
      });
    define('data', async () => 'a'.repeat(64));
    define('broken', async () => {
      throw new Error('gone');
    });
    expect(await registry.info('data')).toMatchObject({ weightsSha256: 'a'.repeat(64), available: true });
    const broken = await registry.info('broken');
    expect(broken).toMatchObject({ weightsSha256: null, available: false });
    expect(broken.error).toContain('broken');
  });

  it('validates parameters and names unknown models', () => {
    expect(vision.registry.parseParams('objects', { minConfidence: 0.5 })).toEqual({
      minConfidence: 0.5,
      maxResults: 20,
    });
    expect(() => vision.registry.parseParams('objects', { minConfidence: 2 })).toThrow(/minConfidence/);
    expect(() => vision.registry.parseParams('objects', { colour: 'red' })).toThrow(/colour/);
    expect(() => vision.registry.parseParams('face-identification', {})).toThrow(/gallery/);
    expect(() => vision.registry.get('no-such-model')).toThrow(/face-detection/);
    expect(() =>
      vision.registry.register({
        name: 'objects',
        task: 'object-detection',
        version: '1',
        description: 'duplicate',
        networks: [],
        parameters: z.strictObject({}),
        run: async () => null,
      }),
    ).toThrow(/already/);
  });
});
