import { randomBytes } from 'node:crypto';
import type { AccessWorld, ClassKey, UserKey } from './access-fixtures.ts';
import type { Ownership } from './access-matrix.ts';

/** One request of the matrix: a path with real ids, and a body that passes validation. */
export interface MatrixRequest {
  url: string;
  payload?: string | Buffer | Record<string, unknown>;
  headers?: Record<string, string>;
}

/** The caller and whose resource the request is about. */
export interface RequestContext {
  w: AccessWorld;
  /** The caller's own account (for token cells: the token's owner). */
  me: UserKey;
  ownership: Ownership | 'any';
}

export type RequestBuilder = (c: RequestContext) => Promise<MatrixRequest>;

const uniq = () => randomBytes(4).toString('hex');

/** The user an ownership names, seen from `me`. */
export function ownerOf(c: RequestContext): UserKey {
  switch (c.ownership) {
    case 'ownStudent':
      return 'studentA';
    case 'otherTeacher':
      return 'teacherB';
    case 'otherStudent':
      return 'studentB';
    case 'own':
    case 'any':
      return c.me;
  }
}

/** The class an ownership names: the caller's (A: teacherA teaches it, studentA attends) or another teacher's (B). */
export const classOf = (c: RequestContext): ClassKey => (c.ownership === 'otherTeacher' ? 'B' : 'A');

export function multipart(parts: { name: string; filename?: string; contentType?: string; data: string | Buffer }[]): {
  payload: Buffer;
  headers: Record<string, string>;
} {
  const boundary = `----matrix${uniq()}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = p.filename
      ? `form-data; name="${p.name}"; filename="${p.filename}"`
      : `form-data; name="${p.name}"`;
    const type = p.filename ? `Content-Type: ${p.contentType ?? 'application/octet-stream'}\r\n` : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`));
    chunks.push(typeof p.data === 'string' ? Buffer.from(p.data) : p.data);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** A file that is not an image: every upload route refuses it with a 400 after authorizing. */
const notAnImage = (name = 'file') => ({
  name,
  filename: 'photo.jpg',
  contentType: 'image/jpeg',
  data: 'not an image',
});

const csv = (body: string): Pick<MatrixRequest, 'payload' | 'headers'> => ({
  payload: body,
  headers: { 'content-type': 'text/csv' },
});

const summary = () => ({
  startedAt: new Date(Date.now() - 1000).toISOString(),
  finishedAt: new Date().toISOString(),
  durationSec: 1,
  requests: 0,
  ok: 0,
  errors: 0,
  grades: 0,
  rps: 0,
  latencyMs: { p50: null, p90: null, p95: null, p99: null, max: null },
  errorsByKind: {},
  split: { rest: 0, grpc: 0 },
});

const grade = (w: AccessWorld) => ({
  student_code: `G${uniq()}`,
  student_name: 'Matrix Student',
  course_code: w.courseCode,
  semester: 1,
  year: w.year,
  score: 75,
  idempotency_key: `m-${uniq()}`,
});

/** A valid request for every REST route of the matrix, keyed "METHOD url". */
export const REQUESTS: Record<string, RequestBuilder> = {
  // ---- identity ----------------------------------------------------------------------------
  'POST /api/v1/auth/login': async ({ w }) => {
    const id = await w.freshUser('student');
    const u = await w.ctx.identity.updateUser(adminActor(w), id, { password: 'matrix password 1' });
    return { url: '/api/v1/auth/login', payload: { login: u.username, password: 'matrix password 1' } };
  },
  'POST /api/v1/auth/register': async () => {
    const u = uniq();
    return {
      url: '/api/v1/auth/register',
      payload: {
        username: `reg${u}`,
        email: `reg${u}@example.test`,
        fullName: 'Registered',
        password: 'long enough 1',
      },
    };
  },
  'POST /api/v1/auth/logout': async () => ({ url: '/api/v1/auth/logout' }),
  'POST /api/v1/auth/logout-all': async () => ({ url: '/api/v1/auth/logout-all' }),
  'POST /api/v1/auth/password-reset': async () => ({
    url: '/api/v1/auth/password-reset',
    payload: { email: `nobody${uniq()}@example.test` },
  }),
  'POST /api/v1/auth/password-reset/confirm': async () => ({
    url: '/api/v1/auth/password-reset/confirm',
    payload: { token: uniq(), newPassword: 'long enough 2' },
  }),
  'POST /api/v1/auth/face-login': async () => ({ url: '/api/v1/auth/face-login', payload: {} }),
  'GET /api/v1/auth/me': async () => ({ url: '/api/v1/auth/me' }),
  'PATCH /api/v1/me': async () => ({ url: '/api/v1/me', payload: { fullName: 'Renamed' } }),
  'POST /api/v1/me/password': async () => ({
    url: '/api/v1/me/password',
    payload: { currentPassword: 'correct horse battery', newPassword: 'correct horse battery' },
  }),
  'PUT /api/v1/me/photo': async () => ({ url: '/api/v1/me/photo', ...multipart([notAnImage()]) }),
  'GET /api/v1/users/:id/photo': async (c) => ({ url: `/api/v1/users/${c.w.id(ownerOf(c))}/photo` }),
  'PUT /api/v1/users/:id/photo': async (c) => ({
    url: `/api/v1/users/${c.w.id(ownerOf(c))}/photo`,
    ...multipart([notAnImage()]),
  }),
  'GET /api/v1/users': async () => ({ url: '/api/v1/users' }),
  'POST /api/v1/users': async () => {
    const u = uniq();
    return {
      url: '/api/v1/users',
      payload: { username: `new${u}`, email: `new${u}@example.test`, fullName: 'New User', role: 'teacher' },
    };
  },
  'GET /api/v1/users/:id': async (c) => ({ url: `/api/v1/users/${c.w.id(ownerOf(c))}` }),
  'PATCH /api/v1/users/:id': async (c) => ({
    url: `/api/v1/users/${c.w.id(ownerOf(c))}`,
    payload: { fullName: 'Patched Name' },
  }),
  // Deleting someone else removes a stand-in of the same kind, never the matrix's own accounts.
  'DELETE /api/v1/users/:id': async (c) => {
    const id =
      c.ownership === 'own' || c.ownership === 'any'
        ? c.w.id(c.me)
        : await c.w.freshUser(
            c.ownership === 'otherTeacher' ? 'teacher' : 'student',
            c.ownership === 'ownStudent' ? 'A' : undefined,
          );
    return { url: `/api/v1/users/${id}` };
  },
  'GET /api/v1/tokens': async () => ({ url: '/api/v1/tokens' }),
  'POST /api/v1/tokens': async ({ w }) => ({
    url: '/api/v1/tokens',
    payload: { userId: w.id('teacherA'), name: `t${uniq()}`, scopes: ['grades:read'] },
  }),
  'DELETE /api/v1/tokens/:id': async ({ w }) => {
    const { row } = await w.ctx.identity.createApiToken(adminActor(w), {
      userId: w.id('teacherA'),
      name: `t${uniq()}`,
      scopes: ['grades:read'],
    });
    return { url: `/api/v1/tokens/${row.id}` };
  },
  'GET /api/v1/audit': async () => ({ url: '/api/v1/audit?action=face' }),

  // ---- academics ---------------------------------------------------------------------------
  'GET /api/v1/semesters': async () => ({ url: '/api/v1/semesters' }),
  'POST /api/v1/semesters': async () => ({
    url: '/api/v1/semesters',
    payload: { code: `S${uniq()}`.slice(0, 12), year: 2031, term: 1, startsOn: '2031-01-01', endsOn: '2031-06-30' },
  }),
  'GET /api/v1/semesters/:id': async ({ w }) => ({ url: `/api/v1/semesters/${w.semesterId}` }),
  'PATCH /api/v1/semesters/:id': async ({ w }) => ({
    url: `/api/v1/semesters/${w.semesterId}`,
    payload: { name: 'Matrix semester' },
  }),
  'DELETE /api/v1/semesters/:id': async ({ w }) => {
    const s = await w.ctx.academics.createSemester(adminActor(w), {
      code: `D${uniq()}`.slice(0, 12),
      year: 2032,
      term: 2,
      startsOn: '2032-07-01',
      endsOn: '2032-12-31',
    });
    return { url: `/api/v1/semesters/${s.id}` };
  },
  'GET /api/v1/courses': async () => ({ url: '/api/v1/courses' }),
  'POST /api/v1/courses': async () => ({
    url: '/api/v1/courses',
    payload: { code: `C${uniq()}`.slice(0, 10), name: 'New' },
  }),
  'GET /api/v1/courses/:id': async ({ w }) => ({ url: `/api/v1/courses/${w.courseId}` }),
  'PATCH /api/v1/courses/:id': async ({ w }) => ({ url: `/api/v1/courses/${w.courseId}`, payload: { name: 'Matrix' } }),
  'DELETE /api/v1/courses/:id': async ({ w }) => {
    const c = await w.ctx.academics.createCourse(adminActor(w), { code: `D${uniq()}`.slice(0, 10), name: 'Gone' });
    return { url: `/api/v1/courses/${c.id}` };
  },
  'GET /api/v1/offerings': async () => ({ url: '/api/v1/offerings' }),
  'POST /api/v1/offerings': async ({ w }) => ({
    url: '/api/v1/offerings',
    payload: { courseId: w.courseId, semesterId: w.semesterId, section: uniq().slice(0, 6).toUpperCase() },
  }),
  'GET /api/v1/offerings/:id': async (c) => ({ url: `/api/v1/offerings/${c.w.offerings[classOf(c)]}` }),
  'PATCH /api/v1/offerings/:id': async (c) => ({
    url: `/api/v1/offerings/${c.w.offerings[classOf(c)]}`,
    payload: { room: 'B-101' },
  }),
  'DELETE /api/v1/offerings/:id': async (c) => ({ url: `/api/v1/offerings/${await c.w.freshOffering(classOf(c))}` }),
  'GET /api/v1/offerings/:id/enrollments': async (c) => ({
    url: `/api/v1/offerings/${c.w.offerings[classOf(c)]}/enrollments`,
  }),
  'POST /api/v1/offerings/:id/enrollments': async (c) => ({
    url: `/api/v1/offerings/${c.w.offerings[classOf(c)]}/enrollments`,
    payload: { studentId: await c.w.freshUser('student') },
  }),
  'DELETE /api/v1/offerings/:id/enrollments/:studentId': async (c) => {
    const cls = classOf(c);
    return { url: `/api/v1/offerings/${c.w.offerings[cls]}/enrollments/${await c.w.freshUser('student', cls)}` };
  },
  'POST /api/v1/offerings/:id/roster': async (c) => ({
    url: `/api/v1/offerings/${c.w.offerings[classOf(c)]}/roster`,
    ...csv(`student_code,full_name,email\nR${uniq()},Roster Student,r${uniq()}@example.test\n`),
  }),
  'GET /api/v1/me/enrollments': async () => ({ url: '/api/v1/me/enrollments' }),
  'GET /api/v1/offerings/:id/sessions': async (c) => ({
    url: `/api/v1/offerings/${c.w.offerings[classOf(c)]}/sessions`,
  }),
  'POST /api/v1/offerings/:id/sessions': async (c) => {
    const start = Date.now() + 86_400_000 * (2 + Math.floor(Math.random() * 300));
    return {
      url: `/api/v1/offerings/${c.w.offerings[classOf(c)]}/sessions`,
      payload: { startsAt: new Date(start).toISOString(), endsAt: new Date(start + 3_600_000).toISOString() },
    };
  },
  'POST /api/v1/offerings/:id/sessions/generate': async (c) => ({
    url: `/api/v1/offerings/${c.w.offerings[classOf(c)]}/sessions/generate`,
    payload: { from: `${c.w.year}-03-01`, to: `${c.w.year}-03-07` },
  }),
  'GET /api/v1/sessions/:id': async (c) => ({ url: `/api/v1/sessions/${(await c.w.scene(classOf(c))).sessionId}` }),
  'PATCH /api/v1/sessions/:id': async (c) => ({
    url: `/api/v1/sessions/${(await c.w.scene(classOf(c))).sessionId}`,
    payload: { lateAfterMinutes: 5 },
  }),
  'DELETE /api/v1/sessions/:id': async (c) => ({ url: `/api/v1/sessions/${(await c.w.scene(classOf(c))).sessionId}` }),

  // ---- attendance --------------------------------------------------------------------------
  'POST /api/v1/sessions/:id/captures': async (c) => ({
    url: `/api/v1/sessions/${(await c.w.scene(classOf(c))).sessionId}/captures`,
    ...multipart([notAnImage()]),
  }),
  'POST /api/v1/sessions/:id/frames': async (c) => ({
    url: `/api/v1/sessions/${(await c.w.scene(classOf(c))).sessionId}/frames`,
    ...multipart([notAnImage()]),
  }),
  'GET /api/v1/sessions/:id/captures': async (c) => ({
    url: `/api/v1/sessions/${(await c.w.scene(classOf(c))).sessionId}/captures`,
  }),
  'GET /api/v1/captures/:id': async (c) => ({ url: `/api/v1/captures/${(await c.w.scene(classOf(c))).captureId}` }),
  'GET /api/v1/captures/:id/frames': async (c) => ({
    url: `/api/v1/captures/${(await c.w.scene(classOf(c))).captureId}/frames`,
  }),
  'GET /api/v1/captures/:id/frames/:index/image': async (c) => ({
    url: `/api/v1/captures/${(await c.w.scene(classOf(c))).captureId}/frames/0/image`,
  }),
  'GET /api/v1/sessions/:id/attendance': async (c) => ({
    url: `/api/v1/sessions/${(await c.w.scene(classOf(c))).sessionId}/attendance`,
  }),
  'POST /api/v1/sessions/:id/attendance/close': async (c) => ({
    url: `/api/v1/sessions/${(await c.w.scene(classOf(c))).sessionId}/attendance/close`,
  }),
  'PATCH /api/v1/sessions/:id/attendance/:studentId': async (c) => {
    const s = await c.w.scene(classOf(c));
    return { url: `/api/v1/sessions/${s.sessionId}/attendance/${s.studentId}`, payload: { status: 'excused' } };
  },
  'POST /api/v1/sessions/:id/attendance/:studentId/confirm': async (c) => {
    const s = await c.w.scene(classOf(c));
    return { url: `/api/v1/sessions/${s.sessionId}/attendance/${s.studentId}/confirm` };
  },
  'POST /api/v1/sessions/:id/attendance/:studentId/reject': async (c) => {
    const s = await c.w.scene(classOf(c));
    return { url: `/api/v1/sessions/${s.sessionId}/attendance/${s.studentId}/reject` };
  },
  'GET /api/v1/sessions/:id/attendance/:studentId/evidence': async (c) => {
    const s = await c.w.scene(classOf(c));
    return { url: `/api/v1/sessions/${s.sessionId}/attendance/${s.studentId}/evidence` };
  },
  'GET /api/v1/sessions/:id/unknown-faces': async (c) => ({
    url: `/api/v1/sessions/${(await c.w.scene(classOf(c))).sessionId}/unknown-faces`,
  }),
  'GET /api/v1/sessions/:id/unknown-faces/:faceId/image': async (c) => {
    const s = await c.w.scene(classOf(c));
    return { url: `/api/v1/sessions/${s.sessionId}/unknown-faces/${s.unknownFaceId}/image` };
  },
  'POST /api/v1/sessions/:id/unknown-faces/:faceId/assign': async (c) => {
    const s = await c.w.scene(classOf(c));
    return {
      url: `/api/v1/sessions/${s.sessionId}/unknown-faces/${s.unknownFaceId}/assign`,
      payload: { studentId: s.studentId, enroll: false },
    };
  },
  'POST /api/v1/sessions/:id/unknown-faces/:faceId/dismiss': async (c) => {
    const s = await c.w.scene(classOf(c));
    return { url: `/api/v1/sessions/${s.sessionId}/unknown-faces/${s.unknownFaceId}/dismiss` };
  },
  'GET /api/v1/sessions/:id/actions': async (c) => ({
    url: `/api/v1/sessions/${(await c.w.scene(classOf(c))).sessionId}/actions`,
  }),
  'GET /api/v1/offerings/:id/attendance/report': async (c) => ({
    url: `/api/v1/offerings/${c.w.offerings[classOf(c)]}/attendance/report`,
  }),
  'GET /api/v1/offerings/:id/attendance/export': async (c) => ({
    url: `/api/v1/offerings/${c.w.offerings[classOf(c)]}/attendance/export?format=csv`,
  }),
  'GET /api/v1/me/attendance': async () => ({ url: '/api/v1/me/attendance' }),
  'GET /api/v1/attendance/dashboard': async () => ({ url: '/api/v1/attendance/dashboard' }),

  // ---- face data ---------------------------------------------------------------------------
  'POST /api/v1/users/:id/faces': async (c) => ({
    url: `/api/v1/users/${c.w.id(ownerOf(c))}/faces`,
    ...multipart([notAnImage('photo')]),
  }),
  'GET /api/v1/users/:id/faces': async (c) => ({ url: `/api/v1/users/${c.w.id(ownerOf(c))}/faces` }),
  'GET /api/v1/users/:id/faces/:templateId/image': async (c) => {
    const owner = ownerOf(c);
    return { url: `/api/v1/users/${c.w.id(owner)}/faces/${await c.w.template(owner)}/image` };
  },
  'DELETE /api/v1/users/:id/faces/:templateId': async (c) => {
    const owner = ownerOf(c);
    return { url: `/api/v1/users/${c.w.id(owner)}/faces/${await c.w.template(owner)}` };
  },
  'DELETE /api/v1/users/:id/faces': async (c) => {
    const owner = ownerOf(c);
    await c.w.template(owner);
    return { url: `/api/v1/users/${c.w.id(owner)}/faces` };
  },
  'GET /api/v1/models': async () => ({ url: '/api/v1/models' }),

  // ---- load tests --------------------------------------------------------------------------
  'GET /api/v1/loadtests': async () => ({ url: '/api/v1/loadtests' }),
  'GET /api/v1/loadtests/:runId': async ({ w }) => ({ url: `/api/v1/loadtests/${w.loadtestRunId}` }),
  'POST /api/v1/loadtests/:runId/samples': async ({ w }) => ({
    url: `/api/v1/loadtests/${await w.loadtestRun()}/samples`,
    payload: { workerId: 'w1', samples: [] },
  }),
  'POST /api/v1/loadtests/:runId/finish': async ({ w }) => ({
    url: `/api/v1/loadtests/${await w.loadtestRun()}/finish`,
    payload: { workerId: 'w1', summary: summary() },
  }),
  'DELETE /api/v1/loadtests/:runId': async ({ w }) => ({ url: `/api/v1/loadtests/${await w.loadtestRun()}` }),

  // ---- grades ------------------------------------------------------------------------------
  'POST /api/v1/grades': async ({ w }) => ({ url: '/api/v1/grades', payload: grade(w) }),
  'GET /api/v1/analytics/grades/total': async () => ({ url: '/api/v1/analytics/grades/total' }),
  'GET /api/v1/analytics/grades/pass-fail': async () => ({ url: '/api/v1/analytics/grades/pass-fail' }),
  'GET /api/v1/analytics/grades/top-courses': async () => ({ url: '/api/v1/analytics/grades/top-courses' }),
  'GET /api/v1/analytics/grades/top-students': async () => ({ url: '/api/v1/analytics/grades/top-students' }),
  'GET /api/v1/analytics/grades/students': async () => ({ url: '/api/v1/analytics/grades/students' }),
  'GET /api/v1/analytics/grades/counters': async () => ({ url: '/api/v1/analytics/grades/counters' }),
  'GET /api/v1/offerings/:id/gradebook': async (c) => ({
    url: `/api/v1/offerings/${c.w.offerings[classOf(c)]}/gradebook`,
  }),
  'POST /api/v1/offerings/:id/gradebook': async (c) => {
    const cls = classOf(c);
    return {
      url: `/api/v1/offerings/${c.w.offerings[cls]}/gradebook`,
      payload: { studentCode: c.w.users[c.w.studentOf(cls)].user.student_code, score: 80 },
    };
  },
  'GET /api/v1/offerings/:id/gradebook/:studentCode/history': async (c) => {
    const cls = classOf(c);
    return {
      url: `/api/v1/offerings/${c.w.offerings[cls]}/gradebook/${c.w.users[c.w.studentOf(cls)].user.student_code}/history`,
    };
  },
  'POST /api/v1/offerings/:id/gradebook/import': async (c) => {
    const cls = classOf(c);
    return {
      url: `/api/v1/offerings/${c.w.offerings[cls]}/gradebook/import`,
      ...csv(`student_code,score\n${c.w.users[c.w.studentOf(cls)].user.student_code},70\n`),
    };
  },
  'GET /api/v1/offerings/:id/gradebook/export.csv': async (c) => ({
    url: `/api/v1/offerings/${c.w.offerings[classOf(c)]}/gradebook/export.csv`,
  }),
  'GET /api/v1/me/grades': async () => ({ url: '/api/v1/me/grades' }),

  // ---- photos ------------------------------------------------------------------------------
  'GET /api/v1/albums': async () => ({ url: '/api/v1/albums' }),
  'POST /api/v1/albums': async () => ({ url: '/api/v1/albums', payload: { name: 'Trip' } }),
  'GET /api/v1/albums/:id': async (c) => ({ url: `/api/v1/albums/${await c.w.album(ownerOf(c))}` }),
  'PATCH /api/v1/albums/:id': async (c) => ({
    url: `/api/v1/albums/${await c.w.album(ownerOf(c))}`,
    payload: { name: 'Renamed' },
  }),
  'DELETE /api/v1/albums/:id': async (c) => ({ url: `/api/v1/albums/${await c.w.album(ownerOf(c))}` }),
  'GET /api/v1/images': async () => ({ url: '/api/v1/images' }),
  'POST /api/v1/images': async () => ({ url: '/api/v1/images', ...multipart([notAnImage()]) }),
  'GET /api/v1/images/:id': async (c) => ({ url: `/api/v1/images/${(await c.w.image(ownerOf(c))).id}` }),
  'PATCH /api/v1/images/:id': async (c) => ({
    url: `/api/v1/images/${(await c.w.image(ownerOf(c))).id}`,
    payload: { title: 'Renamed' },
  }),
  'DELETE /api/v1/images/:id': async (c) => ({ url: `/api/v1/images/${(await c.w.image(ownerOf(c))).id}` }),
  'GET /api/v1/images/:id/file': async (c) => ({ url: `/api/v1/images/${(await c.w.image(ownerOf(c))).id}/file` }),
  'POST /api/v1/images/:id/reprocess': async (c) => ({
    url: `/api/v1/images/${(await c.w.image(ownerOf(c))).id}/reprocess`,
  }),
  'POST /api/v1/images/:id/ocr': async (c) => ({
    url: `/api/v1/images/${(await c.w.image(ownerOf(c))).id}/ocr`,
    payload: { lang: 'eng' },
  }),
  'POST /api/v1/images/:id/translate': async (c) => ({
    url: `/api/v1/images/${(await c.w.image(ownerOf(c))).id}/translate`,
    payload: { field: 'description', from: 'es', to: 'en' },
  }),
  'PATCH /api/v1/images/:id/faces/:faceId': async (c) => {
    const img = await c.w.image(ownerOf(c));
    return { url: `/api/v1/images/${img.id}/faces/${img.faceId}`, payload: { userId: null } };
  },
  'DELETE /api/v1/images/:id/faces/:faceId': async (c) => {
    const img = await c.w.image(ownerOf(c));
    return { url: `/api/v1/images/${img.id}/faces/${img.faceId}` };
  },
  'GET /api/v1/labels': async () => ({ url: '/api/v1/labels' }),
  'GET /api/v1/people': async () => ({ url: '/api/v1/people' }),
  'GET /api/v1/translation': async () => ({ url: '/api/v1/translation' }),
  'POST /api/v1/translations': async () => ({
    url: '/api/v1/translations',
    payload: { text: '', from: 'es', to: 'en' },
  }),

  // ---- the analysis lab --------------------------------------------------------------------
  'POST /api/v1/analyses': async () => ({
    url: '/api/v1/analyses',
    ...multipart([{ name: 'model', data: 'objects' }, { name: 'parameters', data: '{}' }, notAnImage()]),
  }),
  'GET /api/v1/analyses': async () => ({ url: '/api/v1/analyses' }),
  'GET /api/v1/analyses/:id': async (c) => ({ url: `/api/v1/analyses/${(await c.w.analysis(ownerOf(c))).id}` }),
  'POST /api/v1/analyses/:id/rerun': async (c) => ({
    url: `/api/v1/analyses/${(await c.w.analysis(ownerOf(c))).id}/rerun`,
  }),
  'GET /api/v1/analyses/:id/inputs/:inputId/image': async (c) => {
    const a = await c.w.analysis(ownerOf(c));
    return { url: `/api/v1/analyses/${a.id}/inputs/${a.inputId}/image` };
  },
  'POST /api/v1/models/:name/predictions': async () => ({
    url: '/api/v1/models/objects/predictions',
    ...multipart([{ name: 'parameters', data: '{}' }, notAnImage()]),
  }),
  'GET /api/v1/predictions': async () => ({ url: '/api/v1/predictions' }),
  'GET /api/v1/predictions/export': async () => ({ url: '/api/v1/predictions/export?format=json' }),
  'GET /api/v1/predictions/:id': async (c) => ({ url: `/api/v1/predictions/${await c.w.prediction(ownerOf(c))}` }),
  'GET /api/v1/predictions/:id/input': async (c) => ({
    url: `/api/v1/predictions/${await c.w.prediction(ownerOf(c))}/input`,
  }),
};

function adminActor(w: AccessWorld) {
  const u = w.users.admin.user;
  return {
    id: u.id,
    role: 'admin' as const,
    username: u.username,
    fullName: u.full_name,
    studentCode: null,
    via: 'system' as const,
    scopes: null,
  };
}
