import type { Config } from '../../config.ts';
import type { BlobStore } from '../../platform/blobs/index.ts';
import type { Bus } from '../../platform/bus/bus.ts';
import type { Db } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Vision } from '../../vision/index.ts';
import { OcrEngine } from '../../vision/ocr.ts';
import { createTranslator } from '../../vision/translate/index.ts';
import type { AcademicsService } from '../academics/academics.service.ts';
import { AnalysisRepository } from '../analysis/analysis.repository.ts';
import { AnalysisService } from '../analysis/analysis.service.ts';
import { type BackgroundTasks, InProcessTasks } from '../analysis/background.ts';
import { PredictionLedger } from '../analysis/ledger.ts';
import { OCR_MODEL, registerOcrModel } from '../analysis/ocr-model.ts';
import type { FacesService } from '../faces/faces.service.ts';
import type { IdentityService } from '../identity/identity.service.ts';
import { MediaProcessor } from './media-processing.ts';
import { MediaRepository } from './media.repository.ts';
import { MediaService } from './media.service.ts';
import { TranslationService } from './translation.service.ts';

/**
 * Builds the analysis lab (with the prediction ledger) and albums, which share the OCR engine,
 * the background runner and the ledger. Called once by the composition root.
 */
export function createMediaAndAnalysis(d: {
  config: Config;
  logger: Logger;
  db: Db;
  blobs: BlobStore;
  bus: Bus;
  vision: Vision;
  faces: FacesService;
  academics: AcademicsService;
  identity: IdentityService;
}): { analysis: AnalysisService; media: MediaService; background: BackgroundTasks; close(): Promise<void> } {
  const { config, logger, db, blobs, bus, vision } = d;
  const ocr = new OcrEngine({
    langDir: config.media.ocrLangDir,
    maxPixels: config.imageMaxPixels,
    timeoutMs: config.vision.taskTimeoutMs * 2,
  });
  registerOcrModel(vision.registry, ocr);
  // One task at a time: inference already uses every core through the vision workers.
  const background = new InProcessTasks(1, logger);
  const analysis = new AnalysisService({
    repo: new AnalysisRepository(db.kysely),
    ledger: new PredictionLedger(new AnalysisRepository(db.kysely)),
    vision,
    blobs,
    bus,
    faces: d.faces,
    academics: d.academics,
    config,
    tasks: background,
    logger,
  });
  analysis.registerWeights(OCR_MODEL, () => ocr.weightsSha256());
  const repo = new MediaRepository(db.kysely);
  const media = new MediaService({
    repo,
    db,
    blobs,
    identity: d.identity,
    processor: new MediaProcessor({ repo, db, blobs, analysis, config, logger }),
    translations: new TranslationService(repo, createTranslator(config)),
    tasks: background,
    config,
    logger,
  });
  return {
    analysis,
    media,
    background,
    close: async () => {
      await background.close();
      await ocr.close();
    },
  };
}
