import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.ts';
import { readUpload, readUploads } from './read-uploads.ts';
import { AppError } from '../../platform/errors.ts';
import { requireActor } from '../identity/actor.ts';
import type { PredictionFilter } from './analysis.repository.ts';
import {
  analysisFields,
  exportPredictionsQuery,
  inputParams,
  jobDetailOut,
  jobOut,
  jobParams,
  listJobsQuery,
  listPredictionsQuery,
  modelParams,
  page,
  predictFields,
  predictionOut,
  predictionParams,
} from './analysis.schemas.ts';
import { PROGRESS_EVENT, toInputOut, toJobOut } from './analysis.service.ts';
import { toPredictionOut } from './ledger.ts';

const toFilter = (q: {
  model?: string;
  user?: string;
  from?: number;
  to?: number;
  input_sha256?: string;
  job?: string;
  source?: PredictionFilter['source'];
}): PredictionFilter => ({
  model: q.model,
  userId: q.user,
  from: q.from,
  to: q.to,
  inputSha256: q.input_sha256,
  jobId: q.job,
  source: q.source,
});

export const analysisRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { analysis } = ctx;
  const tags = ['analysis'];

  // Progress of a job goes to room job:<id>, which only its owner (or an admin) may join.
  if (!ctx.rooms.resolve('job:probe')) {
    ctx.rooms.registerRoomAuthorizer('job', (actor, _room, key) => analysis.canWatch(actor, key));
    ctx.rooms.registerRoomSnapshot('job', async (_room, key) => {
      const payload = await analysis.snapshot(key);
      return payload ? { event: PROGRESS_EVENT, payload } : null;
    });
  }

  app.post(
    '/analyses',
    {
      schema: {
        tags,
        consumes: ['multipart/form-data'],
        response: { 202: jobOut },
        description:
          'Starts an analysis: field "model", field "parameters" (a JSON object checked against the model\'s schema), and image files or one zip of images. Answers 202 with the job; follow it at GET /analyses/{id} or in Socket.IO room job:{id} (event analysis.progress). Files that are not usable images become per-file errors; hostile archives are refused with 400.',
      },
    },
    async (req, reply) => {
      const actor = requireActor(req.actor);
      const { files, fields } = await readUploads(req, 100);
      const f = analysisFields.parse(fields);
      const job = await analysis.createJob(actor, {
        model: f.model,
        parameters: f.parameters,
        files,
        source: f.source,
      });
      return reply.status(202).send(toJobOut(job));
    },
  );

  app.get(
    '/analyses',
    { schema: { tags, querystring: listJobsQuery, response: { 200: page(jobOut) } } },
    async (req) => {
      const { items, total } = await analysis.listJobs(requireActor(req.actor), req.query);
      return { items: items.map(toJobOut), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    '/analyses/:id',
    {
      schema: {
        tags,
        params: jobParams,
        response: { 200: jobDetailOut },
        description: 'A job with its inputs and predictions.',
      },
    },
    async (req) => {
      const { job, inputs, predictions } = await analysis.getJob(requireActor(req.actor), req.params.id);
      return { ...toJobOut(job), inputs: inputs.map(toInputOut), predictions: predictions.map(toPredictionOut) };
    },
  );

  app.post(
    '/analyses/:id/rerun',
    {
      schema: {
        tags,
        params: jobParams,
        response: { 202: jobOut },
        description:
          'Runs the analysis again with the same model version, weights and parameters over the same images. 409 when the model has changed since.',
      },
    },
    async (req, reply) =>
      reply.status(202).send(toJobOut(await analysis.rerun(requireActor(req.actor), req.params.id))),
  );

  app.get('/analyses/:id/inputs/:inputId/image', { schema: { tags, params: inputParams } }, async (req, reply) => {
    const { blobId, contentType } = await analysis.inputImage(
      requireActor(req.actor),
      req.params.id,
      req.params.inputId,
    );
    return reply
      .type(contentType)
      .header('cache-control', 'private, max-age=3600')
      .send(await ctx.blobs.get(blobId));
  });

  app.post(
    '/models/:name/predictions',
    {
      schema: {
        tags,
        params: modelParams,
        consumes: ['multipart/form-data'],
        response: { 201: predictionOut },
        description: 'Runs a model on one image now and answers with the prediction (also written to the ledger).',
      },
    },
    async (req, reply) => {
      const actor = requireActor(req.actor);
      const { file, fields } = await readUpload(req);
      const { parameters } = predictFields.parse(fields);
      const p = await analysis.predict(actor, req.params.name, parameters, file);
      return reply.status(201).send(toPredictionOut(p));
    },
  );

  // ---- the ledger --------------------------------------------------------------------------
  const ltags = ['predictions'];

  app.get(
    '/predictions',
    {
      schema: {
        tags: ltags,
        querystring: listPredictionsQuery,
        response: { 200: page(predictionOut) },
        description: 'The prediction ledger, newest first. Users see their own predictions; admins see all.',
      },
    },
    async (req) => {
      const q = req.query;
      const { items, total } = await analysis.ledger.list(requireActor(req.actor), {
        ...toFilter(q),
        limit: q.limit,
        offset: q.offset,
      });
      return { items: items.map(toPredictionOut), total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    '/predictions/export',
    {
      schema: {
        tags: ltags,
        querystring: exportPredictionsQuery,
        description: 'Every matching prediction, oldest first, as CSV or a JSON array (same filters as the list).',
      },
    },
    async (req, reply) => {
      const actor = requireActor(req.actor);
      const filter = toFilter(req.query);
      const csv = req.query.format === 'csv';
      const body = csv ? analysis.ledger.exportCsv(actor, filter) : analysis.ledger.exportJson(actor, filter);
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
      return reply
        .type(csv ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="predictions-${stamp}.${csv ? 'csv' : 'json'}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(body));
    },
  );

  app.get(
    '/predictions/:id',
    { schema: { tags: ltags, params: predictionParams, response: { 200: predictionOut } } },
    async (req) => toPredictionOut(await analysis.ledger.get(requireActor(req.actor), req.params.id)),
  );

  app.get('/predictions/:id/input', { schema: { tags: ltags, params: predictionParams } }, async (req, reply) => {
    const p = await analysis.ledger.get(requireActor(req.actor), req.params.id);
    const head = p.input_blob_id ? await ctx.blobs.head(p.input_blob_id) : null;
    if (!head || !p.input_blob_id) throw new AppError('not_found', 404, 'The input image is no longer stored');
    return reply
      .type(head.contentType)
      .header('cache-control', 'private, max-age=3600')
      .send(await ctx.blobs.get(p.input_blob_id));
  });
};
