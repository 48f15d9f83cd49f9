import fs from 'node:fs';
import path from 'node:path';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { AppContext } from '../context.ts';
import { academicsRoutes } from '../modules/academics/academics.routes.ts';
import { attendanceRoutes } from '../modules/attendance/attendance.routes.ts';
import { analysisRoutes } from '../modules/analysis/analysis.routes.ts';
import { facesRoutes } from '../modules/faces/faces.routes.ts';
import { gradebookRoutes } from '../modules/gradebook/gradebook.routes.ts';
import { gradesRoutes } from '../modules/grades/grades.routes.ts';
import { identityRoutes } from '../modules/identity/identity.routes.ts';
import { loadtestsRoutes } from '../modules/loadtests/loadtests.routes.ts';
import { mediaRoutes } from '../modules/media/media.routes.ts';
import { authPlugin } from './auth.ts';
import { problem, sendProblem } from './problem.ts';
import { trackRoutes } from './route-table.ts';
import { registerSecurityHeaders } from './security-headers.ts';

export type App = FastifyInstance;

export async function buildApp(ctx: AppContext): Promise<App> {
  const { config } = ctx;
  const httpLogger: FastifyBaseLogger = ctx.logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: httpLogger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // Unknown fields are rejected by strict zod schemas; ajv is not used.
    ajv: { customOptions: { removeAdditional: false } },
    requestTimeout: 120_000,
  }).withTypeProvider<ZodTypeProvider>();

  trackRoutes(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err, req, reply) => sendProblem(reply, req, err));
  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0];
    if (
      req.method === 'GET' &&
      !url.startsWith('/api/') &&
      !url.startsWith('/docs') &&
      !url.startsWith('/health') &&
      spaIndex
    ) {
      return reply.type('text/html').header('cache-control', 'no-cache').send(spaIndex);
    }
    return reply
      .status(404)
      .type('application/problem+json')
      .send(problem(404, 'route_not_found', `No route for ${req.method} ${url}`, { instance: url }));
  });

  registerSecurityHeaders(app, { publicUrl: config.publicUrl });
  await app.register(cookie);
  await app.register(multipart, {
    limits: { fileSize: config.uploadLimitBytes, files: 100, fields: 50, parts: 200, fieldSize: 1024 * 1024 },
    throwFileSizeLimit: true,
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Aula API',
        version: '1.0.0',
        description: 'REST API of Aula. Errors are application/problem+json.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'aula_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  const started = new WeakMap<object, bigint>();
  app.addHook('onRequest', async (req) => {
    started.set(req, process.hrtime.bigint());
  });
  app.addHook('onResponse', async (req, reply) => {
    const t0 = started.get(req);
    if (t0 === undefined) return;
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.httpDuration.observe(
      { method: req.method, route, status: String(reply.statusCode) },
      Number(process.hrtime.bigint() - t0) / 1e9,
    );
  });

  await app.register(authPlugin, { ctx });

  app.get('/health/live', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { hide: true } }, async (_req, reply) => {
    const results = await Promise.all(
      ctx.readiness.map(async (r) => {
        try {
          await withTimeout(r.check(), 3000);
          return { name: r.name, ok: true as const };
        } catch (err) {
          return { name: r.name, ok: false as const, error: (err as Error).message.slice(0, 200) };
        }
      }),
    );
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) {
      return reply
        .status(503)
        .type('application/problem+json')
        .send(problem(503, 'not_ready', `Not ready: ${failed.map((f) => f.name).join(', ')}`, { checks: results }));
    }
    return { status: 'ready', checks: results };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  await app.register(
    async (api) => {
      await api.register(identityRoutes, { ctx });
      await api.register(academicsRoutes, { ctx });
      await api.register(attendanceRoutes, { ctx });
      await api.register(facesRoutes, { ctx });
      await api.register(loadtestsRoutes, { ctx });
      await api.register(gradesRoutes, { ctx });
      await api.register(gradebookRoutes, { ctx });
      await api.register(mediaRoutes, { ctx });
      await api.register(analysisRoutes, { ctx });
    },
    { prefix: '/api/v1' },
  );

  let spaIndex: string | undefined;
  const indexFile = path.join(config.webDist, 'index.html');
  if (fs.existsSync(indexFile)) {
    spaIndex = fs.readFileSync(indexFile, 'utf8');
    await app.register(fastifyStatic, {
      root: config.webDist,
      prefix: '/',
      index: false,
      wildcard: false,
      decorateReply: true,
      maxAge: '1h',
      immutable: false,
    });
    app.get('/', { schema: { hide: true } }, (_req, reply) =>
      reply.type('text/html').header('cache-control', 'no-cache').send(spaIndex),
    );
  }

  return app;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
