import type { Actor, Scope } from '../modules/identity/actor.ts';
import { forbidden } from '../platform/errors.ts';

/**
 * Which REST routes an API token may call at all, and with which scopes. A token is a machine
 * credential for one job (a camera, an ingest client, the load generator); it must not inherit
 * every power of the account it belongs to. A token with the `admin` scope reaches every route;
 * any other token only the routes below, holding one of the listed scopes. A route missing here
 * is closed to tokens, so a new route is safe until someone decides otherwise. Services still
 * check scopes and ownership themselves; this is the outer fence.
 */
const ANY: readonly Scope[] = [];

export const TOKEN_ROUTES: Readonly<Record<string, readonly Scope[]>> = {
  // whoami: every token may ask who it is (the load generator's probe does)
  'GET /api/v1/auth/me': ANY,

  // grade ingest and analytics
  'POST /api/v1/grades': ['grades:write'],
  'GET /api/v1/analytics/grades/total': ['grades:read'],
  'GET /api/v1/analytics/grades/pass-fail': ['grades:read'],
  'GET /api/v1/analytics/grades/top-courses': ['grades:read'],
  'GET /api/v1/analytics/grades/top-students': ['grades:read'],
  'GET /api/v1/analytics/grades/students': ['grades:read'],
  'GET /api/v1/analytics/grades/counters': ['grades:read'],
  'GET /api/v1/offerings/:id/gradebook': ['grades:read'],
  'GET /api/v1/offerings/:id/gradebook/:studentCode/history': ['grades:read'],
  'GET /api/v1/offerings/:id/gradebook/export.csv': ['grades:read'],
  'POST /api/v1/offerings/:id/gradebook': ['grades:write'],
  'POST /api/v1/offerings/:id/gradebook/import': ['grades:write'],
  'GET /api/v1/me/grades': ['grades:read'],

  // cameras
  'POST /api/v1/sessions/:id/captures': ['attendance:capture'],
  'POST /api/v1/sessions/:id/frames': ['attendance:capture'],

  // attendance reads and review
  'GET /api/v1/sessions/:id/captures': ['attendance:read'],
  'GET /api/v1/captures/:id': ['attendance:read'],
  'GET /api/v1/captures/:id/frames': ['attendance:read'],
  'GET /api/v1/captures/:id/frames/:index/image': ['attendance:read'],
  'GET /api/v1/sessions/:id/attendance': ['attendance:read'],
  'GET /api/v1/sessions/:id/attendance/:studentId/evidence': ['attendance:read'],
  'GET /api/v1/sessions/:id/unknown-faces': ['attendance:read'],
  'GET /api/v1/sessions/:id/unknown-faces/:faceId/image': ['attendance:read'],
  'GET /api/v1/sessions/:id/actions': ['attendance:read'],
  'GET /api/v1/offerings/:id/attendance/report': ['attendance:read'],
  'GET /api/v1/offerings/:id/attendance/export': ['attendance:read'],
  'GET /api/v1/me/attendance': ['attendance:read'],
  'GET /api/v1/attendance/dashboard': ['attendance:read'],
  'POST /api/v1/sessions/:id/attendance/close': ['attendance:write'],
  'PATCH /api/v1/sessions/:id/attendance/:studentId': ['attendance:write'],
  'POST /api/v1/sessions/:id/attendance/:studentId/confirm': ['attendance:write'],
  'POST /api/v1/sessions/:id/attendance/:studentId/reject': ['attendance:write'],
  'POST /api/v1/sessions/:id/unknown-faces/:faceId/assign': ['attendance:write'],
  'POST /api/v1/sessions/:id/unknown-faces/:faceId/dismiss': ['attendance:write'],

  // the analysis lab and its ledger (`aula analyze --server`)
  'GET /api/v1/models': ['analysis:run'],
  'POST /api/v1/analyses': ['analysis:run'],
  'GET /api/v1/analyses': ['analysis:run'],
  'GET /api/v1/analyses/:id': ['analysis:run'],
  'POST /api/v1/analyses/:id/rerun': ['analysis:run'],
  'GET /api/v1/analyses/:id/inputs/:inputId/image': ['analysis:run'],
  'POST /api/v1/models/:name/predictions': ['analysis:run'],
  'GET /api/v1/predictions': ['analysis:run'],
  'GET /api/v1/predictions/export': ['analysis:run'],
  'GET /api/v1/predictions/:id': ['analysis:run'],
  'GET /api/v1/predictions/:id/input': ['analysis:run'],

  // photo libraries (an uploader script)
  'GET /api/v1/albums': ['media:write'],
  'POST /api/v1/albums': ['media:write'],
  'GET /api/v1/albums/:id': ['media:write'],
  'PATCH /api/v1/albums/:id': ['media:write'],
  'DELETE /api/v1/albums/:id': ['media:write'],
  'GET /api/v1/images': ['media:write'],
  'POST /api/v1/images': ['media:write'],
  'GET /api/v1/images/:id': ['media:write'],
  'PATCH /api/v1/images/:id': ['media:write'],
  'DELETE /api/v1/images/:id': ['media:write'],
  'GET /api/v1/images/:id/file': ['media:write'],
  'POST /api/v1/images/:id/reprocess': ['media:write'],
  'POST /api/v1/images/:id/ocr': ['media:write'],
  'POST /api/v1/images/:id/translate': ['media:write'],
  'PATCH /api/v1/images/:id/faces/:faceId': ['media:write'],
  'DELETE /api/v1/images/:id/faces/:faceId': ['media:write'],
  'GET /api/v1/labels': ['media:write'],

  // the traffic generator publishing its runs
  'GET /api/v1/loadtests': ['loadtest:publish'],
  'GET /api/v1/loadtests/:runId': ['loadtest:publish'],
  'POST /api/v1/loadtests/:runId/samples': ['loadtest:publish'],
  'POST /api/v1/loadtests/:runId/finish': ['loadtest:publish'],
};

/**
 * Throws 403 unless the token may call `method url` (url as Fastify declares the route). Only the
 * API is fenced: health, metrics and unknown paths answer as they do for anyone.
 */
export function assertTokenMayCall(actor: Actor, method: string, url: string | undefined): void {
  if (url === undefined || !url.startsWith('/api/')) return;
  const scopes = actor.scopes ?? [];
  if (scopes.includes('admin')) return;
  // HEAD is the GET route without a body.
  const verb = method === 'HEAD' ? 'GET' : method;
  const allowed = TOKEN_ROUTES[`${verb} ${url}`];
  if (allowed === undefined) {
    throw forbidden('API tokens cannot call this endpoint; sign in, or use a token with the admin scope');
  }
  if (allowed.length > 0 && !allowed.some((s) => scopes.includes(s))) {
    throw forbidden(`This token lacks the ${allowed.join(' or ')} scope`);
  }
}
