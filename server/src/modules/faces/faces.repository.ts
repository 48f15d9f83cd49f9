import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../../platform/db/database.ts';
import type { FaceTemplatesTable } from '../../platform/db/tables/identity.ts';

export type FaceTemplateRow = Selectable<FaceTemplatesTable>;

/** A template with what face sign-in needs to know about its owner. */
export interface LoginTemplateRow {
  id: string;
  user_id: string;
  embedding: string;
  model: string;
}

export interface ConsentingUserRow {
  id: string;
  profile_blob_id: string | null;
}

export class FacesRepository {
  constructor(private readonly db: Executor) {}

  async insertTemplate(row: Insertable<FaceTemplatesTable>): Promise<void> {
    await this.db.insertInto('face_templates').values(row).execute();
  }

  findTemplate(id: string): Promise<FaceTemplateRow | undefined> {
    return this.db.selectFrom('face_templates').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listByUser(userId: string): Promise<FaceTemplateRow[]> {
    return this.db
      .selectFrom('face_templates')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  listByUsers(userIds: readonly string[]): Promise<LoginTemplateRow[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('face_templates')
      .select(['id', 'user_id', 'embedding', 'model'])
      .where('user_id', 'in', userIds)
      .execute();
  }

  /** Templates of every active user who agreed to face sign-in. */
  listLoginTemplates(): Promise<LoginTemplateRow[]> {
    return this.db
      .selectFrom('face_templates as t')
      .innerJoin('users as u', 'u.id', 't.user_id')
      .select(['t.id', 't.user_id', 't.embedding', 't.model'])
      .where('u.face_login_consent', '=', 1)
      .where('u.disabled', '=', 0)
      .execute();
  }

  /**
   * Changes to consent, accounts or templates all move one of these numbers, so the login
   * gallery can tell cheaply whether it is stale even when a change came without an event.
   */
  async loginFingerprint(): Promise<string> {
    const [users, templates] = await Promise.all([
      this.db
        .selectFrom('users')
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('updated_at').as('t')])
        .where('face_login_consent', '=', 1)
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('face_templates')
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('created_at').as('t')])
        .executeTakeFirstOrThrow(),
    ]);
    return `${Number(users.n)}:${Number(users.t ?? 0)}:${Number(templates.n)}:${Number(templates.t ?? 0)}`;
  }

  listConsentingUsers(): Promise<ConsentingUserRow[]> {
    return this.db
      .selectFrom('users')
      .select(['id', 'profile_blob_id'])
      .where('face_login_consent', '=', 1)
      .where('disabled', '=', 0)
      .execute();
  }

  listProfileTemplates(): Promise<Pick<FaceTemplateRow, 'id' | 'user_id' | 'source_blob_id'>[]> {
    return this.db
      .selectFrom('face_templates')
      .select(['id', 'user_id', 'source_blob_id'])
      .where('source', '=', 'profile')
      .execute();
  }

  async deleteTemplate(id: string): Promise<void> {
    await this.db.deleteFrom('face_templates').where('id', '=', id).execute();
  }

  async deleteByUser(userId: string): Promise<number> {
    const r = await this.db.deleteFrom('face_templates').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** An account by student code or, failing that, by username (bulk enrollment folders). */
  async findUserIdByCodeOrUsername(name: string): Promise<{ id: string; username: string } | undefined> {
    const byCode = await this.db
      .selectFrom('users')
      .select(['id', 'username'])
      .where('student_code', '=', name)
      .executeTakeFirst();
    return (
      byCode ??
      this.db
        .selectFrom('users')
        .select(['id', 'username'])
        .where('username', '=', name.toLowerCase())
        .executeTakeFirst()
    );
  }
}
