import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import type { Executor } from '../../platform/db/database.ts';
import type {
  AlbumsTable,
  ImageFacesTable,
  ImageLabelsTable,
  ImagesTable,
  ImageTextsTable,
  TranslationsTable,
} from '../../platform/db/tables/media.ts';

export type AlbumRow = Selectable<AlbumsTable>;
export type ImageRow = Selectable<ImagesTable>;
export type LabelRow = Selectable<ImageLabelsTable>;
export type FaceRow = Selectable<ImageFacesTable>;
export type TextRow = Selectable<ImageTextsTable>;
export type TranslationRow = Selectable<TranslationsTable>;

export interface AlbumSummaryRow extends AlbumRow {
  image_count: number;
  cover_image_id: string | null;
}

export interface FaceViewRow extends FaceRow {
  username: string | null;
  full_name: string | null;
}

export interface ImageListFilter {
  ownerId?: string;
  /** Images shared by anyone other than this user. */
  sharedExcept?: string;
  albumId?: string;
  unfiled?: boolean;
  label?: string;
  q?: string;
  limit: number;
  offset: number;
}

/** A LIKE pattern matching `q` literally; '!' escapes, as backslashes mean different things per dialect. */
const like = (q: string) => `%${q.toLowerCase().replace(/[%_!]/g, (c) => `!${c}`)}%`;
const contains = (column: string, pattern: string) =>
  sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '!'`;

export class MediaRepository {
  constructor(private readonly db: Executor) {}

  withExecutor(db: Executor): MediaRepository {
    return new MediaRepository(db);
  }

  // ---- albums ------------------------------------------------------------------------------

  async insertAlbum(row: Insertable<AlbumsTable>): Promise<void> {
    await this.db.insertInto('albums').values(row).execute();
  }

  findAlbum(id: string): Promise<AlbumRow | undefined> {
    return this.db.selectFrom('albums').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listAlbums(ownerId: string): Promise<AlbumRow[]> {
    return this.db
      .selectFrom('albums')
      .selectAll()
      .where('owner_id', '=', ownerId)
      .orderBy('name')
      .orderBy('id')
      .execute();
  }

  /** Image counts and the newest image of each ordinary album of the owner. */
  async albumStats(ownerId: string): Promise<Map<string, { count: number; cover: string | null }>> {
    const rows = await this.db
      .selectFrom('images')
      .select((eb) => ['album_id', eb.fn.countAll<number>().as('n'), eb.fn.max('id').as('cover')])
      .where('owner_id', '=', ownerId)
      .where('album_id', 'is not', null)
      .groupBy('album_id')
      .execute();
    return new Map(rows.map((r) => [r.album_id!, { count: Number(r.n), cover: r.cover }]));
  }

  /** The same for smart albums: photos of the owner carrying the label. */
  async labelStats(ownerId: string, label: string): Promise<{ count: number; cover: string | null }> {
    const r = await this.db
      .selectFrom('image_labels')
      .select((eb) => [eb.fn.count<number>('image_id').distinct().as('n'), eb.fn.max('image_id').as('cover')])
      .where('owner_id', '=', ownerId)
      .where('label', '=', label)
      .executeTakeFirstOrThrow();
    return { count: Number(r.n), cover: r.cover };
  }

  async updateAlbum(id: string, patch: Updateable<AlbumsTable>): Promise<void> {
    await this.db.updateTable('albums').set(patch).where('id', '=', id).execute();
  }

  async deleteAlbum(id: string): Promise<void> {
    await this.db.deleteFrom('albums').where('id', '=', id).execute();
  }

  // ---- images ------------------------------------------------------------------------------

  async insertImage(row: Insertable<ImagesTable>): Promise<void> {
    await this.db.insertInto('images').values(row).execute();
  }

  findImage(id: string): Promise<ImageRow | undefined> {
    return this.db.selectFrom('images').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listImageIdsOfAlbum(albumId: string): Promise<ImageRow[]> {
    return this.db.selectFrom('images').selectAll().where('album_id', '=', albumId).execute();
  }

  async listImages(f: ImageListFilter): Promise<{ items: ImageRow[]; total: number }> {
    let q = this.db.selectFrom('images');
    if (f.ownerId) q = q.where('images.owner_id', '=', f.ownerId);
    if (f.sharedExcept) q = q.where('images.shared', '=', 1).where('images.owner_id', '<>', f.sharedExcept);
    if (f.albumId) q = q.where('images.album_id', '=', f.albumId);
    if (f.unfiled) q = q.where('images.album_id', 'is', null);
    if (f.label) {
      const label = f.label;
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('image_labels')
            .select('image_labels.id')
            .whereRef('image_labels.image_id', '=', 'images.id')
            .where('image_labels.label', '=', label),
        ),
      );
    }
    if (f.q) {
      const pattern = like(f.q);
      q = q.where((eb) => eb.or([contains('images.title', pattern), contains('images.description', pattern)]));
    }
    const [items, count] = await Promise.all([
      q
        .selectAll('images')
        .orderBy('images.created_at', 'desc')
        .orderBy('images.id', 'desc')
        .limit(f.limit)
        .offset(f.offset)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  async updateImage(id: string, patch: Updateable<ImagesTable>): Promise<void> {
    await this.db.updateTable('images').set(patch).where('id', '=', id).execute();
  }

  async deleteImage(id: string): Promise<void> {
    await this.db.deleteFrom('images').where('id', '=', id).execute();
  }

  listUnprocessedImages(): Promise<{ id: string; updated_at: number }[]> {
    return this.db
      .selectFrom('images')
      .select(['id', 'updated_at'])
      .where('status', 'in', ['pending', 'processing'])
      .orderBy('created_at')
      .execute();
  }

  // ---- labels ------------------------------------------------------------------------------

  async deleteLabels(imageId: string): Promise<void> {
    await this.db.deleteFrom('image_labels').where('image_id', '=', imageId).execute();
  }

  async insertLabels(rows: Insertable<ImageLabelsTable>[]): Promise<void> {
    if (rows.length) await this.db.insertInto('image_labels').values(rows).execute();
  }

  listLabelsOfImages(imageIds: string[]): Promise<LabelRow[]> {
    if (imageIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('image_labels')
      .selectAll()
      .where('image_id', 'in', imageIds)
      .orderBy('score', 'desc')
      .execute();
  }

  /** Each label of the owner's library with the number of photos carrying it. */
  async labelCounts(ownerId: string): Promise<{ label: string; count: number }[]> {
    const rows = await this.db
      .selectFrom('image_labels')
      .select((eb) => ['label', eb.fn.count<number>('image_id').distinct().as('n')])
      .where('owner_id', '=', ownerId)
      .groupBy('label')
      .orderBy('label')
      .execute();
    return rows.map((r) => ({ label: r.label, count: Number(r.n) }));
  }

  // ---- faces -------------------------------------------------------------------------------

  async deleteAutoFaces(imageId: string): Promise<void> {
    await this.db.deleteFrom('image_faces').where('image_id', '=', imageId).where('source', '=', 'auto').execute();
  }

  async insertFaces(rows: Insertable<ImageFacesTable>[]): Promise<void> {
    if (rows.length) await this.db.insertInto('image_faces').values(rows).execute();
  }

  listFaces(imageId: string): Promise<FaceViewRow[]> {
    return this.db
      .selectFrom('image_faces as f')
      .leftJoin('users as u', 'u.id', 'f.user_id')
      .selectAll('f')
      .select(['u.username', 'u.full_name'])
      .where('f.image_id', '=', imageId)
      .orderBy('f.created_at')
      .orderBy('f.id')
      .execute();
  }

  findFace(imageId: string, id: string): Promise<FaceRow | undefined> {
    return this.db
      .selectFrom('image_faces')
      .selectAll()
      .where('image_id', '=', imageId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async updateFace(id: string, patch: Updateable<ImageFacesTable>): Promise<void> {
    await this.db.updateTable('image_faces').set(patch).where('id', '=', id).execute();
  }

  async deleteFace(id: string): Promise<void> {
    await this.db.deleteFrom('image_faces').where('id', '=', id).execute();
  }

  /** People who allow face recognition, for naming a face by hand. */
  searchPeople(q: string | undefined, limit: number): Promise<{ id: string; username: string; full_name: string }[]> {
    let query = this.db
      .selectFrom('users')
      .select(['id', 'username', 'full_name'])
      .where('face_login_consent', '=', 1)
      .where('disabled', '=', 0);
    if (q) {
      const pattern = like(q);
      query = query.where((eb) => eb.or([contains('full_name', pattern), contains('username', pattern)]));
    }
    return query.orderBy('full_name').orderBy('id').limit(limit).execute();
  }

  findPerson(id: string): Promise<{ id: string } | undefined> {
    return this.db
      .selectFrom('users')
      .select('id')
      .where('id', '=', id)
      .where('face_login_consent', '=', 1)
      .where('disabled', '=', 0)
      .executeTakeFirst();
  }

  // ---- text --------------------------------------------------------------------------------

  findText(imageId: string): Promise<TextRow | undefined> {
    return this.db.selectFrom('image_texts').selectAll().where('image_id', '=', imageId).executeTakeFirst();
  }

  async deleteText(imageId: string): Promise<void> {
    await this.db.deleteFrom('image_texts').where('image_id', '=', imageId).execute();
  }

  async insertText(row: Insertable<ImageTextsTable>): Promise<void> {
    await this.db.insertInto('image_texts').values(row).execute();
  }

  // ---- translation cache -------------------------------------------------------------------

  findTranslation(key: {
    sourceSha256: string;
    from: string;
    to: string;
    provider: string;
  }): Promise<TranslationRow | undefined> {
    return this.db
      .selectFrom('translations')
      .selectAll()
      .where('source_sha256', '=', key.sourceSha256)
      .where('source_lang', '=', key.from)
      .where('target_lang', '=', key.to)
      .where('provider', '=', key.provider)
      .executeTakeFirst();
  }

  async insertTranslation(row: Insertable<TranslationsTable>): Promise<void> {
    await this.db.insertInto('translations').values(row).execute();
  }
}
