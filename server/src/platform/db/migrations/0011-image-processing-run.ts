import type { Kysely } from 'kysely';

// Which analysis of a photo is under way: set when the photo is uploaded or the owner asks for it
// to be analysed again, and left alone by a retried or resumed job. Its predictions take their
// ledger ids from it, so the same run is recorded once however often it is retried.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('images').addColumn('processing_run', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('images').dropColumn('processing_run').execute();
}
