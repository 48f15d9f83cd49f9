import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../config.ts';
import { ModelRegistry } from '../../vision/registry.ts';
import { defaultModelDirs } from '../../vision/model-files.ts';
import { addOcrModel } from './ocr-model.ts';

const require = createRequire(import.meta.url);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-ocr-model-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The bundled language data, hashed here independently of the engine. */
function bundledHash(): string {
  const h = createHash('sha256');
  for (const lang of ['eng', 'spa']) {
    const pkg = path.dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`));
    h.update(`${lang}.traineddata.gz`);
    h.update(fs.readFileSync(path.join(pkg, '4.0.0_best_int', `${lang}.traineddata.gz`)));
  }
  return h.digest('hex');
}

describe('the OCR model', () => {
  it('is listed with the hash of its language data, without installing it', async () => {
    const langDir = path.join(dir, 'ocr');
    const registry = new ModelRegistry(defaultModelDirs());
    const ocr = addOcrModel(registry, testConfig({ DATA_DIR: dir, OCR_LANG_DIR: langDir }));
    try {
      const info = await registry.info('ocr');
      expect(info).toMatchObject({ task: 'ocr', available: true, weightsSha256: bundledHash() });
      expect(fs.existsSync(langDir)).toBe(false);
    } finally {
      await ocr.close();
    }
  });

  it('hashes the language files the folder really holds', async () => {
    const langDir = path.join(dir, 'custom');
    fs.mkdirSync(langDir);
    // An operator-provided file replaces the bundled one, and the hash follows it.
    fs.writeFileSync(path.join(langDir, 'eng.traineddata.gz'), 'other data');
    const registry = new ModelRegistry(defaultModelDirs());
    const ocr = addOcrModel(registry, testConfig({ DATA_DIR: dir, OCR_LANG_DIR: langDir }));
    try {
      const sha = await registry.weightsSha256('ocr');
      expect(sha).toMatch(/^[0-9a-f]{64}$/);
      expect(sha).not.toBe(bundledHash());
    } finally {
      await ocr.close();
    }
  });
});
