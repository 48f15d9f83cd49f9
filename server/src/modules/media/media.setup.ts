import type { Config } from '../../config.ts';
import type { BlobStore } from '../../platform/blobs/index.ts';
import type { Bus } from '../../platform/bus/bus.ts';
import type { Db } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/logger.ts';
import type { JobQueue, QueueWorker } from '../../platform/queue/index.ts';
import type { Vision } from '../../vision/index.ts';
import { createTranslator } from '../../vision/translate/index.ts';
import type { AcademicsService } from '../academics/academics.service.ts';
import { AnalysisRepository } from '../analysis/analysis.repository.ts';
import { AnalysisService } from '../analysis/analysis.service.ts';
import { BackgroundTasks } from '../analysis/background.ts';
import { PredictionLedger } from '../analysis/ledger.ts';
import { addOcrModel } from '../analysis/ocr-model.ts';
import type { FacesService } from '../faces/faces.service.ts';
import { MediaProcessor } from './media-processing.ts';
import { MediaRepository } from './media.repository.ts';
import { MediaService } from './media.service.ts';
import { TranslationService } from './translation.service.ts';

/** Album processing and lab jobs, as the process running them sees them. */
export interface LabWorkers {
  /** Consumes album and lab work in this process, after queueing again what SQL says is unfinished. */
  start(): Promise<QueueWorker>;
  /** Resolves once no album or lab work is waiting or running. */
  idle(): Promise<void>;
}

/**
 * Builds the analysis lab (with the prediction ledger) and albums, which share the OCR engine,
 * the background work and the ledger. Called once by the composition root.
 */
export function createMediaAndAnalysis(d: {
  config: Config;
  logger: Logger;
  db: Db;
  blobs: BlobStore;
  bus: Bus;
  queue: JobQueue;
  vision: Vision;
  faces: FacesService;
  academics: AcademicsService;
}): { analysis: AnalysisService; media: MediaService; background: LabWorkers; close(): Promise<void> } {
  const { config, logger, db, blobs, bus, vision } = d;
  const ocr = addOcrModel(vision.registry, config);
  const tasks = new BackgroundTasks(d.queue, logger);
  const analysis = new AnalysisService({
    repo: new AnalysisRepository(db.kysely),
    ledger: new PredictionLedger(new AnalysisRepository(db.kysely)),
    vision,
    blobs,
    bus,
    faces: d.faces,
    academics: d.academics,
    config,
    tasks,
    logger,
  });
  const repo = new MediaRepository(db.kysely);
  const media = new MediaService({
    repo,
    db,
    blobs,
    processor: new MediaProcessor({ repo, db, blobs, analysis, config, logger }),
    translations: new TranslationService(repo, createTranslator(config)),
    tasks,
    config,
    logger,
  });
  return {
    analysis,
    media,
    background: {
      start: async () => {
        const worker = tasks.start();
        const [images, jobs] = await Promise.all([media.resume(), analysis.resume()]);
        if (images || jobs) logger.info({ images, jobs }, 'unfinished album and lab work queued again');
        return worker;
      },
      idle: () => tasks.idle(),
    },
    close: () => ocr.close(),
  };
}
