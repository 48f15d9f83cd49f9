import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  method: string;
  url: string;
}

const tables = new WeakMap<FastifyInstance, RouteEntry[]>();

/**
 * Records every route as it is registered, so tests can walk the whole API (the authorization
 * matrix fails when a route has no entry). Call before any route is added.
 */
export function trackRoutes(app: FastifyInstance): void {
  const routes: RouteEntry[] = [];
  tables.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method: String(method), url: r.url });
  });
}

/** Every route of the app, HEAD routes Fastify adds for GET ones included. */
export function routeTable(app: FastifyInstance): readonly RouteEntry[] {
  const t = tables.get(app);
  if (!t) throw new Error('routes were not tracked for this app');
  return t;
}
