import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AppContext } from '../context.ts';
import type { Actor } from '../modules/identity/actor.ts';
import { AppError } from '../platform/errors.ts';
import { assertTokenMayCall } from './token-scopes.ts';

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
 * which a cross-site form or fetch cannot do. A bearer token reaches only the routes its scopes
 * open (see token-scopes.ts).
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
      assertTokenMayCall(actor, req.method, req.routeOptions.url);
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

/**
 * Signing in replaces whatever session the browser had, and the password-reset routes act on
 * the token in their body, never on the cookie: none of them needs a CSRF token.
 */
const CSRF_EXEMPT = new Set([
  '/api/v1/auth/login',
  '/api/v1/auth/face-login',
  '/api/v1/auth/register',
  '/api/v1/auth/password-reset',
  '/api/v1/auth/password-reset/confirm',
]);

export function isCsrfExempt(req: FastifyRequest): boolean {
  return CSRF_EXEMPT.has(req.routeOptions.url ?? '');
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
