import type { Kysely } from 'kysely';

// Calendar dates (semester bounds) are stored as 'YYYY-MM-DD' strings: they are days, not
// instants, and must not shift with the server's time zone. Meeting times are epoch ms.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('semesters')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('code', 'varchar(16)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('term', 'integer', (c) => c.notNull())
    .addColumn('starts_on', 'varchar(10)', (c) => c.notNull())
    .addColumn('ends_on', 'varchar(10)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('courses')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('code', 'varchar(16)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('description', 'varchar(2000)')
    .addColumn('passing_grade', 'integer', (c) => c.notNull().defaultTo(61))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('offerings')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('course_id', 'varchar(26)', (c) => c.notNull().references('courses.id').onDelete('cascade'))
    .addColumn('semester_id', 'varchar(26)', (c) => c.notNull().references('semesters.id').onDelete('cascade'))
    .addColumn('section', 'varchar(8)', (c) => c.notNull().defaultTo('A'))
    .addColumn('teacher_id', 'varchar(26)', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('room', 'varchar(64)')
    .addColumn('schedule', 'varchar(2000)', (c) => c.notNull().defaultTo('[]'))
    .addColumn('late_after_minutes', 'integer', (c) => c.notNull().defaultTo(10))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('offerings_course_semester_section_uq', ['course_id', 'semester_id', 'section'])
    .execute();
  await db.schema.createIndex('offerings_teacher_idx').on('offerings').column('teacher_id').execute();
  await db.schema.createIndex('offerings_semester_idx').on('offerings').column('semester_id').execute();

  await db.schema
    .createTable('enrollments')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('offering_id', 'varchar(26)', (c) => c.notNull().references('offerings.id').onDelete('cascade'))
    .addColumn('student_id', 'varchar(26)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('enrollments_offering_student_uq', ['offering_id', 'student_id'])
    .execute();
  await db.schema.createIndex('enrollments_student_idx').on('enrollments').column('student_id').execute();

  await db.schema
    .createTable('class_sessions')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('offering_id', 'varchar(26)', (c) => c.notNull().references('offerings.id').onDelete('cascade'))
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('late_after_minutes', 'integer', (c) => c.notNull().defaultTo(10))
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('scheduled'))
    .addColumn('opened_at', 'bigint')
    .addColumn('closed_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('class_sessions_offering_start_uq', ['offering_id', 'starts_at'])
    .execute();
  await db.schema.createIndex('class_sessions_starts_idx').on('class_sessions').column('starts_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('class_sessions').execute();
  await db.schema.dropTable('enrollments').execute();
  await db.schema.dropTable('offerings').execute();
  await db.schema.dropTable('courses').execute();
  await db.schema.dropTable('semesters').execute();
}
