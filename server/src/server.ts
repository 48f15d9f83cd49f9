import type { Config } from './config.ts';
import { createContext, type AppContext } from './context.ts';
import { startGrpcServer, type GrpcServerHandle } from './grpc/server.ts';
import { buildApp, type App } from './http/app.ts';
import { startRealtime, type Realtime } from './realtime/index.ts';
import { ensureBootstrap } from './seed/bootstrap.ts';

export type Role = 'all' | 'api' | 'ingest-grpc' | 'worker';

export interface RunningServer {
  ctx: AppContext;
  app: App | undefined;
  url: string | undefined;
  /** The bound gRPC port (roles all and ingest-grpc). */
  grpcPort: number | undefined;
  /** Socket.IO on the HTTP server (roles all and api). */
  realtime: Realtime | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the parts of Aula that a role needs. `all` is the embedded single process of
 * `npm start`; the others are the separate roles of a scaled deployment.
 */
export async function runServer(
  config: Config,
  role: Role,
  opts: { print?: (line: string) => void } = {},
): Promise<RunningServer> {
  const print = opts.print ?? ((line: string) => console.log(line));
  const ctx = await createContext(config);
  let app: App | undefined;
  let url: string | undefined;
  let grpc: GrpcServerHandle | undefined;
  let realtime: Realtime | undefined;
  try {
    if (role !== 'ingest-grpc') startVision(ctx);
    // Jobs run where a worker is: in every `all` process, in `aula worker` processes, and in an
    // `api` process too when the queue is in process (nothing else could take its jobs).
    if (role === 'all' || role === 'worker' || (role === 'api' && ctx.queue.kind === 'memory')) {
      await startJobWorkers(ctx);
      if (role === 'worker') print(`Aula worker running (queue: ${ctx.queue.kind})`);
    }
    if (role === 'all' || role === 'api') {
      const boot = await ensureBootstrap(ctx);
      app = await buildApp(ctx);
      realtime = await startRealtime(ctx, app.server);
      await app.listen({ host: config.host, port: config.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      url = config.publicUrl ?? `http://localhost:${port}`;
      print(`Aula is running at ${url}`);
      print(`  REST API   ${url}/api/v1   (OpenAPI: ${url}/docs)`);
      if (boot.generatedAdminPassword) {
        print(`  Sign in as "admin" with the generated password: ${boot.generatedAdminPassword}`);
        print('  (shown once; set AULA_ADMIN_PASSWORD to choose it, or change it on the profile page)');
      } else if (boot.createdAdmin) {
        print('  Sign in as "admin" with the password from AULA_ADMIN_PASSWORD');
      } else {
        print('  Sign in with your account (the demo admin is "admin")');
      }
      if (boot.seededDemo) {
        print('  Demo accounts: teachers "teacher1"/"teacher2" and students (e.g. "201900001") use the same password');
      }
    }
    if (role === 'all' || role === 'ingest-grpc') {
      grpc = await startGrpcServer(ctx);
      print(`  gRPC       ${config.grpcHost}:${grpc.port}   (aula.grades.v1.Grades)`);
    }
    if (role !== 'worker') checkGradeCounters(ctx);
  } catch (err) {
    await grpc?.stop(1000);
    await realtime?.close();
    await app?.close();
    await ctx.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Stop taking calls on every transport; closing the context then drains the grade writer.
      // Sockets go first: open WebSockets would otherwise hold the HTTP server open.
      await realtime?.close();
      await Promise.all([grpc?.stop(), app?.close()]);
      await ctx.close();
    })());
  return { ctx, app, url, grpcPort: grpc?.port, realtime, stop };
}

/** Background jobs (attendance captures, the retention sweep, album photos, lab analyses), consumed here until stop. */
async function startJobWorkers(ctx: AppContext): Promise<void> {
  const workers = await ctx.attendance.startWorkers();
  ctx.onClose(() => workers.close());
  const lab = await ctx.background.start();
  ctx.onClose(() => lab.close());
  const { scheduleBlobSweep } = await import('./modules/blobs/blobs.setup.ts');
  ctx.onClose(scheduleBlobSweep(ctx));
}

/** Vision models load in the background; /health/ready stays failing (naming them) until they do. */
function startVision(ctx: AppContext): void {
  const t0 = Date.now();
  ctx.vision.start().then(
    () => {
      const s = ctx.vision.pool.status();
      if (s.failed.length) return; // already logged, by model, by the pool
      ctx.logger.info({ workers: s.ready, backend: s.backend, ms: Date.now() - t0 }, 'vision models loaded');
    },
    (err: unknown) => ctx.logger.error({ err }, 'vision workers did not start'),
  );
}

/** Live grade counters in Redis are compared with SQL at start and rebuilt when they differ. */
function checkGradeCounters(ctx: AppContext): void {
  ctx.grades.startupCheck().then(
    (r) => r && ctx.logger.info(r, 'grade counters rebuilt from SQL'),
    (err: unknown) =>
      ctx.logger.warn({ err }, 'grade counter check failed; counters will be rebuilt when Redis is back'),
  );
}

/** Stops cleanly on SIGINT/SIGTERM, finishing in-flight requests first. */
export function stopOnSignals(server: RunningServer): void {
  const handler = (signal: string) => {
    server.ctx.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
