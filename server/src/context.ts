import { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { AcademicsRepository } from './modules/academics/academics.repository.ts';
import { AcademicsService } from './modules/academics/academics.service.ts';
import { AttendanceRepository } from './modules/attendance/attendance.repository.ts';
import { AttendanceService } from './modules/attendance/attendance.service.ts';
import { FacesRepository } from './modules/faces/faces.repository.ts';
import { FacesService } from './modules/faces/faces.service.ts';
import { GradebookRepository } from './modules/gradebook/gradebook.repository.ts';
import { GradebookService } from './modules/gradebook/gradebook.service.ts';
import { GradesGrpcForwarder } from './modules/grades/grpc-forwarder.ts';
import { GradesService } from './modules/grades/grades.service.ts';
import { IdentityRepository } from './modules/identity/identity.repository.ts';
import { IdentityService } from './modules/identity/identity.service.ts';
import { LoadtestsRepository } from './modules/loadtests/loadtests.repository.ts';
import { LoadtestsService } from './modules/loadtests/loadtests.service.ts';
import type { AnalysisService } from './modules/analysis/analysis.service.ts';
import { createMediaAndAnalysis, type LabWorkers } from './modules/media/media.setup.ts';
import type { MediaService } from './modules/media/media.service.ts';
import { createBlobStore, type BlobStore } from './platform/blobs/index.ts';
import { MemoryBus, RedisBus, type Bus } from './platform/bus/bus.ts';
import { createDb, type Db } from './platform/db/database.ts';
import { migrateToLatest } from './platform/db/migrator.ts';
import { createQueue, type JobQueue } from './platform/queue/index.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import { createMailer } from './platform/mailer.ts';
import { createMetrics, type Metrics } from './platform/metrics.ts';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from './platform/rate-limiter.ts';
import { RoomRegistry } from './realtime/rooms.ts';
import { createVision, type Vision } from './vision/index.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/**
 * The composition root: the one place that builds platform pieces and services and wires them
 * together. Transports (HTTP, gRPC, sockets, CLI) receive this and call the services.
 */
export interface AppContext {
  config: Config;
  logger: Logger;
  db: Db;
  blobs: BlobStore;
  bus: Bus;
  redis: Redis | undefined;
  limiter: RateLimiter;
  metrics: Metrics;
  readiness: ReadinessCheck[];
  identity: IdentityService;
  academics: AcademicsService;
  loadtests: LoadtestsService;
  /** Vision engine, model registry and worker pool (workers start with the server or on first use). */
  vision: Vision;
  faces: FacesService;
  /** Grade ingest (group-commit writer), live counters and analytics. */
  grades: GradesService;
  /** Set by GRADES_FORWARD_GRPC: REST ingest is handed to the gRPC ingest service. */
  gradesForwarder: GradesGrpcForwarder | undefined;
  /** Offering gradebooks: effective grades, history, manual edits, CSV import and export. */
  gradebook: GradebookService;
  /** The image-analysis lab and the prediction ledger every model run is written to. */
  analysis: AnalysisService;
  /** Albums and photos: labels, people, OCR and translation. */
  media: MediaService;
  /** Album processing and lab jobs: started by the processes that run jobs. */
  background: LabWorkers;
  /** Background jobs: in process, or BullMQ on Redis when REDIS_URL is set. */
  queue: JobQueue;
  /** Attendance from the classroom camera: captures, analysis jobs, review, reports. */
  attendance: AttendanceService;
  /** Who may join which Socket.IO room, and what a joining socket receives first; modules register here. */
  rooms: RoomRegistry;
  /** Run on close, last registered first. */
  onClose: (fn: () => Promise<void> | void) => void;
  close(): Promise<void>;
}

export interface ContextOptions {
  logger?: Logger;
  migrate?: boolean;
}

export async function createContext(config: Config, opts: ContextOptions = {}): Promise<AppContext> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const closers: (() => Promise<void> | void)[] = [];
  const db = createDb(config.databaseUrl);
  closers.push(() => db.destroy());
  try {
    if (opts.migrate !== false) await migrateToLatest(db);
    const blobs = await createBlobStore(config.blobUrl);
    closers.push(() => blobs.close());
    let redis: Redis | undefined;
    let bus: Bus;
    let limiter: RateLimiter;
    if (config.redisUrl) {
      const r = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: true });
      r.on('error', (err) => logger.debug({ err }, 'redis error'));
      redis = r;
      closers.push(() => r.disconnect());
      const rb = new RedisBus(config.redisUrl);
      bus = rb;
      closers.push(() => rb.close());
      limiter = new RedisRateLimiter(r, config.rateLimitRedisPrefix);
    } else {
      bus = new MemoryBus();
      closers.push(() => bus.close());
      limiter = new MemoryRateLimiter();
    }
    const metrics = createMetrics();
    const identity = new IdentityService(new IdentityRepository(db.kysely), config, limiter, blobs);
    const mailer = createMailer(config.mail, logger);
    identity.enablePasswordResets(mailer, logger);
    closers.push(async () => {
      await identity.passwordResets.idle();
      mailer.close();
    });
    const academics = new AcademicsService(new AcademicsRepository(db.kysely), db, identity);
    const loadtests = new LoadtestsService(new LoadtestsRepository(db.kysely, db.dialect), db, bus);
    const vision = createVision(config, logger);
    closers.push(() => vision.close());
    const faces = new FacesService(
      new FacesRepository(db.kysely),
      identity,
      academics,
      blobs,
      vision,
      config,
      limiter,
      bus,
      logger,
    );
    closers.push(() => faces.close());
    const grades = new GradesService({ db, config, bus, logger, metrics, redisPrefix: config.gradesRedisPrefix });
    // Registered after the database and bus, so it drains its queue before they close.
    closers.push(() => grades.close());
    await grades.init();
    const forwardTo = config.gradesForwardGrpc;
    const gradesForwarder = forwardTo ? new GradesGrpcForwarder(forwardTo) : undefined;
    if (gradesForwarder) closers.push(() => gradesForwarder.close());
    const gradebook = new GradebookService(new GradebookRepository(db.kysely), academics, identity, grades);

    const queue = createQueue(config);
    closers.push(() => queue.close());
    const lab = createMediaAndAnalysis({ config, logger, db, blobs, bus, queue, vision, faces, academics });
    closers.push(() => lab.close());
    const attendance = new AttendanceService({
      repo: new AttendanceRepository(db.kysely, db.dialect),
      db,
      academics,
      faces,
      identity,
      vision,
      blobs,
      queue,
      bus,
      config,
      logger,
      analysis: lab.analysis,
    });
    const rooms = new RoomRegistry();
    attendance.registerRooms(rooms);

    const readiness: ReadinessCheck[] = [
      {
        name: 'database',
        check: async () => void (await db.kysely.selectFrom('settings').select('key').limit(1).execute()),
      },
      { name: 'blobs', check: () => blobs.check() },
      vision.readiness,
    ];
    if (redis) {
      const r = redis;
      readiness.push({ name: 'redis', check: async () => void (await r.ping()) });
    }

    return {
      config,
      logger,
      db,
      blobs,
      bus,
      redis,
      limiter,
      metrics,
      readiness,
      identity,
      academics,
      loadtests,
      vision,
      faces,
      grades,
      gradesForwarder,
      gradebook,
      analysis: lab.analysis,
      media: lab.media,
      background: lab.background,
      queue,
      attendance,
      rooms,
      onClose: (fn) => closers.push(fn),
      close: async () => {
        for (const fn of closers.splice(0).reverse()) {
          try {
            await fn();
          } catch (err) {
            logger.warn({ err }, 'error while closing');
          }
        }
      },
    };
  } catch (err) {
    for (const fn of closers.reverse()) await Promise.resolve(fn()).catch(() => {});
    throw err;
  }
}
