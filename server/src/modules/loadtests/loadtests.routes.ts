import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import {
  finishBody,
  page,
  paginationQuery,
  postSamplesBody,
  runDetailOut,
  runDetailQuery,
  runIdParams,
  runOut,
} from './loadtests.schemas.ts';

export const loadtestsRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { loadtests } = ctx;
  const tags = ['load tests'];

  app.get(
    '/loadtests',
    { schema: { tags, querystring: paginationQuery, response: { 200: page(runOut) } } },
    async (req) => loadtests.listRuns(req.actor, req.query.limit, req.query.offset),
  );

  app.get(
    '/loadtests/:runId',
    { schema: { tags, params: runIdParams, querystring: runDetailQuery, response: { 200: runDetailOut } } },
    async (req) => loadtests.getRun(req.actor, req.params.runId, req.query.since),
  );

  app.post(
    '/loadtests/:runId/samples',
    {
      schema: {
        tags,
        params: runIdParams,
        body: postSamplesBody,
        response: { 200: z.object({ runId: z.string(), accepted: z.number() }) },
      },
    },
    async (req) => loadtests.recordSamples(req.actor, req.params.runId, req.body),
  );

  app.post(
    '/loadtests/:runId/finish',
    { schema: { tags, params: runIdParams, body: finishBody, response: { 200: runOut } } },
    async (req) => loadtests.finishWorker(req.actor, req.params.runId, req.body.workerId, req.body.summary),
  );

  app.delete('/loadtests/:runId', { schema: { tags, params: runIdParams } }, async (req, reply) => {
    await loadtests.deleteRun(req.actor, req.params.runId);
    return reply.status(204).send();
  });
};
