import type { Scope } from '../modules/identity/actor.ts';

/**
 * Who may do what: one table of every REST route, Socket.IO room and gRPC call, by role and by
 * whose resource it is. `access-matrix.test.ts` turns every cell into a real request and fails
 * when a route exists that this table does not list.
 *
 * Roles are the signed-in roles (admin, teacher, student), plus anonymous and API tokens.
 * Ownership says whose resource the id in the path names, seen from the caller:
 *   own           the caller's own (their photo, their analysis; for classes: the offering they
 *                 teach, or the one they are enrolled in)
 *   ownStudent    (teachers, user routes) a student enrolled in an offering the caller teaches
 *   otherTeacher  another teacher's (their photo; for classes: an offering someone else teaches)
 *   otherStudent  another student's, not in any class of the caller
 * Class resources (offerings, sessions, captures, attendance, gradebooks) have only own and
 * otherTeacher: another student's class is another teacher's class.
 *
 * Denied means 401 for anonymous callers, and 403 or 404 for signed-in ones. The product answers
 * 404 for personal resources whose existence a caller must not learn (photos, albums, analyses,
 * predictions, reset links) and 403 for school records the caller can know exist (an offering
 * listed in the catalogue, a session of it, a user). Never 200, never 5xx.
 */

export type Decision = 'allow' | 'deny';
export type Role = 'admin' | 'teacher' | 'student';
export type Ownership = 'own' | 'ownStudent' | 'otherTeacher' | 'otherStudent';

/** What the ids in a route name, which decides the ownership cells that apply. */
export type Target =
  /** nothing owned: the cell key is "any" */
  | 'none'
  /** a user (:id of /users/:id…) */
  | 'user'
  /** an offering, class session, capture or gradebook */
  | 'class'
  /** a photo, album, analysis or prediction: belongs to one user */
  | 'personal';

export const OWNERSHIPS: Record<Target, readonly (Ownership | 'any')[]> = {
  none: ['any'],
  user: ['own', 'ownStudent', 'otherTeacher', 'otherStudent'],
  class: ['own', 'otherTeacher'],
  personal: ['own', 'otherTeacher', 'otherStudent'],
};

export type Cells = Record<Role, Partial<Record<Ownership | 'any', Decision>>>;

/** How API tokens fare: `none` = no token without the admin scope; `any` = every token; else the scopes that open it. */
export type TokenAccess = 'none' | 'any' | readonly Scope[];

export interface RouteRule {
  method: string;
  url: string;
  target: Target;
  anonymous: Decision;
  cells: Cells;
  token: TokenAccess;
  /** Why the cells are what they are, where it is not obvious. */
  note?: string;
}

const A: Decision = 'allow';
const D: Decision = 'deny';

function rule(
  method: string,
  url: string,
  target: Target,
  cells: Cells,
  token: TokenAccess,
  extra: { anonymous?: Decision; note?: string } = {},
): RouteRule {
  return { method, url: `/api/v1${url}`, target, anonymous: extra.anonymous ?? D, cells, token, note: extra.note };
}

// ---- cell shapes ---------------------------------------------------------------------------

const everyone: Cells = { admin: { any: A }, teacher: { any: A }, student: { any: A } };
const adminOnly: Cells = { admin: { any: A }, teacher: { any: D }, student: { any: D } };
const staff: Cells = { admin: { any: A }, teacher: { any: A }, student: { any: D } };
const studentsOnly: Cells = { admin: { any: D }, teacher: { any: D }, student: { any: A } };

/** Offering pages: admins all; teachers the offerings they teach; students those they attend. */
const classView: Cells = {
  admin: { own: A, otherTeacher: A },
  teacher: { own: A, otherTeacher: D },
  student: { own: A, otherTeacher: D },
};
/** Running a class (sessions, attendance, gradebook): admins and the offering's teacher. */
const classManage: Cells = {
  admin: { own: A, otherTeacher: A },
  teacher: { own: A, otherTeacher: D },
  student: { own: D, otherTeacher: D },
};
/** Enrolments and rosters: the admin's. */
const classAdmin: Cells = {
  admin: { own: A, otherTeacher: A },
  teacher: { own: D, otherTeacher: D },
  student: { own: D, otherTeacher: D },
};
/** Photos and albums: the owner's alone, admins included (a private library). */
const ownerOnly: Cells = {
  admin: { own: A, otherTeacher: D, otherStudent: D },
  teacher: { own: A, otherTeacher: D, otherStudent: D },
  student: { own: A, otherTeacher: D, otherStudent: D },
};
/** Analyses and predictions: the owner's; admins audit them all. */
const ownerOrAdmin: Cells = {
  admin: { own: A, otherTeacher: A, otherStudent: A },
  teacher: { own: A, otherTeacher: D, otherStudent: D },
  student: { own: A, otherTeacher: D, otherStudent: D },
};
/** A profile: oneself; admins all; teachers staff and their own students. */
const profile: Cells = {
  admin: { own: A, otherTeacher: A, otherStudent: A },
  teacher: { own: A, ownStudent: A, otherTeacher: A, otherStudent: D },
  student: { own: A, otherTeacher: D, otherStudent: D },
};
/** Face data: oneself; admins all; teachers their own students only. */
const faceData: Cells = {
  admin: { own: A, otherTeacher: A, otherStudent: A },
  teacher: { own: A, ownStudent: A, otherTeacher: D, otherStudent: D },
  student: { own: A, otherTeacher: D, otherStudent: D },
};
/** Account administration of any user (self included): admins. */
const userAdmin: Cells = {
  admin: { own: A, otherTeacher: A, otherStudent: A },
  teacher: { own: D, ownStudent: D, otherTeacher: D, otherStudent: D },
  student: { own: D, otherTeacher: D, otherStudent: D },
};

// ---- REST ----------------------------------------------------------------------------------

export const REST_RULES: RouteRule[] = [
  // identity and sessions
  rule('POST', '/auth/login', 'none', everyone, 'none', { anonymous: A }),
  rule('POST', '/auth/register', 'none', everyone, 'none', { anonymous: A }),
  rule('POST', '/auth/logout', 'none', everyone, 'none', { anonymous: A }),
  rule('POST', '/auth/logout-all', 'none', everyone, 'none'),
  rule('POST', '/auth/password-reset', 'none', everyone, 'none', { anonymous: A }),
  rule('POST', '/auth/password-reset/confirm', 'none', everyone, 'none', {
    anonymous: A,
    note: 'allowed to call; a wrong or spent token is a 400',
  }),
  rule('POST', '/auth/face-login', 'none', everyone, 'none', { anonymous: A }),
  rule('GET', '/auth/me', 'none', everyone, 'any'),
  rule('PATCH', '/me', 'none', everyone, 'none'),
  rule('POST', '/me/password', 'none', everyone, 'none'),
  rule('PUT', '/me/photo', 'none', everyone, 'none'),
  rule('GET', '/users/:id/photo', 'user', profile, 'none'),
  rule('PUT', '/users/:id/photo', 'user', userAdmin, 'none', { note: 'users change their own at /me/photo' }),
  rule('GET', '/users', 'none', adminOnly, 'none'),
  rule('POST', '/users', 'none', adminOnly, 'none'),
  rule('GET', '/users/:id', 'user', profile, 'none'),
  rule('PATCH', '/users/:id', 'user', userAdmin, 'none'),
  rule('DELETE', '/users/:id', 'user', userAdmin, 'none', { note: 'an admin deleting themself gets 409' }),
  rule('GET', '/tokens', 'none', adminOnly, 'none'),
  rule('POST', '/tokens', 'none', adminOnly, 'none'),
  rule('DELETE', '/tokens/:id', 'none', adminOnly, 'none'),
  rule('GET', '/audit', 'none', adminOnly, 'none'),

  // academics
  rule('GET', '/semesters', 'none', everyone, 'none'),
  rule('POST', '/semesters', 'none', adminOnly, 'none'),
  rule('GET', '/semesters/:id', 'none', everyone, 'none'),
  rule('PATCH', '/semesters/:id', 'none', adminOnly, 'none'),
  rule('DELETE', '/semesters/:id', 'none', adminOnly, 'none'),
  rule('GET', '/courses', 'none', everyone, 'none'),
  rule('POST', '/courses', 'none', adminOnly, 'none'),
  rule('GET', '/courses/:id', 'none', everyone, 'none'),
  rule('PATCH', '/courses/:id', 'none', adminOnly, 'none'),
  rule('DELETE', '/courses/:id', 'none', adminOnly, 'none'),
  rule('GET', '/offerings', 'none', everyone, 'none', { note: 'each role sees only its own offerings' }),
  rule('POST', '/offerings', 'none', adminOnly, 'none'),
  rule('GET', '/offerings/:id', 'class', classView, 'none'),
  rule('PATCH', '/offerings/:id', 'class', classManage, 'none', {
    note: 'teachers may change room, schedule and late threshold only',
  }),
  rule('DELETE', '/offerings/:id', 'class', classAdmin, 'none'),
  rule('GET', '/offerings/:id/enrollments', 'class', classView, 'none', { note: 'a student sees only their own row' }),
  rule('POST', '/offerings/:id/enrollments', 'class', classAdmin, 'none'),
  rule('DELETE', '/offerings/:id/enrollments/:studentId', 'class', classAdmin, 'none'),
  rule('POST', '/offerings/:id/roster', 'class', classAdmin, 'none'),
  rule('GET', '/me/enrollments', 'none', everyone, 'none'),
  rule('GET', '/offerings/:id/sessions', 'class', classView, 'none'),
  rule('POST', '/offerings/:id/sessions', 'class', classManage, 'none'),
  rule('POST', '/offerings/:id/sessions/generate', 'class', classManage, 'none'),
  rule('GET', '/sessions/:id', 'class', classView, 'none'),
  rule('PATCH', '/sessions/:id', 'class', classManage, 'none'),
  rule('DELETE', '/sessions/:id', 'class', classManage, 'none'),

  // attendance
  rule('POST', '/sessions/:id/captures', 'class', classManage, ['attendance:capture']),
  rule('POST', '/sessions/:id/frames', 'class', classManage, ['attendance:capture']),
  rule('GET', '/sessions/:id/captures', 'class', classManage, ['attendance:read']),
  rule('GET', '/captures/:id', 'class', classManage, ['attendance:read']),
  rule('GET', '/captures/:id/frames', 'class', classManage, ['attendance:read']),
  rule('GET', '/captures/:id/frames/:index/image', 'class', classManage, ['attendance:read']),
  rule('GET', '/sessions/:id/attendance', 'class', classManage, ['attendance:read']),
  rule('POST', '/sessions/:id/attendance/close', 'class', classManage, ['attendance:write']),
  rule('PATCH', '/sessions/:id/attendance/:studentId', 'class', classManage, ['attendance:write']),
  rule('POST', '/sessions/:id/attendance/:studentId/confirm', 'class', classManage, ['attendance:write']),
  rule('POST', '/sessions/:id/attendance/:studentId/reject', 'class', classManage, ['attendance:write']),
  rule('GET', '/sessions/:id/attendance/:studentId/evidence', 'class', classManage, ['attendance:read']),
  rule('GET', '/sessions/:id/unknown-faces', 'class', classManage, ['attendance:read']),
  rule('GET', '/sessions/:id/unknown-faces/:faceId/image', 'class', classManage, ['attendance:read']),
  rule('POST', '/sessions/:id/unknown-faces/:faceId/assign', 'class', classManage, ['attendance:write']),
  rule('POST', '/sessions/:id/unknown-faces/:faceId/dismiss', 'class', classManage, ['attendance:write']),
  rule('GET', '/sessions/:id/actions', 'class', classManage, ['attendance:read']),
  rule('GET', '/offerings/:id/attendance/report', 'class', classManage, ['attendance:read']),
  rule('GET', '/offerings/:id/attendance/export', 'class', classManage, ['attendance:read']),
  rule('GET', '/me/attendance', 'none', everyone, ['attendance:read']),
  rule('GET', '/attendance/dashboard', 'none', everyone, ['attendance:read'], {
    note: 'students get an empty dashboard',
  }),

  // face data
  rule('POST', '/users/:id/faces', 'user', faceData, 'none'),
  rule('GET', '/users/:id/faces', 'user', faceData, 'none'),
  rule('GET', '/users/:id/faces/:templateId/image', 'user', faceData, 'none'),
  rule('DELETE', '/users/:id/faces/:templateId', 'user', faceData, 'none'),
  rule('DELETE', '/users/:id/faces', 'user', faceData, 'none'),
  rule('GET', '/models', 'none', everyone, ['analysis:run']),

  // load tests
  rule('GET', '/loadtests', 'none', staff, ['loadtest:publish']),
  rule('GET', '/loadtests/:runId', 'none', staff, ['loadtest:publish']),
  rule('POST', '/loadtests/:runId/samples', 'none', adminOnly, ['loadtest:publish']),
  rule('POST', '/loadtests/:runId/finish', 'none', adminOnly, ['loadtest:publish']),
  rule('DELETE', '/loadtests/:runId', 'none', adminOnly, 'none'),

  // grades
  rule('POST', '/grades', 'none', adminOnly, ['grades:write'], {
    note: 'for ingest clients; teachers enter grades in the gradebook',
  }),
  rule('GET', '/analytics/grades/total', 'none', staff, ['grades:read']),
  rule('GET', '/analytics/grades/pass-fail', 'none', staff, ['grades:read']),
  rule('GET', '/analytics/grades/top-courses', 'none', staff, ['grades:read']),
  rule('GET', '/analytics/grades/top-students', 'none', staff, ['grades:read']),
  rule('GET', '/analytics/grades/students', 'none', staff, ['grades:read']),
  rule('GET', '/analytics/grades/counters', 'none', staff, ['grades:read']),
  rule('GET', '/offerings/:id/gradebook', 'class', classManage, ['grades:read']),
  rule('POST', '/offerings/:id/gradebook', 'class', classManage, ['grades:write']),
  rule('GET', '/offerings/:id/gradebook/:studentCode/history', 'class', classManage, ['grades:read']),
  rule('POST', '/offerings/:id/gradebook/import', 'class', classManage, ['grades:write']),
  rule('GET', '/offerings/:id/gradebook/export.csv', 'class', classManage, ['grades:read']),
  rule('GET', '/me/grades', 'none', studentsOnly, ['grades:read']),

  // photos
  rule('GET', '/albums', 'none', everyone, ['media:write']),
  rule('POST', '/albums', 'none', everyone, ['media:write']),
  rule('GET', '/albums/:id', 'personal', ownerOnly, ['media:write']),
  rule('PATCH', '/albums/:id', 'personal', ownerOnly, ['media:write']),
  rule('DELETE', '/albums/:id', 'personal', ownerOnly, ['media:write']),
  rule('GET', '/images', 'none', everyone, ['media:write']),
  rule('POST', '/images', 'none', everyone, ['media:write']),
  rule('GET', '/images/:id', 'personal', ownerOnly, ['media:write'], { note: 'shared photos are readable by all' }),
  rule('PATCH', '/images/:id', 'personal', ownerOnly, ['media:write']),
  rule('DELETE', '/images/:id', 'personal', ownerOnly, ['media:write']),
  rule('GET', '/images/:id/file', 'personal', ownerOnly, ['media:write']),
  rule('POST', '/images/:id/reprocess', 'personal', ownerOnly, ['media:write']),
  rule('POST', '/images/:id/ocr', 'personal', ownerOnly, ['media:write']),
  rule('POST', '/images/:id/translate', 'personal', ownerOnly, ['media:write']),
  rule('PATCH', '/images/:id/faces/:faceId', 'personal', ownerOnly, ['media:write']),
  rule('DELETE', '/images/:id/faces/:faceId', 'personal', ownerOnly, ['media:write']),
  rule('GET', '/labels', 'none', everyone, ['media:write']),
  rule('GET', '/people', 'none', everyone, 'none', { note: 'only people who allow face recognition are listed' }),
  rule('GET', '/translation', 'none', everyone, 'none'),
  rule('POST', '/translations', 'none', everyone, 'none'),

  // the analysis lab
  rule('POST', '/analyses', 'none', everyone, ['analysis:run']),
  rule('GET', '/analyses', 'none', everyone, ['analysis:run'], { note: 'each user sees their own; admins all' }),
  rule('GET', '/analyses/:id', 'personal', ownerOrAdmin, ['analysis:run']),
  rule('POST', '/analyses/:id/rerun', 'personal', ownerOrAdmin, ['analysis:run']),
  rule('GET', '/analyses/:id/inputs/:inputId/image', 'personal', ownerOrAdmin, ['analysis:run']),
  rule('POST', '/models/:name/predictions', 'none', everyone, ['analysis:run']),
  rule('GET', '/predictions', 'none', everyone, ['analysis:run']),
  rule('GET', '/predictions/export', 'none', everyone, ['analysis:run']),
  rule('GET', '/predictions/:id', 'personal', ownerOrAdmin, ['analysis:run']),
  rule('GET', '/predictions/:id/input', 'personal', ownerOrAdmin, ['analysis:run']),
];

/** Routes outside the API, open to anyone by design (probes, metrics scraping, the API explorer). */
export const PUBLIC_ROUTES: readonly string[] = [
  'GET /health/live',
  'GET /health/ready',
  'GET /metrics',
  'GET /docs',
  'GET /docs/json',
  'GET /docs/yaml',
  'GET /docs/static/index.html',
  'GET /docs/static/swagger-initializer.js',
  'GET /docs/static/*',
];

// ---- Socket.IO rooms -----------------------------------------------------------------------

export interface RoomRule {
  /** `grades`, `grades:<course>:<year>-<term>`, `session:<id>`, `capture:<id>`, `job:<id>` */
  room: string;
  target: Target;
  cells: Cells;
  token: TokenAccess;
}

export const ROOM_RULES: RoomRule[] = [
  { room: 'grades', target: 'none', cells: staff, token: ['grades:read'] },
  { room: 'grades:<course>:<semester>', target: 'none', cells: staff, token: ['grades:read'] },
  { room: 'session:<id>', target: 'class', cells: classManage, token: ['attendance:read'] },
  { room: 'capture:<id>', target: 'class', cells: classManage, token: ['attendance:read'] },
  { room: 'job:<id>', target: 'personal', cells: ownerOrAdmin, token: 'any' },
  {
    room: '<unregistered prefix>',
    target: 'none',
    cells: { admin: { any: D }, teacher: { any: D }, student: { any: D } },
    token: 'none',
  },
];

// ---- gRPC ----------------------------------------------------------------------------------

/** aula.grades.v1.Grades takes API tokens only: grades:write (or admin) passes. */
export const GRPC_RULES: { method: string; token: readonly Scope[] }[] = [
  { method: 'Submit', token: ['grades:write'] },
  { method: 'SubmitBatch', token: ['grades:write'] },
  { method: 'SubmitStream', token: ['grades:write'] },
];

export const ruleKey = (method: string, url: string) => `${method} ${url}`;
