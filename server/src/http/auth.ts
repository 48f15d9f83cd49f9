import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AppContext } from '../context.ts';
import type { Actor } from '../modules/identity/actor.ts';
import { AppError } from '../platform/errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
}

export const SESSION_COOKIE = 'aula_session';
export const CSRF_COOKIE = 'aula_csrf';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function requestMeta(req: FastifyRequest) {
  return { ip: req.ip ?? null, userAgent: req.headers['user-agent'] ?? null };
}

/**
 * Resolves the caller once per request: a session cookie (browser) or a bearer token (machines).
 * Cookie-authenticated writes must echo the session's CSRF token in a header (double submit),
 * which a cross-site form or fetch cannot do.
 */
export const authPlugin = fp(async (app: FastifyInstance, opts: { ctx: AppContext }) => {
  const { identity } = opts.ctx;
  app.decorateRequest('actor', null);
  app.addHook('preHandler', async (req) => {
    const auth = req.headers.authorization;
    if (auth) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      if (!m) throw new AppError('invalid_authorization', 401, 'Authorization must be "Bearer <token>"');
      const actor = await identity.resolveApiToken(m[1]);
      if (!actor) throw new AppError('invalid_token', 401, 'The API token is not valid, expired or revoked');
      req.actor = actor;
      return;
    }
    const token = req.cookies[SESSION_COOKIE];
    if (!token) return;
    const session = await identity.resolveSession(token);
    if (!session) return;
    if (!SAFE_METHODS.has(req.method) && !isCsrfExempt(req)) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || sent !== session.csrfToken) {
        throw new AppError('csrf_failed', 403, 'Missing or wrong CSRF token');
      }
    }
    req.actor = session.actor;
  });
});

// Signing in replaces whatever session the browser had, so it needs no CSRF token.
function isCsrfExempt(req: FastifyRequest): boolean {
  const url = req.routeOptions.url ?? '';
  return url === '/api/v1/auth/login' || url === '/api/v1/auth/face-login' || url === '/api/v1/auth/register';
}

export function setSessionCookies(
  reply: FastifyReply,
  session: { token: string; csrfToken: string; expiresAt: number },
  secure: boolean,
): void {
  const expires = new Date(session.expiresAt);
  void reply.setCookie(SESSION_COOKIE, session.token, { path: '/', httpOnly: true, sameSite: 'lax', secure, expires });
  void reply.setCookie(CSRF_COOKIE, session.csrfToken, {
    path: '/',
    httpOnly: false,
    sameSite: 'strict',
    secure,
    expires,
  });
}

export function clearSessionCookies(reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, { path: '/' });
  void reply.clearCookie(CSRF_COOKIE, { path: '/' });
}
