import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { clearSessionCookies, requestMeta, SESSION_COOKIE, setSessionCookies } from '../../http/auth.ts';
import { readSingleFile } from '../../http/uploads.ts';
import { toIso } from '../../platform/time.ts';
import { requireActor, requireRole } from './actor.ts';
import type { ApiTokenRow } from './identity.repository.ts';
import {
  auditQuery,
  changePasswordBody,
  createTokenBody,
  createUserBody,
  idParams,
  listUsersQuery,
  loginBody,
  meOut,
  page,
  passwordResetBody,
  passwordResetRequestBody,
  registerBody,
  tokenOut,
  updateMeBody,
  updateUserBody,
  userOut,
} from './identity.schemas.ts';
import { toUserOut } from './identity.service.ts';

const tokenToOut = (t: ApiTokenRow) => ({
  id: t.id,
  userId: t.user_id,
  name: t.name,
  scopes: t.scopes.split(',').filter(Boolean),
  createdAt: toIso(t.created_at)!,
  lastUsedAt: toIso(t.last_used_at),
  expiresAt: toIso(t.expires_at),
  revokedAt: toIso(t.revoked_at),
});

export const identityRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { identity, config } = ctx;
  const secure = config.publicUrl?.startsWith('https://') ?? false;
  const tags = ['auth'];

  app.post('/auth/login', { schema: { tags, body: loginBody, response: { 200: meOut } } }, async (req, reply) => {
    const s = await identity.login(req.body.login, req.body.password, requestMeta(req));
    await identity.endSessionToken(req.cookies[SESSION_COOKIE]);
    setSessionCookies(reply, s, secure);
    return { ...toUserOut(s.user), csrfToken: s.csrfToken };
  });

  app.post('/auth/register', { schema: { tags, body: registerBody, response: { 201: meOut } } }, async (req, reply) => {
    const user = await identity.register(req.body);
    const s = await identity.startSession(user, requestMeta(req), 'password');
    await identity.endSessionToken(req.cookies[SESSION_COOKIE]);
    setSessionCookies(reply, s, secure);
    return reply.status(201).send({ ...toUserOut(user), csrfToken: s.csrfToken });
  });

  app.post('/auth/logout', { schema: { tags } }, async (req, reply) => {
    if (req.actor?.sessionId) await identity.logout(req.actor.sessionId);
    clearSessionCookies(reply);
    return reply.status(204).send();
  });

  app.post(
    '/auth/logout-all',
    { schema: { tags, response: { 200: z.object({ sessions: z.number() }) } } },
    async (req, reply) => {
      const n = await identity.logoutEverywhere(requireActor(req.actor));
      clearSessionCookies(reply);
      return { sessions: n };
    },
  );

  // ---- forgot password -------------------------------------------------------------------
  app.post(
    '/auth/password-reset',
    {
      schema: {
        tags,
        body: passwordResetRequestBody,
        response: { 202: z.object({ status: z.literal('accepted') }) },
        description:
          'Mails a single-use link to set a new password, if the address belongs to an account. The answer is the same for every address.',
      },
    },
    async (req, reply) => {
      await identity.passwordResets.request(req.body.email, requestMeta(req));
      return reply.status(202).send({ status: 'accepted' as const });
    },
  );

  app.post(
    '/auth/password-reset/confirm',
    {
      schema: {
        tags,
        body: passwordResetBody,
        description:
          'Sets a new password with the token of a reset link. The link stops working, and every session of the account ends.',
      },
    },
    async (req, reply) => {
      await identity.passwordResets.confirm(req.body.token, req.body.newPassword, requestMeta(req));
      clearSessionCookies(reply);
      return reply.status(204).send();
    },
  );

  app.get('/auth/me', { schema: { tags, response: { 200: meOut } } }, async (req) => {
    const actor = requireActor(req.actor);
    const u = await identity.getUser(actor, actor.id);
    const csrf = req.cookies.aula_csrf ?? null;
    return { ...toUserOut(u), csrfToken: actor.via === 'session' ? csrf : null };
  });

  app.patch('/me', { schema: { tags: ['profile'], body: updateMeBody, response: { 200: userOut } } }, async (req) =>
    toUserOut(await identity.updateMe(requireActor(req.actor), req.body)),
  );

  app.post('/me/password', { schema: { tags: ['profile'], body: changePasswordBody } }, async (req, reply) => {
    const actor = requireActor(req.actor);
    const fresh = await identity.changePassword(
      actor,
      req.body.currentPassword,
      req.body.newPassword,
      requestMeta(req),
    );
    if (fresh) setSessionCookies(reply, fresh, secure);
    return reply.status(204).send();
  });

  app.put(
    '/me/photo',
    { schema: { tags: ['profile'], consumes: ['multipart/form-data'], response: { 200: userOut } } },
    async (req) => {
      const actor = requireActor(req.actor);
      const { file } = await readSingleFile(req);
      return toUserOut(await identity.setProfilePhoto(actor, actor.id, file.data));
    },
  );

  app.put(
    '/users/:id/photo',
    { schema: { tags: ['users'], params: idParams, consumes: ['multipart/form-data'], response: { 200: userOut } } },
    async (req) => {
      const actor = requireRole(req.actor, 'admin');
      const { file } = await readSingleFile(req);
      return toUserOut(await identity.setProfilePhoto(actor, req.params.id, file.data));
    },
  );

  app.get(
    '/users/:id/photo',
    {
      schema: {
        tags: ['users'],
        params: idParams,
        querystring: z.strictObject({ size: z.enum(['full', 'thumb']).default('thumb') }),
      },
    },
    async (req, reply) => {
      const blobId = await identity.profilePhotoBlob(requireActor(req.actor), req.params.id, req.query.size);
      const stream = await ctx.blobs.get(blobId);
      return reply.type('image/jpeg').header('cache-control', 'private, max-age=300').send(stream);
    },
  );

  // ---- users (admin) -----------------------------------------------------------------------
  const utags = ['users'];
  app.get(
    '/users',
    { schema: { tags: utags, querystring: listUsersQuery, response: { 200: page(userOut) } } },
    async (req) => {
      const q = req.query;
      const { items, total } = await identity.listUsers(requireActor(req.actor), {
        role: q.role,
        q: q.q,
        sort: q.sort,
        order: q.order,
        limit: q.limit,
        offset: q.offset,
      });
      return { items: items.map(toUserOut), total, limit: q.limit, offset: q.offset };
    },
  );

  app.post(
    '/users',
    { schema: { tags: utags, body: createUserBody, response: { 201: userOut } } },
    async (req, reply) => {
      const actor = requireRole(req.actor, 'admin');
      return reply.status(201).send(toUserOut(await identity.createUser(req.body, actor)));
    },
  );

  app.get('/users/:id', { schema: { tags: utags, params: idParams, response: { 200: userOut } } }, async (req) =>
    toUserOut(await identity.getUser(requireActor(req.actor), req.params.id)),
  );

  app.patch(
    '/users/:id',
    { schema: { tags: utags, params: idParams, body: updateUserBody, response: { 200: userOut } } },
    async (req) => toUserOut(await identity.updateUser(requireActor(req.actor), req.params.id, req.body)),
  );

  app.delete('/users/:id', { schema: { tags: utags, params: idParams } }, async (req, reply) => {
    await identity.deleteUser(requireActor(req.actor), req.params.id);
    return reply.status(204).send();
  });

  // ---- API tokens (admin) ------------------------------------------------------------------
  const ttags = ['tokens'];
  app.get('/tokens', { schema: { tags: ttags, response: { 200: z.array(tokenOut) } } }, async (req) =>
    (await identity.listApiTokens(requireActor(req.actor))).map(tokenToOut),
  );

  app.post(
    '/tokens',
    { schema: { tags: ttags, body: createTokenBody, response: { 201: tokenOut.extend({ token: z.string() }) } } },
    async (req, reply) => {
      const { token, row } = await identity.createApiToken(requireActor(req.actor), req.body);
      return reply.status(201).send({ ...tokenToOut(row), token });
    },
  );

  app.delete('/tokens/:id', { schema: { tags: ttags, params: idParams } }, async (req, reply) => {
    await identity.revokeApiToken(requireActor(req.actor), req.params.id);
    return reply.status(204).send();
  });

  // ---- audit log (admin) -------------------------------------------------------------------
  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        querystring: auditQuery,
        description:
          'Sensitive actions, newest first: role changes, face data, grade edits, attendance overrides, password resets, signing out everywhere… Filters: action (a name such as face.enroll, or a family such as face), actor, target, and a time range.',
        response: {
          200: page(
            z.object({
              id: z.string(),
              actorId: z.string().nullable(),
              action: z.string(),
              targetType: z.string().nullable(),
              targetId: z.string().nullable(),
              details: z.unknown(),
              ip: z.string().nullable(),
              createdAt: z.string(),
            }),
          ),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const { items, total } = await identity.listAudit(requireActor(req.actor), {
        action: q.action,
        actorId: q.actor,
        targetType: q.targetType,
        targetId: q.target,
        from: q.from === undefined ? undefined : Date.parse(q.from),
        to: q.to === undefined ? undefined : Date.parse(q.to),
        limit: q.limit,
        offset: q.offset,
      });
      return {
        items: items.map((a) => ({
          id: a.id,
          actorId: a.actor_id,
          action: a.action,
          targetType: a.target_type,
          targetId: a.target_id,
          details: a.details ? (JSON.parse(a.details) as unknown) : null,
          ip: a.ip,
          createdAt: toIso(a.created_at)!,
        })),
        total,
        limit: req.query.limit,
        offset: req.query.offset,
      };
    },
  );
};
