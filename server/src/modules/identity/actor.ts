import { forbidden, unauthorized } from '../../platform/errors.ts';
import type { Role } from '../../platform/db/tables/identity.ts';

export type { Role };

/** Scopes an API token may carry. A browser session holds every scope of its role. */
export const SCOPES = [
  'grades:write',
  'grades:read',
  'attendance:capture',
  'attendance:read',
  'attendance:write',
  'analysis:run',
  'media:write',
  'loadtest:publish',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling, resolved once per request by the transport and passed to services. */
export interface Actor {
  id: string;
  role: Role;
  username: string;
  fullName: string;
  studentCode: string | null;
  via: 'session' | 'token' | 'system';
  /** null for sessions and the system actor: limited only by role. */
  scopes: readonly Scope[] | null;
  sessionId?: string;
  tokenId?: string;
}

export function requireActor(actor: Actor | null | undefined): Actor {
  if (!actor) throw unauthorized();
  return actor;
}

export function requireRole(actor: Actor | null | undefined, ...roles: Role[]): Actor {
  const a = requireActor(actor);
  if (!roles.includes(a.role)) throw forbidden();
  return a;
}

export function requireScope(actor: Actor | null | undefined, scope: Scope): Actor {
  const a = requireActor(actor);
  if (a.scopes !== null && !a.scopes.includes(scope) && !a.scopes.includes('admin')) {
    throw forbidden(`This token lacks the ${scope} scope`);
  }
  return a;
}

export const isAdmin = (a: Actor): boolean => a.role === 'admin';

export const SYSTEM_ACTOR: Actor = {
  id: 'system',
  role: 'admin',
  username: 'system',
  fullName: 'System',
  studentCode: null,
  via: 'system',
  scopes: null,
};
