import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { readUploads } from '../analysis/read-uploads.ts';
import { requireActor } from '../identity/actor.ts';
import {
  albumBody,
  albumOut,
  albumPatch,
  deleteAlbumQuery,
  faceOut,
  faceParams,
  facePatch,
  idParams,
  imageDetailOut,
  imageOut,
  imagePatch,
  imageTranslateBody,
  labelCountOut,
  listImagesQuery,
  ocrBody,
  page,
  textOut,
  translateBody,
  translationOut,
  translatorOut,
  uploadFields,
  uploadOut,
} from './media.schemas.ts';

export const mediaRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { media } = ctx;
  const atags = ['albums'];
  const itags = ['images'];

  // ---- albums ------------------------------------------------------------------------------

  app.get('/albums', { schema: { tags: atags, response: { 200: z.array(albumOut) } } }, async (req) =>
    media.listAlbums(requireActor(req.actor)),
  );

  app.post(
    '/albums',
    {
      schema: {
        tags: atags,
        body: albumBody,
        response: { 201: albumOut },
        description: 'Creates an album. With smartLabel it is a smart album: every photo of yours with that label.',
      },
    },
    async (req, reply) => reply.status(201).send(await media.createAlbum(requireActor(req.actor), req.body)),
  );

  app.get('/albums/:id', { schema: { tags: atags, params: idParams, response: { 200: albumOut } } }, async (req) =>
    media.getAlbum(requireActor(req.actor), req.params.id),
  );

  app.patch(
    '/albums/:id',
    { schema: { tags: atags, params: idParams, body: albumPatch, response: { 200: albumOut } } },
    async (req) => media.updateAlbum(requireActor(req.actor), req.params.id, req.body),
  );

  app.delete(
    '/albums/:id',
    {
      schema: {
        tags: atags,
        params: idParams,
        querystring: deleteAlbumQuery,
        description:
          'Deletes the album; ?images=keep (default) leaves its photos in the library, ?images=delete deletes them.',
      },
    },
    async (req, reply) => {
      await media.deleteAlbum(requireActor(req.actor), req.params.id, req.query.images);
      return reply.status(204).send();
    },
  );

  // ---- images ------------------------------------------------------------------------------

  app.get(
    '/images',
    {
      schema: {
        tags: itags,
        querystring: listImagesQuery,
        response: { 200: page(imageOut) },
        description:
          'Your photos (scope=mine), filtered by album, label or text; or photos others share (scope=shared).',
      },
    },
    async (req) => {
      const q = req.query;
      const { items, total } = await media.listImages(requireActor(req.actor), q);
      return { items, total, limit: q.limit, offset: q.offset };
    },
  );

  app.post(
    '/images',
    {
      schema: {
        tags: itags,
        consumes: ['multipart/form-data'],
        response: { 201: uploadOut },
        description:
          'Uploads one or more photos (any file field names) with optional fields albumId, title, description and shared. Each photo is then labelled, its faces matched and, when it looks like a document, its text extracted, in the background.',
      },
    },
    async (req, reply) => {
      const actor = requireActor(req.actor);
      const { files, fields } = await readUploads(req, 50);
      const f = uploadFields.parse(fields);
      return reply.status(201).send(await media.upload(actor, { files, ...f }));
    },
  );

  app.get(
    '/images/:id',
    { schema: { tags: itags, params: idParams, response: { 200: imageDetailOut } } },
    async (req) => media.getImage(requireActor(req.actor), req.params.id),
  );

  app.patch(
    '/images/:id',
    {
      schema: {
        tags: itags,
        params: idParams,
        body: imagePatch,
        response: { 200: imageOut },
        description:
          'Edits title, description or sharing, or moves the photo to another album (albumId null: no album).',
      },
    },
    async (req) => media.updateImage(requireActor(req.actor), req.params.id, req.body),
  );

  app.delete('/images/:id', { schema: { tags: itags, params: idParams } }, async (req, reply) => {
    await media.deleteImage(requireActor(req.actor), req.params.id);
    return reply.status(204).send();
  });

  app.get(
    '/images/:id/file',
    {
      schema: {
        tags: itags,
        params: idParams,
        querystring: z.strictObject({ size: z.enum(['full', 'thumb']).default('full') }),
      },
    },
    async (req, reply) => {
      const blobId = await media.imageFile(requireActor(req.actor), req.params.id, req.query.size);
      // Blob ids are content-addressed per upload: the bytes behind one never change.
      return reply
        .type('image/jpeg')
        .header('cache-control', 'private, max-age=86400, immutable')
        .send(await ctx.blobs.get(blobId));
    },
  );

  app.post(
    '/images/:id/reprocess',
    { schema: { tags: itags, params: idParams, response: { 202: imageOut } } },
    async (req, reply) => reply.status(202).send(await media.reprocess(requireActor(req.actor), req.params.id)),
  );

  app.post(
    '/images/:id/ocr',
    {
      schema: {
        tags: itags,
        params: idParams,
        body: ocrBody,
        response: { 200: textOut },
        description:
          'Extracts the text of the photo now (tesseract, English and Spanish), replacing any earlier result.',
      },
    },
    async (req) => media.extractText(requireActor(req.actor), req.params.id, req.body.lang),
  );

  app.post(
    '/images/:id/translate',
    {
      schema: {
        tags: itags,
        params: idParams,
        body: imageTranslateBody,
        response: { 200: translationOut },
        description: 'Translates the description or the extracted text of the photo; answers are cached.',
      },
    },
    async (req) => {
      const { field, from, to } = req.body;
      return media.translateImage(requireActor(req.actor), req.params.id, field, from, to);
    },
  );

  app.patch(
    '/images/:id/faces/:faceId',
    {
      schema: {
        tags: itags,
        params: faceParams,
        body: facePatch,
        response: { 200: faceOut },
        description:
          'Corrects who a face is (userId null: nobody known). Corrections are kept when the photo is analysed again.',
      },
    },
    async (req) => media.correctFace(requireActor(req.actor), req.params.id, req.params.faceId, req.body.userId),
  );

  app.delete('/images/:id/faces/:faceId', { schema: { tags: itags, params: faceParams } }, async (req, reply) => {
    await media.deleteFace(requireActor(req.actor), req.params.id, req.params.faceId);
    return reply.status(204).send();
  });

  app.get(
    '/labels',
    {
      schema: {
        tags: itags,
        response: { 200: z.array(labelCountOut) },
        description: 'The labels of your library with the number of photos carrying each.',
      },
    },
    async (req) => media.labels(requireActor(req.actor)),
  );

  app.get(
    '/people',
    {
      schema: {
        tags: itags,
        querystring: z.strictObject({ q: z.string().trim().max(100).optional() }),
        response: { 200: z.array(z.object({ id: z.string(), username: z.string(), fullName: z.string() })) },
        description: 'People who allow face recognition (up to 20), to name a face in a photo by hand.',
      },
    },
    async (req) => media.people(requireActor(req.actor), req.query.q),
  );

  // ---- translation -------------------------------------------------------------------------

  app.get(
    '/translation',
    {
      schema: {
        tags: ['translation'],
        response: { 200: translatorOut },
        description: 'The configured translation provider and the language pairs it offers.',
      },
    },
    async (req) => {
      requireActor(req.actor);
      return media.translations.info();
    },
  );

  app.post(
    '/translations',
    { schema: { tags: ['translation'], body: translateBody, response: { 200: translationOut } } },
    async (req) => media.translate(requireActor(req.actor), req.body.text, req.body.from, req.body.to),
  );
};
