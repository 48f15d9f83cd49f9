import { MysqlAdapter, sql, type Kysely } from 'kysely';

// Albums and images, with what the models found in each image (labels, faces, text) and a cache
// of translations. Image bytes live in the blob store; rows hold blob ids only.

export async function up(db: Kysely<any>): Promise<void> {
  // MySQL's TEXT stops at 64 KB; the text and regions of a dense page can exceed it.
  const long = db.getExecutor().adapter instanceof MysqlAdapter ? sql`longtext` : sql`text`;

  await db.schema
    .createTable('albums')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(26)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('smart_label', 'varchar(64)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('albums_owner_idx').on('albums').columns(['owner_id', 'name']).execute();

  await db.schema
    .createTable('images')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(26)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('album_id', 'varchar(26)', (c) => c.references('albums.id').onDelete('set null'))
    .addColumn('blob_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('thumb_blob_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('original_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('original_name', 'varchar(255)')
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('shared', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('status_error', 'varchar(500)')
    .addColumn('looks_like_document', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('images_owner_idx').on('images').columns(['owner_id', 'created_at']).execute();
  await db.schema.createIndex('images_album_idx').on('images').columns(['album_id', 'created_at']).execute();
  await db.schema.createIndex('images_status_idx').on('images').column('status').execute();

  await db.schema
    .createTable('image_labels')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('image_id', 'varchar(26)', (c) => c.notNull().references('images.id').onDelete('cascade'))
    .addColumn('owner_id', 'varchar(26)', (c) => c.notNull())
    .addColumn('label', 'varchar(64)', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('box', 'varchar(100)')
    .addColumn('model', 'varchar(100)', (c) => c.notNull())
    .addColumn('prediction_id', 'varchar(26)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('image_labels_owner_label_idx')
    .on('image_labels')
    .columns(['owner_id', 'label'])
    .execute();
  await db.schema.createIndex('image_labels_image_idx').on('image_labels').column('image_id').execute();

  await db.schema
    .createTable('image_faces')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('image_id', 'varchar(26)', (c) => c.notNull().references('images.id').onDelete('cascade'))
    .addColumn('owner_id', 'varchar(26)', (c) => c.notNull())
    .addColumn('box', 'varchar(100)', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('user_id', 'varchar(26)', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('distance', 'double precision')
    .addColumn('source', 'varchar(16)', (c) => c.notNull())
    .addColumn('model', 'varchar(100)', (c) => c.notNull())
    .addColumn('prediction_id', 'varchar(26)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('image_faces_image_idx').on('image_faces').column('image_id').execute();
  await db.schema
    .createIndex('image_faces_owner_user_idx')
    .on('image_faces')
    .columns(['owner_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('image_texts')
    .addColumn('image_id', 'varchar(26)', (c) => c.primaryKey().references('images.id').onDelete('cascade'))
    .addColumn('lang', 'varchar(32)', (c) => c.notNull())
    .addColumn('text', long, (c) => c.notNull())
    .addColumn('regions', long, (c) => c.notNull())
    .addColumn('confidence', 'double precision', (c) => c.notNull())
    .addColumn('model', 'varchar(100)', (c) => c.notNull())
    .addColumn('origin', 'varchar(16)', (c) => c.notNull())
    .addColumn('prediction_id', 'varchar(26)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('translations')
    .addColumn('id', 'varchar(26)', (c) => c.primaryKey())
    .addColumn('source_sha256', 'varchar(64)', (c) => c.notNull())
    .addColumn('source_lang', 'varchar(16)', (c) => c.notNull())
    .addColumn('target_lang', 'varchar(16)', (c) => c.notNull())
    .addColumn('provider', 'varchar(32)', (c) => c.notNull())
    .addColumn('text', long, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('translations_key_uq', ['source_sha256', 'source_lang', 'target_lang', 'provider'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('translations').execute();
  await db.schema.dropTable('image_texts').execute();
  await db.schema.dropTable('image_faces').execute();
  await db.schema.dropTable('image_labels').execute();
  await db.schema.dropTable('images').execute();
  await db.schema.dropTable('albums').execute();
}
