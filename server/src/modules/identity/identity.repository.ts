import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Executor } from '../../platform/db/database.ts';
import type {
  ApiTokensTable,
  AuditLogTable,
  Role,
  SessionsTable,
  UsersTable,
} from '../../platform/db/tables/identity.ts';

export type UserRow = Selectable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type AuditRow = Selectable<AuditLogTable>;

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
      const like = `%${f.q.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) =>
        eb.or([
          eb(eb.fn('lower', ['full_name']), 'like', like),
          eb('username', 'like', like),
          eb('email', 'like', like),
          eb('student_code', 'like', like),
        ]),
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

  async listAudit(limit: number, offset: number): Promise<{ items: AuditRow[]; total: number }> {
    const [items, count] = await Promise.all([
      this.db
        .selectFrom('audit_log')
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute(),
      this.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  findSetting(key: string): Promise<{ value: string } | undefined> {
    return this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  }

  async insertSetting(key: string, value: string): Promise<void> {
    await this.db.insertInto('settings').values({ key, value }).execute();
  }
}
