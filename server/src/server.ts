import type { Config } from './config.ts';
import { createContext, type AppContext } from './context.ts';
import { buildApp, type App } from './http/app.ts';
import { ensureBootstrap } from './seed/bootstrap.ts';

export type Role = 'all' | 'api' | 'ingest-grpc' | 'worker';

export interface RunningServer {
  ctx: AppContext;
  app: App | undefined;
  url: string | undefined;
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
  try {
    if (role === 'all' || role === 'api') {
      const boot = await ensureBootstrap(ctx);
      app = await buildApp(ctx);
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
    }
  } catch (err) {
    await app?.close();
    await ctx.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await app?.close();
      await ctx.close();
    })());
  return { ctx, app, url, stop };
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
