import { randomBytes } from 'node:crypto';
import type { App } from '../http/app.ts';
import type { AppContext } from '../context.ts';
import { SYSTEM_ACTOR, type Role, type Scope } from '../modules/identity/actor.ts';
import type { UserRow } from '../modules/identity/identity.repository.ts';

let seq = 0;
const uniq = () => `${Date.now().toString(36)}${(seq++).toString(36)}${randomBytes(2).toString('hex')}`;

export const TEST_PASSWORD = 'correct horse battery';

export interface BuiltUser {
  user: UserRow;
  password: string;
}

/** A user row with unique username, email and (for students) student code. */
export async function buildUser(
  ctx: AppContext,
  overrides: { role?: Role; username?: string; fullName?: string; studentCode?: string; password?: string } = {},
): Promise<BuiltUser> {
  const role = overrides.role ?? 'student';
  const u = uniq();
  const username = overrides.username ?? `${role}_${u}`;
  const password = overrides.password ?? TEST_PASSWORD;
  const user = await ctx.identity.createUser(
    {
      username,
      email: `${username}@example.test`,
      fullName: overrides.fullName ?? `Test ${role} ${u}`,
      role,
      password,
      studentCode: overrides.studentCode ?? (role === 'student' ? `S${u}`.slice(0, 32) : undefined),
    },
    SYSTEM_ACTOR,
  );
  return { user, password };
}

export interface Session {
  /** Headers for app.inject(): the session cookie and the CSRF header. */
  headers: Record<string, string>;
  user: UserRow;
}

/** Signs in through the real login route and returns headers that authenticate later calls. */
export async function loginAs(app: App, built: BuiltUser): Promise<Session> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { login: built.user.username, password: built.password },
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const cookies = res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const csrf = res.cookies.find((c) => c.name === 'aula_csrf')?.value ?? '';
  return { headers: { cookie: cookies, 'x-csrf-token': csrf }, user: built.user };
}

/** A user of the given role, signed in. */
export async function signedIn(app: App, ctx: AppContext, role: Role): Promise<Session> {
  return loginAs(app, await buildUser(ctx, { role }));
}

/** A bearer token with scopes, for machine clients. */
export async function buildToken(ctx: AppContext, userId: string, scopes: Scope[]): Promise<string> {
  const { token } = await ctx.identity.createApiToken(SYSTEM_ACTOR, { userId, name: `test-${uniq()}`, scopes });
  return token;
}
