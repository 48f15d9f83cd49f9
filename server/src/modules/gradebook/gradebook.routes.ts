import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import { requireActor } from '../identity/actor.ts';
import { GRADES_CSV_MAX_BYTES } from './gradebook-csv.ts';
import {
  gradebookOut,
  gradebookRowOut,
  historyOut,
  importResultOut,
  myGradesOut,
  offeringParams,
  setGradeBody,
  studentHistoryParams,
} from './gradebook.schemas.ts';
import { readOneFileBuffer } from '../../http/uploads.ts';

/** The grades file: one multipart file (any field name) or a text/csv body. */
async function readCsv(req: FastifyRequest): Promise<Buffer> {
  if (req.isMultipart()) {
    // A body cut short is the client's fault: 400 invalid_multipart, never a 500.
    return readOneFileBuffer(req, GRADES_CSV_MAX_BYTES);
  }
  if (Buffer.isBuffer(req.body)) return req.body;
  throw new AppError('unsupported_media_type', 415, 'Send the grades as text/csv or as a multipart file');
}

export const gradebookRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { gradebook } = ctx;
  const tags = ['gradebook'];

  // Scoped to this plugin: only the import route reads CSV bodies, within the file size limit.
  app.addContentTypeParser('text/csv', { parseAs: 'buffer', bodyLimit: GRADES_CSV_MAX_BYTES }, (_req, body, done) =>
    done(null, body),
  );

  app.get(
    '/offerings/:id/gradebook',
    { schema: { tags, params: offeringParams, response: { 200: gradebookOut } } },
    async (req) => gradebook.getGradebook(requireActor(req.actor), req.params.id),
  );

  app.post(
    '/offerings/:id/gradebook',
    { schema: { tags, params: offeringParams, body: setGradeBody, response: { 200: gradebookRowOut } } },
    async (req) => gradebook.setGrade(requireActor(req.actor), req.params.id, req.body.studentCode, req.body.score),
  );

  app.get(
    '/offerings/:id/gradebook/:studentCode/history',
    { schema: { tags, params: studentHistoryParams, response: { 200: historyOut } } },
    async (req) => gradebook.history(requireActor(req.actor), req.params.id, req.params.studentCode),
  );

  app.post(
    '/offerings/:id/gradebook/import',
    {
      schema: {
        tags,
        params: offeringParams,
        consumes: ['text/csv', 'multipart/form-data'],
        response: { 200: importResultOut },
      },
    },
    async (req) => {
      const actor = requireActor(req.actor);
      // Authorize before reading an upload, so a forbidden caller's file is never read.
      await gradebook.assertCanGrade(actor, req.params.id, 'grades:write');
      return gradebook.importCsv(actor, req.params.id, await readCsv(req));
    },
  );

  app.get(
    '/offerings/:id/gradebook/export.csv',
    { schema: { tags, params: offeringParams, produces: ['text/csv'] } },
    async (req, reply) => {
      const { filename, csv } = await gradebook.exportCsv(requireActor(req.actor), req.params.id);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .header('cache-control', 'no-store')
        .send(csv);
    },
  );

  app.get('/me/grades', { schema: { tags: ['profile'], response: { 200: myGradesOut } } }, async (req) =>
    gradebook.myGrades(requireActor(req.actor)),
  );
};
