import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../../context.ts';
import { AppError } from '../../platform/errors.ts';
import { requireActor } from '../identity/actor.ts';
import type { CaptureRow } from './attendance.repository.ts';
import {
  actionListOut,
  assignBody,
  assignOut,
  captureFields,
  captureListOut,
  captureListQuery,
  captureOut,
  capturesCreatedOut,
  dashboardOut,
  exportQuery,
  frameFields,
  frameListOut,
  frameParams,
  idParams,
  liveFrameOut,
  myAttendanceOut,
  myAttendanceQuery,
  reportOut,
  reportQuery,
  rosterOut,
  sessionStudentParams,
  setStatusBody,
  unknownFaceListOut,
  unknownFaceOut,
  unknownFaceParams,
  unknownFaceQuery,
} from './attendance.schemas.ts';
import { MAX_PHOTOS_PER_UPLOAD, toCaptureOut, uploadKind } from './attendance.service.ts';

/** Reads a file part into memory, refusing it past `limit` bytes. */
async function readLimited(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      throw new AppError('payload_too_large', 413, `A photo may be at most ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function requireMultipart(req: FastifyRequest): void {
  if (!req.isMultipart()) throw new AppError('multipart_required', 415, 'Send the files as multipart/form-data');
}

const at = (v: string | undefined) => (v === undefined ? undefined : Date.parse(v));

export const attendanceRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const { attendance, config } = ctx;
  const tags = ['attendance'];

  // ---- captures ----------------------------------------------------------------------------

  app.post(
    '/sessions/:id/captures',
    {
      schema: {
        tags,
        params: idParams,
        consumes: ['multipart/form-data'],
        response: { 202: capturesCreatedOut },
        description: `Uploads photos of the room (up to ${MAX_PHOTOS_PER_UPLOAD}) or one recorded video (MP4, MOV, WebM), for the teacher of the offering, an admin, or a token with attendance:capture. An optional field "capturedAt" (ISO date-time, before the files) says when the photos were taken or the recording started. Each file becomes a capture analysed in the background: follow it at GET /captures/{id} or in the Socket.IO room capture:{id}.`,
      },
    },
    async (req, reply) => {
      const actor = requireActor(req.actor);
      // Refused before a byte of a possibly large body is read.
      await attendance.assertCanCapture(actor, req.params.id);
      requireMultipart(req);
      const fields: Record<string, string> = {};
      const photos: { data: Buffer; filename: string }[] = [];
      let video: CaptureRow | undefined;
      for await (const part of req.parts({
        limits: { fileSize: config.videoUploadLimitBytes, files: MAX_PHOTOS_PER_UPLOAD + 1 },
      })) {
        if (part.type === 'field') {
          fields[part.fieldname] = String(part.value);
          continue;
        }
        const kind = uploadKind(part.mimetype, part.filename);
        if (video || (kind === 'video' && photos.length)) {
          part.file.resume();
          throw new AppError('mixed_upload', 400, 'Send either photos or one video per upload');
        }
        if (kind === 'video') {
          const { capturedAt } = captureFields.parse(fields);
          video = await attendance.addVideo(actor, req.params.id, part.file, part.filename, at(capturedAt));
        } else {
          photos.push({ data: await readLimited(part.file, config.uploadLimitBytes), filename: part.filename });
        }
      }
      const { capturedAt } = captureFields.parse(fields);
      if (video) return reply.status(202).send({ items: [toCaptureOut(video)] });
      if (!photos.length) throw new AppError('file_required', 400, 'No photo or video in the request');
      const rows = await attendance.addPhotos(actor, req.params.id, photos, at(capturedAt));
      return reply.status(202).send({ items: rows.map(toCaptureOut) });
    },
  );

  app.post(
    '/sessions/:id/frames',
    {
      schema: {
        tags,
        params: idParams,
        consumes: ['multipart/form-data'],
        response: { 200: liveFrameOut },
        description:
          'One frame of a live camera (the webcam page, or `aula camera`), analysed at once. Answers with the faces found, their boxes and names, to draw over the video; the roster updates on session:{id}. Field "source": webcam | camera.',
      },
    },
    async (req) => {
      const actor = requireActor(req.actor);
      await attendance.assertCanCapture(actor, req.params.id);
      requireMultipart(req);
      const fields: Record<string, string> = {};
      let image: Buffer | undefined;
      for await (const part of req.parts({ limits: { fileSize: config.uploadLimitBytes, files: 1 } })) {
        if (part.type === 'field') fields[part.fieldname] = String(part.value);
        else image = await readLimited(part.file, config.uploadLimitBytes);
      }
      if (!image) throw new AppError('file_required', 400, 'No frame in the request');
      const { source } = frameFields.parse(fields);
      const { capture, frame } = await attendance.addLiveFrame(actor, req.params.id, image, source);
      return { capture: toCaptureOut(capture), frame, intervalMs: config.attendance.webcamIntervalMs };
    },
  );

  app.get(
    '/sessions/:id/captures',
    { schema: { tags, params: idParams, querystring: captureListQuery, response: { 200: captureListOut } } },
    async (req) => {
      const { limit, offset, kind } = req.query;
      const r = await attendance.listCaptures(req.actor, req.params.id, { limit, offset, kind });
      return { items: r.items.map(toCaptureOut), total: r.total, limit, offset };
    },
  );

  app.get('/captures/:id', { schema: { tags, params: idParams, response: { 200: captureOut } } }, async (req) =>
    toCaptureOut(await attendance.getCapture(req.actor, req.params.id)),
  );

  app.get(
    '/captures/:id/frames',
    {
      schema: {
        tags,
        params: idParams,
        querystring: captureListQuery.pick({ limit: true, offset: true }),
        response: { 200: frameListOut },
        description:
          'The analysed frames of a capture, each with its faces (box, name, confidence), for stepping through.',
      },
    },
    async (req) => {
      const { limit, offset } = req.query;
      const r = await attendance.listFrames(req.actor, req.params.id, { limit, offset });
      return { ...r, limit, offset };
    },
  );

  app.get(
    '/captures/:id/frames/:index/image',
    { schema: { tags, params: frameParams, description: 'The frame as JPEG (410 after the retention period).' } },
    async (req, reply) => {
      const blobId = await attendance.frameImage(req.actor, req.params.id, req.params.index);
      return reply
        .type('image/jpeg')
        .header('cache-control', 'private, max-age=3600')
        .send(await ctx.blobs.get(blobId));
    },
  );

  // ---- the roster and its review -----------------------------------------------------------

  app.get(
    '/sessions/:id/attendance',
    { schema: { tags, params: idParams, response: { 200: rosterOut } } },
    async (req) => attendance.review.roster(req.actor, req.params.id),
  );

  app.post(
    '/sessions/:id/attendance/close',
    {
      schema: {
        tags,
        params: idParams,
        response: { 200: rosterOut },
        description: 'Closes the session; enrolled students never seen are marked absent.',
      },
    },
    async (req) => attendance.review.close(requireActor(req.actor), req.params.id),
  );

  app.patch(
    '/sessions/:id/attendance/:studentId',
    {
      schema: {
        tags,
        params: sessionStudentParams,
        body: setStatusBody,
        response: { 200: rosterOut },
        description: 'Sets a status by hand (present, late, absent, excused), recording who and when.',
      },
    },
    async (req) => attendance.review.setStatus(requireActor(req.actor), req.params.id, req.params.studentId, req.body),
  );

  app.post(
    '/sessions/:id/attendance/:studentId/confirm',
    { schema: { tags, params: sessionStudentParams, response: { 200: rosterOut } } },
    async (req) => attendance.review.confirm(requireActor(req.actor), req.params.id, req.params.studentId),
  );

  app.post(
    '/sessions/:id/attendance/:studentId/reject',
    {
      schema: {
        tags,
        params: sessionStudentParams,
        response: { 200: rosterOut },
        description: 'A wrong match: the faces stop counting for this student and come back as unknown faces.',
      },
    },
    async (req) => attendance.review.reject(requireActor(req.actor), req.params.id, req.params.studentId),
  );

  app.get(
    '/sessions/:id/attendance/:studentId/evidence',
    { schema: { tags, params: sessionStudentParams, description: 'The evidence crop (JPEG) of a camera match.' } },
    async (req, reply) => {
      const blobId = await attendance.review.evidence(req.actor, req.params.id, req.params.studentId);
      return reply
        .type('image/jpeg')
        .header('cache-control', 'private, max-age=300')
        .send(await ctx.blobs.get(blobId));
    },
  );

  app.get(
    '/sessions/:id/unknown-faces',
    { schema: { tags, params: idParams, querystring: unknownFaceQuery, response: { 200: unknownFaceListOut } } },
    async (req) => ({ items: await attendance.review.listUnknown(req.actor, req.params.id, req.query.status) }),
  );

  app.get(
    '/sessions/:id/unknown-faces/:faceId/image',
    { schema: { tags, params: unknownFaceParams } },
    async (req, reply) => {
      const blobId = await attendance.review.unknownImage(req.actor, req.params.id, req.params.faceId);
      return reply
        .type('image/jpeg')
        .header('cache-control', 'private, max-age=300')
        .send(await ctx.blobs.get(blobId));
    },
  );

  app.post(
    '/sessions/:id/unknown-faces/:faceId/assign',
    {
      schema: {
        tags,
        params: unknownFaceParams,
        body: assignBody,
        response: { 200: assignOut },
        description:
          'Says which enrolled student an unknown face is. With "enroll": true the face also becomes a template of the student (ask the teacher to confirm first).',
      },
    },
    async (req) => attendance.review.assign(requireActor(req.actor), req.params.id, req.params.faceId, req.body),
  );

  app.post(
    '/sessions/:id/unknown-faces/:faceId/dismiss',
    { schema: { tags, params: unknownFaceParams, response: { 200: unknownFaceOut } } },
    async (req) => attendance.review.dismiss(requireActor(req.actor), req.params.id, req.params.faceId),
  );

  app.get(
    '/sessions/:id/actions',
    {
      schema: {
        tags,
        params: idParams,
        response: { 200: actionListOut },
        description: 'The actions timeline: raised hands, facing away for long, long unseen stretches.',
      },
    },
    async (req) => attendance.review.actions(req.actor, req.params.id),
  );

  // ---- reports -----------------------------------------------------------------------------

  app.get(
    '/offerings/:id/attendance/report',
    { schema: { tags, params: idParams, querystring: reportQuery, response: { 200: reportOut } } },
    async (req) => attendance.reports.offeringReport(req.actor, req.params.id, req.query.threshold),
  );

  app.get(
    '/offerings/:id/attendance/export',
    {
      schema: {
        tags,
        params: idParams,
        querystring: exportQuery,
        description:
          '"csv" (one row per student, a status letter per session, totals and %), "xlsx" (the same as a spreadsheet) or "moodle" (CSV, one row per student and session). See docs/attendance.md for the LMS import mapping.',
      },
    },
    async (req, reply) => {
      const { filename, contentType, body } = await attendance.reports.export(
        req.actor,
        req.params.id,
        req.query.format,
      );
      return reply.type(contentType).header('content-disposition', `attachment; filename="${filename}"`).send(body);
    },
  );

  app.get(
    '/me/attendance',
    { schema: { tags, querystring: myAttendanceQuery, response: { 200: myAttendanceOut } } },
    async (req) => attendance.reports.mine(req.actor, req.query),
  );

  app.get('/attendance/dashboard', { schema: { tags, response: { 200: dashboardOut } } }, async (req) =>
    attendance.reports.dashboard(req.actor),
  );
};
