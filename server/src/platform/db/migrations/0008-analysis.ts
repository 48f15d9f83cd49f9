import { MysqlAdapter, sql, type Kysely } from 'kysely';

// The image-analysis lab and the prediction ledger. A job runs one model with one set of
// parameters over its inputs; every prediction (from the lab, the API, the CLI, album processing
// or attendance) is one row of `predictions`, written once and never changed. Users are not
// foreign keys here: the ledger outlives the accounts it mentions.

export async function up(db: Kysely<any>): Promise<void> {
  // MySQL's TEXT stops at 64 KB; the output of a model on a crowded photo can exceed it.
  const long = db.getExecutor().adapter instanceof MysqlAdapter ? sql`longtext` : sql`text`;

  await db.schema
    .createTable('analysis_jobs')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('user_id', 'varchar(26)', (c) => c.notNull())
    .addColumn('source', 'varchar(16)', (c) => c.notNull())
    .addColumn('model', 'varchar(100)', (c) => c.notNull())
    .addColumn('model_version', 'varchar(64)', (c) => c.notNull())
    .addColumn('weights_sha256', 'varchar(64)')
    .addColumn('parameters', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('processed', 'integer', (c) => c.notNull())
    .addColumn('failed', 'integer', (c) => c.notNull())
    .addColumn('error', 'varchar(1000)')
    .addColumn('rerun_of', 'varchar(26)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('analysis_jobs_user_idx')
    .on('analysis_jobs')
    .columns(['user_id', 'created_at'])
    .execute();
  await db.schema.createIndex('analysis_jobs_status_idx').on('analysis_jobs').column('status').execute();

  await db.schema
    .createTable('analysis_inputs')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('job_id', 'varchar(26)', (c) => c.notNull().references('analysis_jobs.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('filename', 'varchar(255)', (c) => c.notNull())
    .addColumn('blob_id', 'varchar(64)')
    .addColumn('sha256', 'varchar(64)')
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('error_code', 'varchar(64)')
    .addColumn('error', 'varchar(1000)')
    .addColumn('prediction_id', 'varchar(26)')
    .execute();
  await db.schema
    .createIndex('analysis_inputs_job_idx')
    .on('analysis_inputs')
    .columns(['job_id', 'position'])
    .execute();

  await db.schema
    .createTable('predictions')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('job_id', 'varchar(26)', (c) => c.references('analysis_jobs.id'))
    .addColumn('user_id', 'varchar(26)', (c) => c.notNull())
    .addColumn('source', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('model', 'varchar(100)', (c) => c.notNull())
    .addColumn('model_version', 'varchar(64)', (c) => c.notNull())
    .addColumn('weights_sha256', 'varchar(64)')
    .addColumn('parameters', 'text', (c) => c.notNull())
    .addColumn('input_blob_id', 'varchar(64)')
    .addColumn('input_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('output', long, (c) => c.notNull())
    .addColumn('duration_ms', 'double precision', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('predictions_created_idx').on('predictions').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('predictions_user_idx').on('predictions').columns(['user_id', 'created_at']).execute();
  await db.schema.createIndex('predictions_model_idx').on('predictions').columns(['model', 'created_at']).execute();
  await db.schema.createIndex('predictions_input_idx').on('predictions').column('input_sha256').execute();
  await db.schema.createIndex('predictions_job_idx').on('predictions').column('job_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('predictions').execute();
  await db.schema.dropTable('analysis_inputs').execute();
  await db.schema.dropTable('analysis_jobs').execute();
}
