import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import { requireActor } from '../identity/actor.ts';
import {
  courseOut,
  createCourseBody,
  createEnrollmentBody,
  createOfferingBody,
  createSemesterBody,
  createSessionBody,
  enrollmentOut,
  generateResultOut,
  generateSessionsBody,
  idParams,
  listCoursesQuery,
  listEnrollmentsQuery,
  listMyEnrollmentsQuery,
  listOfferingsQuery,
  listSemestersQuery,
  listSessionsQuery,
  myEnrollmentOut,
  offeringOut,
  offeringStudentParams,
  page,
  rosterResultOut,
  semesterOut,
  sessionOut,
  updateCourseBody,
  updateOfferingBody,
  updateSemesterBody,
  updateSessionBody,
} from './academics.schemas.ts';
import { toCourseOut, toEnrollmentOut, toMyEnrollmentOut, toOfferingOut, toSemesterOut } from './academics.service.ts';
import { toSessionOut } from './class-sessions.ts';
import { ROSTER_MAX_BYTES } from './roster-import.ts';
import { readOneFileBuffer } from '../../http/uploads.ts';

/** The roster file: one multipart file (any field name) or a text/csv body. */
async function readRoster(req: FastifyRequest): Promise<Buffer> {
  if (req.isMultipart()) {
    // A body cut short is the client's fault: 400 invalid_multipart, never a 500.
    return readOneFileBuffer(req, ROSTER_MAX_BYTES);
  }
  if (Buffer.isBuffer(req.body)) return req.body;
  throw new AppError('unsupported_media_type', 415, 'Send the roster as text/csv or as a multipart file');
}

export const academicsRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { academics } = ctx;

  // Scoped to this plugin: only the roster route reads CSV bodies, within the roster size limit.
  app.addContentTypeParser('text/csv', { parseAs: 'buffer', bodyLimit: ROSTER_MAX_BYTES }, (_req, body, done) =>
    done(null, body),
  );

  // ---- semesters ---------------------------------------------------------------------------
  const stags = ['semesters'];
  app.get(
    '/semesters',
    { schema: { tags: stags, querystring: listSemestersQuery, response: { 200: page(semesterOut) } } },
    async (req) => {
      const q = req.query;
      const { items, total } = await academics.listSemesters(requireActor(req.actor), q);
      return { items: items.map(toSemesterOut), total, limit: q.limit, offset: q.offset };
    },
  );

  app.post(
    '/semesters',
    { schema: { tags: stags, body: createSemesterBody, response: { 201: semesterOut } } },
    async (req, reply) =>
      reply.status(201).send(toSemesterOut(await academics.createSemester(requireActor(req.actor), req.body))),
  );

  app.get(
    '/semesters/:id',
    { schema: { tags: stags, params: idParams, response: { 200: semesterOut } } },
    async (req) => toSemesterOut(await academics.getSemester(requireActor(req.actor), req.params.id)),
  );

  app.patch(
    '/semesters/:id',
    { schema: { tags: stags, params: idParams, body: updateSemesterBody, response: { 200: semesterOut } } },
    async (req) => toSemesterOut(await academics.updateSemester(requireActor(req.actor), req.params.id, req.body)),
  );

  app.delete('/semesters/:id', { schema: { tags: stags, params: idParams } }, async (req, reply) => {
    await academics.deleteSemester(requireActor(req.actor), req.params.id);
    return reply.status(204).send();
  });

  // ---- courses -----------------------------------------------------------------------------
  const ctags = ['courses'];
  app.get(
    '/courses',
    { schema: { tags: ctags, querystring: listCoursesQuery, response: { 200: page(courseOut) } } },
    async (req) => {
      const q = req.query;
      const { items, total } = await academics.listCourses(requireActor(req.actor), q);
      return { items: items.map(toCourseOut), total, limit: q.limit, offset: q.offset };
    },
  );

  app.post(
    '/courses',
    { schema: { tags: ctags, body: createCourseBody, response: { 201: courseOut } } },
    async (req, reply) =>
      reply.status(201).send(toCourseOut(await academics.createCourse(requireActor(req.actor), req.body))),
  );

  app.get('/courses/:id', { schema: { tags: ctags, params: idParams, response: { 200: courseOut } } }, async (req) =>
    toCourseOut(await academics.getCourse(requireActor(req.actor), req.params.id)),
  );

  app.patch(
    '/courses/:id',
    { schema: { tags: ctags, params: idParams, body: updateCourseBody, response: { 200: courseOut } } },
    async (req) => toCourseOut(await academics.updateCourse(requireActor(req.actor), req.params.id, req.body)),
  );

  app.delete('/courses/:id', { schema: { tags: ctags, params: idParams } }, async (req, reply) => {
    await academics.deleteCourse(requireActor(req.actor), req.params.id);
    return reply.status(204).send();
  });

  // ---- offerings ---------------------------------------------------------------------------
  const otags = ['offerings'];
  app.get(
    '/offerings',
    { schema: { tags: otags, querystring: listOfferingsQuery, response: { 200: page(offeringOut) } } },
    async (req) => {
      const q = req.query;
      const { items, total } = await academics.listOfferings(requireActor(req.actor), q);
      return { items: items.map(toOfferingOut), total, limit: q.limit, offset: q.offset };
    },
  );

  app.post(
    '/offerings',
    { schema: { tags: otags, body: createOfferingBody, response: { 201: offeringOut } } },
    async (req, reply) =>
      reply.status(201).send(toOfferingOut(await academics.createOffering(requireActor(req.actor), req.body))),
  );

  app.get(
    '/offerings/:id',
    { schema: { tags: otags, params: idParams, response: { 200: offeringOut } } },
    async (req) => toOfferingOut(await academics.getOffering(requireActor(req.actor), req.params.id)),
  );

  app.patch(
    '/offerings/:id',
    { schema: { tags: otags, params: idParams, body: updateOfferingBody, response: { 200: offeringOut } } },
    async (req) => toOfferingOut(await academics.updateOffering(requireActor(req.actor), req.params.id, req.body)),
  );

  app.delete('/offerings/:id', { schema: { tags: otags, params: idParams } }, async (req, reply) => {
    await academics.deleteOffering(requireActor(req.actor), req.params.id);
    return reply.status(204).send();
  });

  // ---- enrolments --------------------------------------------------------------------------
  app.get(
    '/offerings/:id/enrollments',
    {
      schema: {
        tags: otags,
        params: idParams,
        querystring: listEnrollmentsQuery,
        response: { 200: page(enrollmentOut) },
      },
    },
    async (req) => {
      const q = req.query;
      const { items, total } = await academics.listEnrollments(requireActor(req.actor), req.params.id, q);
      return { items: items.map(toEnrollmentOut), total, limit: q.limit, offset: q.offset };
    },
  );

  app.post(
    '/offerings/:id/enrollments',
    { schema: { tags: otags, params: idParams, body: createEnrollmentBody, response: { 201: enrollmentOut } } },
    async (req, reply) => {
      const e = await academics.enroll(requireActor(req.actor), req.params.id, req.body.studentId);
      return reply.status(201).send(toEnrollmentOut(e));
    },
  );

  app.delete(
    '/offerings/:id/enrollments/:studentId',
    { schema: { tags: otags, params: offeringStudentParams } },
    async (req, reply) => {
      await academics.unenroll(requireActor(req.actor), req.params.id, req.params.studentId);
      return reply.status(204).send();
    },
  );

  app.post(
    '/offerings/:id/roster',
    {
      schema: {
        tags: otags,
        params: idParams,
        consumes: ['text/csv', 'multipart/form-data'],
        response: { 200: rosterResultOut },
      },
    },
    async (req) => {
      const actor = requireActor(req.actor);
      // Authorize before reading a multipart upload, so a forbidden caller's file is never read.
      await academics.assertCanImportRoster(actor, req.params.id);
      return academics.importRoster(actor, req.params.id, await readRoster(req));
    },
  );

  app.get(
    '/me/enrollments',
    { schema: { tags: ['profile'], querystring: listMyEnrollmentsQuery, response: { 200: page(myEnrollmentOut) } } },
    async (req) => {
      const q = req.query;
      const { items, total } = await academics.listMyEnrollments(requireActor(req.actor), q);
      return { items: items.map(toMyEnrollmentOut), total, limit: q.limit, offset: q.offset };
    },
  );

  // ---- class sessions ----------------------------------------------------------------------
  const ttags = ['sessions'];
  app.get(
    '/offerings/:id/sessions',
    { schema: { tags: ttags, params: idParams, querystring: listSessionsQuery, response: { 200: page(sessionOut) } } },
    async (req) => {
      const q = req.query;
      const { items, total } = await academics.sessions.list(requireActor(req.actor), req.params.id, q);
      return { items: items.map(toSessionOut), total, limit: q.limit, offset: q.offset };
    },
  );

  app.post(
    '/offerings/:id/sessions',
    { schema: { tags: ttags, params: idParams, body: createSessionBody, response: { 201: sessionOut } } },
    async (req, reply) => {
      const s = await academics.sessions.create(requireActor(req.actor), req.params.id, req.body);
      return reply.status(201).send(toSessionOut(s));
    },
  );

  app.post(
    '/offerings/:id/sessions/generate',
    { schema: { tags: ttags, params: idParams, body: generateSessionsBody, response: { 200: generateResultOut } } },
    async (req) => academics.sessions.generate(requireActor(req.actor), req.params.id, req.body.from, req.body.to),
  );

  app.get('/sessions/:id', { schema: { tags: ttags, params: idParams, response: { 200: sessionOut } } }, async (req) =>
    toSessionOut(await academics.getSession(requireActor(req.actor), req.params.id)),
  );

  app.patch(
    '/sessions/:id',
    { schema: { tags: ttags, params: idParams, body: updateSessionBody, response: { 200: sessionOut } } },
    async (req) => toSessionOut(await academics.sessions.update(requireActor(req.actor), req.params.id, req.body)),
  );

  app.delete('/sessions/:id', { schema: { tags: ttags, params: idParams } }, async (req, reply) => {
    await academics.sessions.delete(requireActor(req.actor), req.params.id);
    return reply.status(204).send();
  });
};
