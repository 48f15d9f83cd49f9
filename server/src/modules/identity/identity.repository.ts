import type { Insertable, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import type { Executor } from '../../platform/db/database.ts';
import type {
  ApiTokensTable,
  AuditLogTable,
  PasswordResetsTable,
  Role,
  SessionsTable,
  UsersTable,
} from '../../platform/db/tables/identity.ts';

export type UserRow = Selectable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type AuditRow = Selectable<AuditLogTable>;

export interface AuditFilter {
  action?: string | undefined;
  actorId?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  limit: number;
  offset: number;
}

export interface UserListFilter {
  role?: Role;
  q?: string;
  sort: 'username' | 'full_name' | 'email' | 'role' | 'created_at' | 'student_code';
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export class IdentityRepository {
  constructor(private readonly db: Executor) {}

  withExecutor(db: Executor): IdentityRepository {
    return new IdentityRepository(db);
  }

  findUserById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findUserByLogin(login: string): Promise<UserRow | undefined> {
    const l = login.toLowerCase();
    return this.db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb.or([eb('username', '=', l), eb('email', '=', l)]))
      .executeTakeFirst();
  }

  findUserByUsername(username: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('username', '=', username.toLowerCase()).executeTakeFirst();
  }

  findUserByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
  }

  findUserByStudentCode(code: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('student_code', '=', code).executeTakeFirst();
  }

  listUsersByStudentCodes(codes: string[]): Promise<UserRow[]> {
    if (codes.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('users').selectAll().where('student_code', 'in', codes).execute();
  }

  async listUsers(f: UserListFilter): Promise<{ items: UserRow[]; total: number }> {
    let q = this.db.selectFrom('users');
    if (f.role) q = q.where('role', '=', f.role);
    if (f.q) {
      // An explicit ESCAPE: SQLite has no default escape character; MySQL and PostgreSQL default to a backslash.
      const like = `%${f.q.toLowerCase().replace(/[%_!]/g, (c) => `!${c}`)}%`;
      const matches = (column: string) => sql<boolean>`${sql.ref(column)} like ${like} escape '!'`;
      q = q.where(
        () =>
          sql<boolean>`(${sql`lower(full_name) like ${like} escape '!'`} or ${matches('username')} or ${matches('email')} or ${matches('student_code')})`,
      );
    }
    const [items, count] = await Promise.all([
      q.selectAll().orderBy(f.sort, f.order).orderBy('id').limit(f.limit).offset(f.offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  countUsers(): Promise<number> {
    return this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  }

  /** Whether the student is enrolled in an offering the teacher teaches. */
  async teaches(teacherId: string, studentId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('enrollments')
      .innerJoin('offerings', 'offerings.id', 'enrollments.offering_id')
      .select('enrollments.id')
      .where('offerings.teacher_id', '=', teacherId)
      .where('enrollments.student_id', '=', studentId)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  async insertUser(row: Insertable<UsersTable>): Promise<void> {
    await this.db.insertInto('users').values(row).execute();
  }

  /** Many users in few statements (roster imports, demo data). */
  async insertUsers(rows: readonly Insertable<UsersTable>[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 200) {
      const part = rows.slice(i, i + 200);
      await this.db.insertInto('users').values(part).execute();
    }
  }

  async updateUser(id: string, patch: Updateable<UsersTable>): Promise<void> {
    await this.db.updateTable('users').set(patch).where('id', '=', id).execute();
  }

  async deleteUser(id: string): Promise<void> {
    await this.db.deleteFrom('users').where('id', '=', id).execute();
  }

  async insertSession(row: Insertable<SessionsTable>): Promise<void> {
    await this.db.insertInto('sessions').values(row).execute();
  }

  findSessionById(id: string): Promise<SessionRow | undefined> {
    return this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async touchSession(id: string, lastSeenAt: number, expiresAt: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ last_seen_at: lastSeenAt, expires_at: expiresAt })
      .where('id', '=', id)
      .execute();
  }

  async deleteSession(id: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id', '=', id).execute();
  }

  async deleteSessionsByUser(userId: string): Promise<number> {
    const r = await this.db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteExpiredSessions(now: number): Promise<void> {
    await this.db.deleteFrom('sessions').where('expires_at', '<', now).execute();
  }

  async insertApiToken(row: Insertable<ApiTokensTable>): Promise<void> {
    await this.db.insertInto('api_tokens').values(row).execute();
  }

  findApiTokenByHash(hash: string): Promise<ApiTokenRow | undefined> {
    return this.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }

  findApiTokenById(id: string): Promise<ApiTokenRow | undefined> {
    return this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listApiTokens(): Promise<ApiTokenRow[]> {
    return this.db.selectFrom('api_tokens').selectAll().orderBy('created_at', 'desc').execute();
  }

  async revokeApiToken(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).execute();
  }

  async touchApiToken(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  async insertAudit(row: Insertable<AuditLogTable>): Promise<void> {
    await this.db.insertInto('audit_log').values(row).execute();
  }

  async listAudit(f: AuditFilter): Promise<{ items: AuditRow[]; total: number }> {
    let q = this.db.selectFrom('audit_log');
    // Actions are dotted names; a filter "face" matches the whole family (face.enroll, …). A range
    // instead of LIKE: the same on every dialect, whatever characters the filter holds.
    if (f.action) {
      const family = f.action.replace(/\.$/, '');
      q = q.where((eb) =>
        eb.or([eb('action', '=', family), eb.and([eb('action', '>=', `${family}.`), eb('action', '<', `${family}/`)])]),
      );
    }
    if (f.actorId) q = q.where('actor_id', '=', f.actorId);
    if (f.targetType) q = q.where('target_type', '=', f.targetType);
    if (f.targetId) q = q.where('target_id', '=', f.targetId);
    if (f.from !== undefined) q = q.where('created_at', '>=', f.from);
    if (f.to !== undefined) q = q.where('created_at', '<', f.to);
    const [items, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  // ---- password resets -----------------------------------------------------------------------

  async insertPasswordReset(row: Insertable<PasswordResetsTable>): Promise<void> {
    await this.db.insertInto('password_resets').values(row).execute();
  }

  /**
   * Spends a reset token: true only for the one caller that marks an unexpired, unused row, so
   * two requests racing with the same link cannot both succeed.
   */
  async consumePasswordReset(id: string, now: number): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('password_resets')
      .select(['user_id'])
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (!row) return undefined;
    const r = await this.db
      .updateTable('password_resets')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1 ? row.user_id : undefined;
  }

  /** Other outstanding links of the user stop working once the password changed. */
  async spendPasswordResetsOfUser(userId: string, now: number): Promise<void> {
    await this.db
      .updateTable('password_resets')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .execute();
  }

  async deleteExpiredPasswordResets(now: number): Promise<void> {
    await this.db.deleteFrom('password_resets').where('expires_at', '<', now).execute();
  }

  findSetting(key: string): Promise<{ value: string } | undefined> {
    return this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  }

  async insertSetting(key: string, value: string): Promise<void> {
    await this.db.insertInto('settings').values({ key, value }).execute();
  }
}
