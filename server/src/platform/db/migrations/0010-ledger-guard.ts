import { type Kysely, MysqlAdapter, PostgresAdapter, sql } from 'kysely';

// The prediction ledger is append-only. The application has no path that changes or deletes a
// row; these triggers make the database refuse it too, whoever connects. Triggers are outside
// the schema builder, so this migration has one statement per dialect.

const MESSAGE = 'prediction ledger rows cannot be changed or deleted';

/** MySQL with binary logging refuses CREATE TRIGGER to users without SUPER unless the server trusts them. */
const NEEDS_SUPER = 1419;

export async function up(db: Kysely<any>): Promise<void> {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) {
    await sql
      .raw(
        `CREATE FUNCTION predictions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${MESSAGE}'; END $$`,
      )
      .execute(db);
    await sql
      .raw(
        'CREATE TRIGGER predictions_append_only BEFORE UPDATE OR DELETE ON predictions FOR EACH ROW EXECUTE PROCEDURE predictions_append_only()',
      )
      .execute(db);
    await sql
      .raw(
        'CREATE TRIGGER predictions_no_truncate BEFORE TRUNCATE ON predictions FOR EACH STATEMENT EXECUTE PROCEDURE predictions_append_only()',
      )
      .execute(db);
    return;
  }
  if (adapter instanceof MysqlAdapter) {
    try {
      for (const op of ['UPDATE', 'DELETE']) {
        await sql
          .raw(
            `CREATE TRIGGER predictions_no_${op.toLowerCase()} BEFORE ${op} ON predictions FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '${MESSAGE}'`,
          )
          .execute(db);
      }
    } catch (err) {
      // Without the privilege the ledger stays append-only through the application alone
      // (docs/albums-and-lab.md says how to grant it); an upgrade must not stop on this. The
      // first CREATE is the one that fails, so no trigger is left half made.
      if ((err as { errno?: number }).errno !== NEEDS_SUPER) throw err;
    }
    return;
  }
  for (const op of ['UPDATE', 'DELETE']) {
    await sql
      .raw(
        `CREATE TRIGGER predictions_no_${op.toLowerCase()} BEFORE ${op} ON predictions BEGIN SELECT RAISE(ABORT, '${MESSAGE}'); END`,
      )
      .execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) {
    await sql.raw('DROP TRIGGER IF EXISTS predictions_no_truncate ON predictions').execute(db);
    await sql.raw('DROP TRIGGER IF EXISTS predictions_append_only ON predictions').execute(db);
    await sql.raw('DROP FUNCTION IF EXISTS predictions_append_only()').execute(db);
    return;
  }
  let names = ['predictions_no_update', 'predictions_no_delete'];
  if (adapter instanceof MysqlAdapter) {
    // Where the triggers could not be made, even DROP TRIGGER IF EXISTS needs SUPER: drop only what exists.
    const existing = await sql<{ name: string }>`
      SELECT trigger_name AS name FROM information_schema.triggers
      WHERE trigger_schema = DATABASE() AND event_object_table = 'predictions'`.execute(db);
    names = names.filter((n) => existing.rows.some((r) => r.name === n));
  }
  for (const name of names) await sql.raw(`DROP TRIGGER IF EXISTS ${name}`).execute(db);
}
