import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { requestMeta, setSessionCookies } from '../../http/auth.ts';
import { readSingleFile } from '../../http/uploads.ts';
import { AppError } from '../../platform/errors.ts';
import { requireActor } from '../identity/actor.ts';
import { toUserOut } from '../identity/identity.service.ts';
import {
  enrollFields,
  enrollOut,
  faceLoginJsonBody,
  faceLoginOut,
  modelOut,
  templateListOut,
  templateParams,
  userParams,
} from './faces.schemas.ts';
import { toTemplateOut } from './faces.service.ts';

function decodeDataUrl(url: string): Buffer {
  const comma = url.indexOf(',');
  const data = Buffer.from(url.slice(comma + 1), 'base64');
  if (data.length === 0) throw new AppError('empty_file', 400, 'The image is empty');
  return data;
}

export const facesRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { faces, config } = ctx;
  const secure = config.publicUrl?.startsWith('https://') ?? false;
  const tags = ['faces'];

  app.post(
    '/users/:id/faces',
    {
      schema: {
        tags,
        params: userParams,
        consumes: ['multipart/form-data'],
        response: { 201: enrollOut },
        description:
          'Enrolls one face photo (field "photo"; optional field "source": upload | webcam). The photo must show exactly one face of sufficient quality: otherwise 400 no_face, multiple_faces or low_quality with the reasons.',
      },
    },
    async (req, reply) => {
      const actor = requireActor(req.actor);
      const { file, fields } = await readSingleFile(req);
      const { source } = enrollFields.parse(fields);
      const { template, face } = await faces.enroll(actor, req.params.id, file.data, source);
      return reply
        .status(201)
        .send({ ...toTemplateOut(template), face: { box: face.box, score: face.score, quality: face.quality } });
    },
  );

  app.get(
    '/users/:id/faces',
    { schema: { tags, params: userParams, response: { 200: templateListOut } } },
    async (req) => {
      const { items, consent } = await faces.list(requireActor(req.actor), req.params.id);
      return { items: items.map(toTemplateOut), faceLoginConsent: consent };
    },
  );

  app.get('/users/:id/faces/:templateId/image', { schema: { tags, params: templateParams } }, async (req, reply) => {
    const blobId = await faces.templateImage(requireActor(req.actor), req.params.id, req.params.templateId);
    return reply
      .type('image/jpeg')
      .header('cache-control', 'private, max-age=300')
      .send(await ctx.blobs.get(blobId));
  });

  app.delete('/users/:id/faces/:templateId', { schema: { tags, params: templateParams } }, async (req, reply) => {
    await faces.deleteOne(requireActor(req.actor), req.params.id, req.params.templateId);
    return reply.status(204).send();
  });

  app.delete(
    '/users/:id/faces',
    {
      schema: {
        tags,
        params: userParams,
        response: { 200: z.object({ deleted: z.number() }) },
        description: 'Deletes all face data of the user (templates and their photos) and withdraws face sign-in.',
      },
    },
    async (req) => ({ deleted: await faces.deleteAll(requireActor(req.actor), req.params.id) }),
  );

  app.post(
    '/auth/face-login',
    {
      // A webcam frame as a data URL is a third larger than the file it encodes.
      bodyLimit: Math.ceil((config.uploadLimitBytes * 4) / 3) + 4096,
      schema: {
        tags: ['auth'],
        consumes: ['multipart/form-data', 'application/json'],
        response: { 200: faceLoginOut },
        description:
          'Signs in with a face: a multipart photo, or JSON { image: "data:image/jpeg;base64,…" } from the webcam. 401 with code no_face, liveness_failed or face_not_recognized when it fails.',
      },
    },
    async (req, reply) => {
      let image: Buffer;
      if (req.isMultipart()) image = (await readSingleFile(req)).file.data;
      else image = decodeDataUrl(faceLoginJsonBody.parse(req.body ?? {}).image);
      const meta = requestMeta(req);
      const r = await faces.faceLogin(image, meta);
      const s = await ctx.identity.startSession(r.user, meta, 'face');
      setSessionCookies(reply, s, secure);
      return {
        ...toUserOut(r.user),
        csrfToken: s.csrfToken,
        face: { distance: r.distance, confidence: r.confidence, antispoof: r.antispoof, liveness: r.liveness },
      };
    },
  );

  app.get(
    '/models',
    {
      schema: {
        tags: ['models'],
        response: { 200: z.array(modelOut) },
        description: 'The registered vision models, their weight hashes and the JSON schema of their parameters.',
      },
    },
    async (req) => {
      requireActor(req.actor);
      return ctx.vision.registry.list();
    },
  );
};
