import { sql, SqliteAdapter, type CreateTableBuilder, type Kysely } from 'kysely';

// Grades at volume. `grade_records` is append-only; `grade_effective`, `grade_groups` and
// `grade_buckets` are summaries written in the same transaction as each insert, so analytics read
// a few hundred rows instead of scanning millions. Scores are integer hundredths (exact).

export async function up(db: Kysely<any>): Promise<void> {
  // On SQLite a table keyed by a text primary key otherwise keeps a hidden rowid b-tree beside
  // the key's index; WITHOUT ROWID stores rows in the key's b-tree, one insert instead of two.
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  const clustered = <T extends CreateTableBuilder<any, any>>(b: T): T =>
    sqlite ? (b.modifyEnd(sql`without rowid`) as T) : b;

  await db.schema
    .createTable('grade_records')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('student_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('student_name', 'varchar(200)', (c) => c.notNull())
    .addColumn('course_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('semester', 'integer', (c) => c.notNull())
    .addColumn('score_x100', 'integer', (c) => c.notNull())
    .addColumn('source', 'varchar(8)', (c) => c.notNull())
    .addColumn('idempotency_key', 'varchar(128)', (c) => c.unique())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'varchar(26)')
    .addColumn('student_id', 'varchar(26)')
    .addColumn('course_id', 'varchar(26)')
    .$call(clustered)
    .execute();

  await db.schema
    .createTable('grade_effective')
    .addColumn('course_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('semester', 'integer', (c) => c.notNull())
    .addColumn('student_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('student_name', 'varchar(200)', (c) => c.notNull())
    .addColumn('score_x100', 'integer', (c) => c.notNull())
    .addColumn('record_id', 'varchar(26)', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('student_id', 'varchar(26)')
    .addColumn('course_id', 'varchar(26)')
    // Student first: a student's grades (and the locks a commit takes on them) are one key range,
    // and no second index on student is needed. Per-group figures come from grade_groups.
    .addPrimaryKeyConstraint('grade_effective_pk', ['student_code', 'year', 'semester', 'course_code'])
    .$call(clustered)
    .execute();
  // Top students are found by walking effective scores from the highest down (see the repository).
  await db.schema
    .createIndex('grade_effective_rank_idx')
    .on('grade_effective')
    .columns(['score_x100 desc', 'student_code', 'year', 'semester'])
    .execute();

  await db.schema
    .createTable('grade_groups')
    .addColumn('course_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('semester', 'integer', (c) => c.notNull())
    .addColumn('records', 'bigint', (c) => c.notNull())
    .addColumn('students', 'integer', (c) => c.notNull())
    .addColumn('sum_x100', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('grade_groups_pk', ['course_code', 'year', 'semester'])
    .execute();

  await db.schema
    .createTable('grade_buckets')
    .addColumn('course_code', 'varchar(32)', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('semester', 'integer', (c) => c.notNull())
    .addColumn('bucket', 'integer', (c) => c.notNull())
    .addColumn('students', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('grade_buckets_pk', ['course_code', 'year', 'semester', 'bucket'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('grade_buckets').execute();
  await db.schema.dropTable('grade_groups').execute();
  await db.schema.dropTable('grade_effective').execute();
  await db.schema.dropTable('grade_records').execute();
}
