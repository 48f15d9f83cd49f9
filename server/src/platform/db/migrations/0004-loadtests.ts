import type { Kysely } from 'kysely';

// Load-test runs published by `aula load --publish`. A run gathers any number of generator
// processes (workers) sharing one run id; each posts one sample per second and a summary at the
// end, with its latency histogram as bins so the run's percentiles can be merged exactly.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('loadtest_runs')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('run_id', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('mode', 'varchar(16)', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('last_sample_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .addColumn('summary', 'text')
    .addColumn('created_by', 'varchar(26)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('loadtest_runs_started_idx').on('loadtest_runs').column('started_at').execute();

  await db.schema
    .createTable('loadtest_workers')
    .addColumn('run_id', 'varchar(26)', (c) => c.notNull().references('loadtest_runs.id').onDelete('cascade'))
    .addColumn('worker_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .addColumn('summary', 'text')
    .addPrimaryKeyConstraint('loadtest_workers_pk', ['run_id', 'worker_id'])
    .execute();

  await db.schema
    .createTable('loadtest_samples')
    .addColumn('run_id', 'varchar(26)', (c) => c.notNull().references('loadtest_runs.id').onDelete('cascade'))
    .addColumn('worker_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('at_second', 'bigint', (c) => c.notNull())
    .addColumn('requests', 'integer', (c) => c.notNull())
    .addColumn('ok', 'integer', (c) => c.notNull())
    .addColumn('errors', 'integer', (c) => c.notNull())
    .addColumn('grades', 'integer', (c) => c.notNull())
    .addColumn('p50_ms', 'double precision')
    .addColumn('p95_ms', 'double precision')
    .addColumn('p99_ms', 'double precision')
    .addPrimaryKeyConstraint('loadtest_samples_pk', ['run_id', 'worker_id', 'at_second'])
    .execute();

  await db.schema
    .createTable('loadtest_latency_bins')
    .addColumn('run_id', 'varchar(26)', (c) => c.notNull().references('loadtest_runs.id').onDelete('cascade'))
    .addColumn('worker_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('value_us', 'bigint', (c) => c.notNull())
    .addColumn('hits', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('loadtest_latency_bins_pk', ['run_id', 'worker_id', 'value_us'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('loadtest_latency_bins').execute();
  await db.schema.dropTable('loadtest_samples').execute();
  await db.schema.dropTable('loadtest_workers').execute();
  await db.schema.dropTable('loadtest_runs').execute();
}
