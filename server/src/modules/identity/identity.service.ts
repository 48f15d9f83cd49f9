import { createHash } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { Config } from '../../config.ts';
import type { BlobStore } from '../../platform/blobs/index.ts';
import { isUniqueViolation, type Executor } from '../../platform/db/database.ts';
import type { UsersTable } from '../../platform/db/tables/identity.ts';
import { AppError, conflict, forbidden, notFound, unauthorized } from '../../platform/errors.ts';
import { newId, randomToken } from '../../platform/ids.ts';
import { normalizeImage } from '../../platform/images.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Mailer } from '../../platform/mailer.ts';
import type { RateLimiter } from '../../platform/rate-limiter.ts';
import { toIso } from '../../platform/time.ts';
import { type Actor, type Role, type Scope, SCOPES, isAdmin, requireRole } from './actor.ts';
import type { AuditFilter, IdentityRepository, UserListFilter, UserRow } from './identity.repository.ts';
import { PasswordResets } from './password-reset.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import type { UserOut } from './identity.schemas.ts';

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

export interface NewUser {
  username: string;
  email: string;
  fullName: string;
  role: Role;
  password?: string | undefined;
  studentCode?: string | undefined;
}

export function toUserOut(u: UserRow): UserOut {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    fullName: u.full_name,
    role: u.role,
    studentCode: u.student_code,
    hasPhoto: u.profile_blob_id !== null,
    faceLoginConsent: Number(u.face_login_consent) === 1,
    disabled: Number(u.disabled) === 1,
    createdAt: toIso(u.created_at)!,
  };
}

export function actorFromUser(u: UserRow, via: Actor['via'], extra: Partial<Actor> = {}): Actor {
  return {
    id: u.id,
    role: u.role,
    username: u.username,
    fullName: u.full_name,
    studentCode: u.student_code,
    via,
    scopes: null,
    ...extra,
  };
}

const TOKEN_CACHE_MS = 30_000;

export class IdentityService {
  // API tokens are checked on every ingest request; a short cache keeps that off the database.
  private readonly tokenCache = new Map<string, { actor: Actor; expiresAt: number }>();
  private resets: PasswordResets | undefined;

  constructor(
    private readonly repo: IdentityRepository,
    private readonly config: Config,
    private readonly limiter: RateLimiter,
    private readonly blobs: BlobStore,
  ) {}

  /** Turns on "forgot password" with the given way of sending mail (done once by the composition root). */
  enablePasswordResets(mailer: Mailer, logger: Logger): void {
    this.resets = new PasswordResets(this.repo, this, this.config, this.limiter, mailer, logger);
  }

  get passwordResets(): PasswordResets {
    if (!this.resets) throw new Error('Password resets are not enabled in this process');
    return this.resets;
  }

  // ---- users -------------------------------------------------------------------------------

  async createUser(input: NewUser, actor: Actor | null): Promise<UserRow> {
    const t = Date.now();
    const row: Insertable<UsersTable> = {
      id: newId(t),
      username: input.username.toLowerCase(),
      email: input.email.toLowerCase(),
      full_name: input.fullName,
      role: input.role,
      password_hash: input.password ? await hashPassword(input.password) : null,
      student_code: input.studentCode ?? null,
      profile_blob_id: null,
      profile_thumb_blob_id: null,
      created_at: t,
      updated_at: t,
    };
    try {
      await this.repo.insertUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw await this.duplicateUserError(row);
      throw err;
    }
    if (actor) await this.audit(actor, 'user.create', 'user', row.id, { role: row.role });
    return (await this.repo.findUserById(row.id))!;
  }

  private async duplicateUserError(row: Insertable<UsersTable>): Promise<AppError> {
    if (await this.repo.findUserByUsername(row.username)) return conflict('username_taken', 'That username is taken');
    if (await this.repo.findUserByEmail(row.email)) return conflict('email_taken', 'That email is already registered');
    return conflict('student_code_taken', 'That student code belongs to another user');
  }

  /**
   * The same service with its queries on `db`, so another module can create accounts inside its
   * own transaction (a roster import either creates every student or none).
   */
  withExecutor(db: Executor): IdentityService {
    return new IdentityService(this.repo.withExecutor(db), this.config, this.limiter, this.blobs);
  }

  /**
   * Creates many accounts in a few statements and returns their ids in input order. The password
   * comes already hashed so that one hash can serve a whole batch; callers check uniqueness first,
   * and a duplicate that slips in concurrently fails the batch with a 409.
   */
  async createUsers(
    inputs: readonly Omit<NewUser, 'password'>[],
    passwordHash: string | null = null,
  ): Promise<string[]> {
    const t = Date.now();
    const rows: Insertable<UsersTable>[] = inputs.map((input) => ({
      id: newId(t),
      username: input.username.toLowerCase(),
      email: input.email.toLowerCase(),
      full_name: input.fullName,
      role: input.role,
      password_hash: passwordHash,
      student_code: input.studentCode ?? null,
      profile_blob_id: null,
      profile_thumb_blob_id: null,
      created_at: t,
      updated_at: t,
    }));
    try {
      await this.repo.insertUsers(rows);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw conflict('duplicate_user', 'A username, email or student code is already in use');
      }
      throw err;
    }
    return rows.map((r) => r.id);
  }

  async register(input: Omit<NewUser, 'role'>): Promise<UserRow> {
    return this.createUser({ ...input, role: 'student' }, null);
  }

  /**
   * A profile: one's own; any for admins; for teachers, staff and the students of the offerings
   * they teach (not another teacher's students).
   */
  async getUser(actor: Actor, id: string): Promise<UserRow> {
    if (actor.id !== id) requireRole(actor, 'admin', 'teacher');
    const u = await this.repo.findUserById(id);
    if (!u) throw notFound('User');
    if (actor.id !== id && !isAdmin(actor) && u.role === 'student' && !(await this.repo.teaches(actor.id, id))) {
      throw forbidden('This student is not in any offering you teach');
    }
    return u;
  }

  listUsers(actor: Actor, filter: UserListFilter) {
    requireRole(actor, 'admin');
    return this.repo.listUsers(filter);
  }

  async updateUser(
    actor: Actor,
    id: string,
    patch: {
      email?: string | undefined;
      fullName?: string | undefined;
      role?: Role | undefined;
      password?: string | undefined;
      studentCode?: string | null | undefined;
      disabled?: boolean | undefined;
    },
  ): Promise<UserRow> {
    requireRole(actor, 'admin');
    const u = await this.repo.findUserById(id);
    if (!u) throw notFound('User');
    if (u.id === actor.id && ((patch.role !== undefined && patch.role !== 'admin') || patch.disabled)) {
      throw new AppError('cannot_demote_self', 409, 'You cannot remove your own admin access');
    }
    try {
      await this.repo.updateUser(id, {
        ...(patch.email !== undefined && { email: patch.email }),
        ...(patch.fullName !== undefined && { full_name: patch.fullName }),
        ...(patch.role !== undefined && { role: patch.role }),
        ...(patch.studentCode !== undefined && { student_code: patch.studentCode }),
        ...(patch.disabled !== undefined && { disabled: patch.disabled ? 1 : 0 }),
        ...(patch.password !== undefined && { password_hash: await hashPassword(patch.password) }),
        updated_at: Date.now(),
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('duplicate', 'Email or student code already in use');
      throw err;
    }
    if (patch.role !== undefined && patch.role !== u.role) {
      await this.audit(actor, 'user.role_change', 'user', id, { from: u.role, to: patch.role });
    }
    if (patch.password !== undefined || patch.disabled) {
      await this.repo.deleteSessionsByUser(id);
      this.tokenCache.clear();
      await this.audit(actor, patch.disabled ? 'user.disable' : 'user.password_reset', 'user', id, {});
    }
    return (await this.repo.findUserById(id))!;
  }

  async deleteUser(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    if (id === actor.id) throw new AppError('cannot_delete_self', 409, 'You cannot delete your own account');
    const u = await this.repo.findUserById(id);
    if (!u) throw notFound('User');
    await this.repo.deleteUser(id);
    this.tokenCache.clear();
    for (const blob of [u.profile_blob_id, u.profile_thumb_blob_id]) if (blob) await this.blobs.delete(blob);
    await this.audit(actor, 'user.delete', 'user', id, { username: u.username });
  }

  async updateMe(
    actor: Actor,
    patch: { fullName?: string | undefined; email?: string | undefined; faceLoginConsent?: boolean | undefined },
  ): Promise<UserRow> {
    try {
      await this.repo.updateUser(actor.id, {
        ...(patch.fullName !== undefined && { full_name: patch.fullName }),
        ...(patch.email !== undefined && { email: patch.email }),
        ...(patch.faceLoginConsent !== undefined && { face_login_consent: patch.faceLoginConsent ? 1 : 0 }),
        updated_at: Date.now(),
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('email_taken', 'That email is already registered');
      throw err;
    }
    if (patch.faceLoginConsent !== undefined) {
      await this.audit(
        actor,
        patch.faceLoginConsent ? 'face.consent_given' : 'face.consent_withdrawn',
        'user',
        actor.id,
        {},
      );
    }
    return (await this.repo.findUserById(actor.id))!;
  }

  /**
   * Changes the caller's own password. Every session of the account ends, the caller's too: a
   * browser session gets a fresh one back (new id and CSRF token), so whoever held a copy of
   * the old cookie is signed out with the rest.
   */
  async changePassword(
    actor: Actor,
    current: string,
    next: string,
    meta: RequestMeta,
  ): Promise<{ token: string; csrfToken: string; expiresAt: number } | null> {
    const u = await this.repo.findUserById(actor.id);
    if (!u || !(await verifyPassword(current, u.password_hash))) {
      throw new AppError('wrong_password', 400, 'The current password is not correct');
    }
    await this.repo.updateUser(u.id, { password_hash: await hashPassword(next), updated_at: Date.now() });
    const ended = await this.repo.deleteSessionsByUser(u.id);
    await this.audit(actor, 'user.password_change', 'user', u.id, { sessions: ended }, meta.ip);
    if (actor.via !== 'session') return null;
    return this.startSession(u, meta, 'password');
  }

  // ---- sessions ----------------------------------------------------------------------------

  async login(login: string, password: string, meta: RequestMeta) {
    const { perIp, perAccount, windowMs } = this.config.loginRateLimit;
    const ipDecision = await this.limiter.hit(`login:ip:${meta.ip ?? 'unknown'}`, perIp, windowMs);
    const acctDecision = await this.limiter.hit(`login:acct:${login.toLowerCase()}`, perAccount, windowMs);
    for (const d of [ipDecision, acctDecision]) {
      if (!d.allowed) {
        throw new AppError('too_many_attempts', 429, 'Too many sign-in attempts; try again later', {
          retryAfterSeconds: Math.ceil(d.retryAfterMs / 1000),
        });
      }
    }
    const user = await this.repo.findUserByLogin(login);
    const ok = await verifyPassword(password, user?.password_hash ?? null);
    if (!user || !ok || Number(user.disabled) === 1) {
      throw new AppError('invalid_credentials', 401, 'Wrong username, email or password');
    }
    await this.limiter.reset(`login:acct:${login.toLowerCase()}`);
    return this.startSession(user, meta, 'password');
  }

  /** A fresh session id on every sign-in, so a planted cookie can never be promoted (fixation). */
  async startSession(user: UserRow, meta: RequestMeta, via: 'password' | 'face') {
    const token = randomToken(32);
    const csrfToken = randomToken(24);
    const t = Date.now();
    await this.repo.insertSession({
      id: sha256(token),
      user_id: user.id,
      csrf_token: csrfToken,
      ip: meta.ip?.slice(0, 64) ?? null,
      user_agent: meta.userAgent?.slice(0, 255) ?? null,
      via,
      created_at: t,
      last_seen_at: t,
      expires_at: t + this.config.sessionTtlMs,
    });
    if (via === 'face') {
      await this.audit(actorFromUser(user, 'session'), 'auth.face_login', 'user', user.id, {});
    }
    return { token, csrfToken, user, expiresAt: t + this.config.sessionTtlMs };
  }

  async resolveSession(token: string): Promise<{ actor: Actor; csrfToken: string } | null> {
    if (!token || token.length > 200) return null;
    const id = sha256(token);
    const s = await this.repo.findSessionById(id);
    const t = Date.now();
    if (!s || s.expires_at < t) return null;
    const u = await this.repo.findUserById(s.user_id);
    if (!u || Number(u.disabled) === 1) return null;
    // Sliding expiry, written at most once a minute per session.
    if (t - s.last_seen_at > 60_000) await this.repo.touchSession(id, t, t + this.config.sessionTtlMs);
    return { actor: actorFromUser(u, 'session', { sessionId: id }), csrfToken: s.csrf_token };
  }

  async logout(sessionId: string): Promise<void> {
    await this.repo.deleteSession(sessionId);
  }

  /**
   * Ends the session behind a cookie the browser still presents when it signs in again: a signed-in
   * browser never keeps its previous session alongside the new one, and a planted cookie dies.
   */
  async endSessionToken(token: string | undefined): Promise<void> {
    if (token && token.length <= 200) await this.repo.deleteSession(sha256(token));
  }

  async logoutEverywhere(actor: Actor): Promise<number> {
    const n = await this.repo.deleteSessionsByUser(actor.id);
    await this.audit(actor, 'auth.logout_everywhere', 'user', actor.id, { sessions: n });
    return n;
  }

  // ---- API tokens --------------------------------------------------------------------------

  async createApiToken(
    actor: Actor,
    input: { userId: string; name: string; scopes: Scope[]; expiresInDays?: number | undefined },
  ) {
    requireRole(actor, 'admin');
    const user = await this.repo.findUserById(input.userId);
    if (!user) throw notFound('User');
    const scopes = [...new Set(input.scopes)];
    for (const s of scopes) if (!SCOPES.includes(s)) throw new AppError('invalid_scope', 400, `Unknown scope ${s}`);
    const token = `aula_${randomToken(32)}`;
    const t = Date.now();
    const id = newId(t);
    await this.repo.insertApiToken({
      id,
      user_id: user.id,
      name: input.name,
      token_hash: sha256(token),
      scopes: scopes.join(','),
      created_by: actor.via === 'system' ? null : actor.id,
      created_at: t,
      last_used_at: null,
      expires_at: input.expiresInDays ? t + input.expiresInDays * 86_400_000 : null,
      revoked_at: null,
    });
    await this.audit(actor, 'token.create', 'api_token', id, { userId: user.id, scopes });
    return { token, row: (await this.repo.findApiTokenById(id))! };
  }

  listApiTokens(actor: Actor) {
    requireRole(actor, 'admin');
    return this.repo.listApiTokens();
  }

  async revokeApiToken(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    const row = await this.repo.findApiTokenById(id);
    if (!row) throw notFound('Token');
    await this.repo.revokeApiToken(id, Date.now());
    this.tokenCache.clear();
    await this.audit(actor, 'token.revoke', 'api_token', id, {});
  }

  async resolveApiToken(token: string): Promise<Actor | null> {
    if (!token.startsWith('aula_') || token.length > 100) return null;
    const hash = sha256(token);
    const t = Date.now();
    const cached = this.tokenCache.get(hash);
    if (cached && cached.expiresAt > t) return cached.actor;
    const row = await this.repo.findApiTokenByHash(hash);
    if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at < t)) return null;
    const u = await this.repo.findUserById(row.user_id);
    if (!u || Number(u.disabled) === 1) return null;
    const actor = actorFromUser(u, 'token', {
      scopes: row.scopes.split(',').filter(Boolean) as Scope[],
      tokenId: row.id,
    });
    if (this.tokenCache.size > 10_000) this.tokenCache.clear();
    this.tokenCache.set(hash, { actor, expiresAt: t + TOKEN_CACHE_MS });
    await this.repo.touchApiToken(row.id, t);
    return actor;
  }

  // ---- profile photo -----------------------------------------------------------------------

  async setProfilePhoto(actor: Actor, userId: string, data: Buffer): Promise<UserRow> {
    if (actor.id !== userId && !isAdmin(actor)) throw forbidden();
    const u = await this.repo.findUserById(userId);
    if (!u) throw notFound('User');
    const { full, thumb } = await normalizeImage(data, this.config.imageMaxPixels, { full: 1024, thumb: 192 });
    const a = await this.blobs.put(full, { contentType: 'image/jpeg' });
    const b = await this.blobs.put(thumb, { contentType: 'image/jpeg' });
    try {
      await this.repo.updateUser(userId, {
        profile_blob_id: a.id,
        profile_thumb_blob_id: b.id,
        updated_at: Date.now(),
      });
    } catch (err) {
      await this.blobs.delete(a.id);
      await this.blobs.delete(b.id);
      throw err;
    }
    for (const old of [u.profile_blob_id, u.profile_thumb_blob_id]) if (old) await this.blobs.delete(old);
    return (await this.repo.findUserById(userId))!;
  }

  async profilePhotoBlob(actor: Actor, userId: string, size: 'full' | 'thumb'): Promise<string> {
    const u = await this.repo.findUserById(userId);
    if (!u) throw notFound('User');
    if (actor.id !== userId) await this.getUser(actor, userId);
    const id = size === 'thumb' ? u.profile_thumb_blob_id : u.profile_blob_id;
    if (!id) throw notFound('Photo');
    return id;
  }

  // ---- audit, settings ---------------------------------------------------------------------

  async audit(
    actor: Actor | null,
    action: string,
    targetType: string | null,
    targetId: string | null,
    details: Record<string, unknown>,
    ip: string | null = null,
  ): Promise<void> {
    await this.repo.insertAudit({
      id: newId(),
      actor_id: actor && actor.via !== 'system' ? actor.id : null,
      action,
      target_type: targetType,
      target_id: targetId,
      details: JSON.stringify(details),
      ip,
      created_at: Date.now(),
    });
  }

  /** Newest first; a bare limit and offset list everything. */
  listAudit(actor: Actor, filter: AuditFilter | number, offset = 0) {
    requireRole(actor, 'admin');
    return this.repo.listAudit(typeof filter === 'number' ? { limit: filter, offset } : filter);
  }

  /** Reads a setting, creating it once with `make()`; safe when several instances race. */
  async settingOrCreate(key: string, make: () => string): Promise<string> {
    const existing = await this.repo.findSetting(key);
    if (existing) return existing.value;
    try {
      await this.repo.insertSetting(key, make());
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    return (await this.repo.findSetting(key))!.value;
  }

  findUserByUsername(username: string) {
    return this.repo.findUserByUsername(username);
  }

  countUsers() {
    return this.repo.countUsers();
  }

  static unauthorized = unauthorized;
}
