import type { Kysely } from 'kysely';

/**
 * Face templates learn where they came from (an uploaded photo, the webcam, the profile photo,
 * a bulk import) and which face of the source image they describe.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('face_templates')
    .addColumn('source', 'varchar(16)', (c) => c.notNull().defaultTo('upload'))
    .execute();
  await db.schema.alterTable('face_templates').addColumn('box', 'varchar(100)').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('face_templates').dropColumn('box').execute();
  await db.schema.alterTable('face_templates').dropColumn('source').execute();
}
