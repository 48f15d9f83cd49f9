import type { Kysely } from 'kysely';

/**
 * Attendance from the classroom camera. A capture (a photo, a video, one webcam or IP-camera
 * frame) is analysed into frames; each face seen in a frame is an observation; the faces of one
 * person across consecutive frames share a track (within a video, or across the frames of one live
 * webcam stream). Attendance rows (one per session and student)
 * are derived from the observations and from the teacher's edits. Raw captures and their frames
 * expire (retention); attendance rows, evidence crops and unknown-face crops stay.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('captures')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('session_id', 'varchar(26)', (c) => c.notNull().references('class_sessions.id').onDelete('cascade'))
    .addColumn('offering_id', 'varchar(26)', (c) => c.notNull().references('offerings.id').onDelete('cascade'))
    .addColumn('kind', 'varchar(8)', (c) => c.notNull())
    .addColumn('source', 'varchar(16)', (c) => c.notNull())
    .addColumn('blob_id', 'varchar(26)')
    .addColumn('content_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('filename', 'varchar(255)')
    .addColumn('captured_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error_code', 'varchar(64)')
    .addColumn('error', 'varchar(1000)')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('duration_ms', 'bigint')
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('frames_done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('faces_seen', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'varchar(26)', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('purged_at', 'bigint')
    .execute();
  await db.schema.createIndex('captures_session_idx').on('captures').columns(['session_id', 'created_at']).execute();
  await db.schema.createIndex('captures_status_idx').on('captures').columns(['status', 'created_at']).execute();
  await db.schema.createIndex('captures_created_idx').on('captures').column('created_at').execute();

  await db.schema
    .createTable('capture_frames')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('capture_id', 'varchar(26)', (c) => c.notNull().references('captures.id').onDelete('cascade'))
    .addColumn('frame_index', 'integer', (c) => c.notNull())
    .addColumn('offset_ms', 'bigint', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('blob_id', 'varchar(26)')
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('faces', 'integer', (c) => c.notNull())
    .addColumn('people', 'integer', (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint('capture_frames_capture_index_uq', ['capture_id', 'frame_index'])
    .execute();

  await db.schema
    .createTable('observations')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('capture_id', 'varchar(26)', (c) => c.notNull().references('captures.id').onDelete('cascade'))
    .addColumn('session_id', 'varchar(26)', (c) => c.notNull())
    .addColumn('frame_index', 'integer', (c) => c.notNull())
    .addColumn('face_index', 'integer', (c) => c.notNull())
    .addColumn('track_id', 'varchar(26)', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('box', 'varchar(100)', (c) => c.notNull())
    .addColumn('student_id', 'varchar(26)', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('distance', 'double precision')
    .addColumn('confidence', 'double precision', (c) => c.notNull())
    .addColumn('quality', 'double precision', (c) => c.notNull())
    .addColumn('identified', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('review', 'varchar(16)', (c) => c.notNull().defaultTo('auto'))
    .addColumn('hand_raised', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('facing', 'varchar(16)')
    .addColumn('crop_blob_id', 'varchar(26)')
    .addUniqueConstraint('observations_capture_frame_face_uq', ['capture_id', 'frame_index', 'face_index'])
    .execute();
  await db.schema
    .createIndex('observations_session_student_idx')
    .on('observations')
    .columns(['session_id', 'student_id', 'at'])
    .execute();
  await db.schema.createIndex('observations_track_idx').on('observations').column('track_id').execute();

  await db.schema
    .createTable('unknown_faces')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('session_id', 'varchar(26)', (c) => c.notNull().references('class_sessions.id').onDelete('cascade'))
    .addColumn('capture_id', 'varchar(26)', (c) => c.notNull())
    .addColumn('track_id', 'varchar(26)', (c) => c.notNull().unique())
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('observations', 'integer', (c) => c.notNull())
    .addColumn('box', 'varchar(100)', (c) => c.notNull())
    .addColumn('quality', 'double precision', (c) => c.notNull())
    .addColumn('crop_blob_id', 'varchar(26)')
    .addColumn('nearest_student_id', 'varchar(26)')
    .addColumn('nearest_distance', 'double precision')
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('open'))
    .addColumn('student_id', 'varchar(26)', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('template_id', 'varchar(26)')
    .addColumn('resolved_by', 'varchar(26)', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('resolved_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('unknown_faces_session_idx')
    .on('unknown_faces')
    .columns(['session_id', 'status'])
    .execute();

  await db.schema
    .createTable('attendance')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('session_id', 'varchar(26)', (c) => c.notNull().references('class_sessions.id').onDelete('cascade'))
    .addColumn('offering_id', 'varchar(26)', (c) => c.notNull())
    .addColumn('student_id', 'varchar(26)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('first_seen_at', 'bigint')
    .addColumn('last_seen_at', 'bigint')
    .addColumn('confidence', 'double precision')
    .addColumn('evidence_blob_id', 'varchar(26)')
    .addColumn('source', 'varchar(16)', (c) => c.notNull())
    .addColumn('confirmed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('note', 'varchar(500)')
    .addColumn('changed_by', 'varchar(26)', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('changed_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('attendance_session_student_uq', ['session_id', 'student_id'])
    .execute();
  await db.schema
    .createIndex('attendance_offering_idx')
    .on('attendance')
    .columns(['offering_id', 'student_id'])
    .execute();
  await db.schema.createIndex('attendance_student_idx').on('attendance').column('student_id').execute();

  await db.schema
    .createTable('action_events')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('session_id', 'varchar(26)', (c) => c.notNull().references('class_sessions.id').onDelete('cascade'))
    .addColumn('student_id', 'varchar(26)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('capture_id', 'varchar(26)')
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint')
    .addColumn('details', 'varchar(1000)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('action_events_session_idx')
    .on('action_events')
    .columns(['session_id', 'student_id', 'at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('action_events').execute();
  await db.schema.dropTable('attendance').execute();
  await db.schema.dropTable('unknown_faces').execute();
  await db.schema.dropTable('observations').execute();
  await db.schema.dropTable('capture_frames').execute();
  await db.schema.dropTable('captures').execute();
}
