import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import {
  ackOut,
  countersOut,
  gradesBody,
  groupFilterQuery,
  parseGrades,
  passFailOut,
  studentsOut,
  topCoursesOut,
  topCoursesQuery,
  topStudentsOut,
  topStudentsQuery,
  totalOut,
} from './grades.schemas.ts';

const INGEST_DESCRIPTION = `Stores one grade or an array of 1 to 1000, all or nothing, and answers only after the records
are durably committed. Requires an API token with the grades:write scope (or an admin session). Records whose
idempotency_key is already stored are counted as duplicates and not stored again, so a retry after a timeout or a
503 is always safe. Invalid records are reported as errors[] of {index, path, message}; nothing of that request is
stored.`;

export const gradesRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { grades } = ctx;
  const forwarder = ctx.gradesForwarder;

  app.post(
    '/grades',
    {
      schema: { tags: ['grades'], description: INGEST_DESCRIPTION, body: gradesBody, response: { 201: ackOut } },
      // The body is validated by the service, which reports every bad record by index; the
      // schema above is for the API document only.
      validatorCompiler: () => (data: unknown) => ({ value: data }),
    },
    async (req, reply) => {
      if (forwarder) {
        const actor = grades.authorizeIngest(req.actor);
        const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
        if (actor.via !== 'token' || !token) {
          throw new AppError(
            'token_required',
            403,
            'This server forwards grade ingest to the gRPC ingest service, which takes API tokens only; use a token with grades:write',
          );
        }
        const ack = await forwarder.submitBatch(token, parseGrades(req.body));
        return reply.status(201).send(ack);
      }
      return reply.status(201).send(await grades.ingest(req.actor, req.body, 'rest'));
    },
  );

  const tags = ['analytics'];
  app.get(
    '/analytics/grades/total',
    {
      schema: {
        tags,
        description: 'All grade records stored.',
        querystring: groupFilterQuery,
        response: { 200: totalOut },
      },
    },
    async (req) => grades.total(req.actor, req.query),
  );

  app.get(
    '/analytics/grades/pass-fail',
    {
      schema: {
        tags,
        description:
          "Effective grades (each student's latest in a course and semester) at or above the course's passing grade (61 when the course is not in the catalogue), and below it.",
        querystring: groupFilterQuery,
        response: { 200: passFailOut },
      },
    },
    async (req) => grades.passFail(req.actor, req.query),
  );

  app.get(
    '/analytics/grades/top-courses',
    {
      schema: {
        tags,
        description:
          'Courses with the most students graded. Students are distinct within a course and semester; with year or semester left open, a student graded in the same course in two semesters counts in each.',
        querystring: topCoursesQuery,
        response: { 200: topCoursesOut },
      },
    },
    async (req) => grades.topCourses(req.actor, req.query, req.query.limit),
  );

  app.get(
    '/analytics/grades/top-students',
    {
      schema: {
        tags,
        description: 'Students with the best average of their effective grades; ties by student code.',
        querystring: topStudentsQuery,
        response: { 200: topStudentsOut },
      },
    },
    async (req) => grades.topStudents(req.actor, req.query, req.query.limit),
  );

  app.get(
    '/analytics/grades/students',
    {
      schema: {
        tags,
        description:
          'Distinct students graded in a course and semester. With filters left open, the per-course-and-semester counts are summed.',
        querystring: groupFilterQuery,
        response: { 200: studentsOut },
      },
    },
    async (req) => grades.students(req.actor, req.query),
  );

  app.get(
    '/analytics/grades/counters',
    {
      schema: {
        tags,
        description: 'The live counters of every course and semester (what the dashboard starts from).',
        response: { 200: countersOut },
      },
    },
    async (req) => {
      grades.authorizeRead(req.actor);
      return grades.counters();
    },
  );
};
