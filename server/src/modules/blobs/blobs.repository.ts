import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';

/** Every SQL column that holds a blob id. A new blob column must be added here, or the sweeper would call its blobs orphans. */
export const BLOB_COLUMNS = [
  ['users', 'profile_blob_id'],
  ['users', 'profile_thumb_blob_id'],
  ['face_templates', 'source_blob_id'],
  ['captures', 'blob_id'],
  ['capture_frames', 'blob_id'],
  ['observations', 'crop_blob_id'],
  ['unknown_faces', 'crop_blob_id'],
  ['attendance', 'evidence_blob_id'],
  ['images', 'blob_id'],
  ['images', 'thumb_blob_id'],
  ['analysis_inputs', 'blob_id'],
  ['predictions', 'input_blob_id'],
] as const;

/**
 * Columns that remember which blob a row was made from, and outlive it: the prediction ledger is
 * never changed, while its inputs are deleted on purpose (raw captures after their retention
 * period, a photo its owner deleted). While the blob exists they keep it from being an orphan;
 * once it is gone they are history, not a broken reference.
 */
export const HISTORICAL_BLOB_COLUMNS: ReadonlySet<string> = new Set(['predictions.input_blob_id']);

export interface BlobReference {
  table: string;
  column: string;
  blobId: string;
}

export const isHistorical = (r: BlobReference): boolean => HISTORICAL_BLOB_COLUMNS.has(`${r.table}.${r.column}`);

export class BlobsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Every blob id SQL refers to, with where it is referred from. */
  async *references(): AsyncIterable<BlobReference> {
    for (const [table, column] of BLOB_COLUMNS) {
      // The table and column names are the constants above, never input.
      const rows = (await this.db
        .selectFrom(table)
        .select(`${column} as id` as never)
        .where(column as never, 'is not', null)
        .distinct()
        .execute()) as unknown as { id: string }[];
      for (const r of rows) yield { table, column, blobId: r.id };
    }
  }
}
