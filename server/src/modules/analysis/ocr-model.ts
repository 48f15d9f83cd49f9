import { z } from 'zod';
import { OCR_LANG_SETS, type OcrEngine } from '../../vision/ocr.ts';
import type { ModelRegistry } from '../../vision/registry.ts';

export const OCR_MODEL = 'ocr';

/** Makes OCR one more model of the registry, so the lab, the API and the ledger treat it like any other. */
export function registerOcrModel(registry: ModelRegistry, ocr: OcrEngine): void {
  registry.register({
    name: OCR_MODEL,
    task: 'ocr',
    version: ocr.version,
    description:
      'Text in the image, line by line with boxes and confidence (tesseract.js LSTM with the bundled English and Spanish data). The first language of the set is preferred.',
    networks: [],
    parameters: z.strictObject({
      lang: z.enum(OCR_LANG_SETS).default('spa+eng').describe('languages to read, the preferred one first'),
      minConfidence: z.number().min(0).max(100).default(0).describe('drop lines below this confidence (0–100)'),
    }),
    run: (_engine, image, p) => ocr.recognize(image, { lang: p.lang, minConfidence: p.minConfidence }),
  });
}
