import { z } from 'zod';
import type { Config } from '../../config.ts';
import { OCR_LANG_SETS, OcrEngine } from '../../vision/ocr.ts';
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
    // The language data is OCR's weights: listings and the ledger carry its hash like any model's.
    weightsSha256: () => ocr.weightsSha256(),
    parameters: z.strictObject({
      lang: z.enum(OCR_LANG_SETS).default('spa+eng').describe('languages to read, the preferred one first'),
      minConfidence: z.number().min(0).max(100).default(0).describe('drop lines below this confidence (0–100)'),
    }),
    run: (_engine, image, p) => ocr.recognize(image, { lang: p.lang, minConfidence: p.minConfidence }),
  });
}

/** The OCR engine as configured, registered in `registry`; the caller closes it. */
export function addOcrModel(registry: ModelRegistry, config: Config): OcrEngine {
  const ocr = new OcrEngine({
    langDir: config.media.ocrLangDir,
    maxPixels: config.imageMaxPixels,
    timeoutMs: config.vision.taskTimeoutMs * 2,
  });
  registerOcrModel(registry, ocr);
  return ocr;
}
