import type { Generated } from 'kysely';

export type ImageStatus = 'pending' | 'processing' | 'done' | 'failed';

export interface AlbumsTable {
  id: string;
  owner_id: string;
  name: string;
  description: string | null;
  /** Set for a smart album: it shows every photo of the owner with this label, and takes no uploads. */
  smart_label: string | null;
  created_at: number;
  updated_at: number;
}

export interface ImagesTable {
  id: string;
  owner_id: string;
  /** null: in the library but in no album. */
  album_id: string | null;
  /** The normalized JPEG (EXIF-rotated, longest side at most 2048 px) and its thumbnail. */
  blob_id: string;
  thumb_blob_id: string;
  sha256: string;
  size: number;
  width: number;
  height: number;
  /** The uploaded file's own hash, so the same upload can be recognised later. */
  original_sha256: string;
  original_name: string | null;
  title: string;
  description: string | null;
  /** 1: every signed-in user may view it (read only). */
  shared: Generated<number>;
  status: ImageStatus;
  status_error: string | null;
  /** 1 when the picture looked like a document and its text was extracted on upload. */
  looks_like_document: Generated<number>;
  /**
   * When the current analysis was asked for (upload or reprocess); null on photos analysed before
   * it was recorded, whose run is their upload.
   */
  processing_run: number | null;
  created_at: number;
  updated_at: number;
}

export interface ImageLabelsTable {
  id: string;
  image_id: string;
  /** Copied from the image so "all my photos with a laptop" is one indexed lookup. */
  owner_id: string;
  label: string;
  score: number;
  /** JSON [x, y, width, height] in pixels of the stored image, or null for a whole-image label. */
  box: string | null;
  /** name@version of the model, or "manual". */
  model: string;
  prediction_id: string | null;
  created_at: number;
}

export interface ImageFacesTable {
  id: string;
  image_id: string;
  owner_id: string;
  /** JSON [x, y, width, height] in pixels of the stored image. */
  box: string;
  score: number;
  /** The person recognised (or set by hand); null when unknown. */
  user_id: string | null;
  distance: number | null;
  /** 'auto' from the model, 'manual' once the owner corrected it. */
  source: string;
  model: string;
  prediction_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface ImageTextsTable {
  image_id: string;
  /** Tesseract language set used, e.g. "eng+spa". */
  lang: string;
  text: string;
  /** JSON: lines with their text, confidence and box. */
  regions: string;
  confidence: number;
  model: string;
  /** 'auto' (document-like upload) or 'manual' (asked for). */
  origin: string;
  prediction_id: string | null;
  created_at: number;
}

export interface TranslationsTable {
  id: string;
  /** sha256 of the source text: the cache key with the languages and the provider. */
  source_sha256: string;
  source_lang: string;
  target_lang: string;
  provider: string;
  text: string;
  created_at: number;
}

export interface MediaTables {
  albums: AlbumsTable;
  images: ImagesTable;
  image_labels: ImageLabelsTable;
  image_faces: ImageFacesTable;
  image_texts: ImageTextsTable;
  translations: TranslationsTable;
}
