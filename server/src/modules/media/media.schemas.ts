import { z } from 'zod';
import { ID_PATTERN } from '../../platform/ids.ts';
import { page, paginationQuery } from '../../platform/pagination.ts';
import { OCR_LANG_SETS } from '../../vision/ocr.ts';
import { LANGUAGE_CODE } from '../../vision/translate/provider.ts';

export { page, paginationQuery };

const id = z.string().regex(ID_PATTERN, 'not an id');
const box = z.tuple([z.number(), z.number(), z.number(), z.number()]);
const labelName = z.string().trim().toLowerCase().min(1).max(64);
const boolString = z.enum(['true', 'false']).transform((v) => v === 'true');

export const idParams = z.strictObject({ id });
export const faceParams = z.strictObject({ id, faceId: id });

export const albumBody = z.strictObject({
  name: z.string().trim().min(1, 'name the album').max(200),
  description: z.string().trim().max(2000).nullable().optional(),
  smartLabel: labelName.nullable().optional(),
});
export const albumPatch = albumBody.partial();
export const deleteAlbumQuery = z.strictObject({ images: z.enum(['keep', 'delete']).default('keep') });

export const albumOut = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  smartLabel: z.string().nullable(),
  imageCount: z.number(),
  coverImageId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AlbumOut = z.infer<typeof albumOut>;

export const listImagesQuery = z.strictObject({
  album: id.optional(),
  unfiled: boolString.optional(),
  label: labelName.optional(),
  q: z.string().trim().max(100).optional(),
  /** mine (default) or shared: photos other users share. */
  scope: z.enum(['mine', 'shared']).default('mine'),
  ...paginationQuery.shape,
});

/** Multipart fields of an upload; title and description apply to every file sent with them. */
export const uploadFields = z.strictObject({
  albumId: id.optional(),
  title: z.string().trim().max(200).optional(),
  description: z.string().trim().max(2000).optional(),
  shared: boolString.optional(),
});

export const imagePatch = z.strictObject({
  title: z.string().trim().min(1).max(200).optional(),
  description: z.string().trim().max(2000).nullable().optional(),
  /** Moves the image; null takes it out of every album. */
  albumId: id.nullable().optional(),
  shared: z.boolean().optional(),
});

export const imageLabelOut = z.object({ label: z.string(), score: z.number() });

export const imageOut = z.object({
  id: z.string(),
  ownerId: z.string(),
  albumId: z.string().nullable(),
  title: z.string(),
  description: z.string().nullable(),
  width: z.number(),
  height: z.number(),
  size: z.number(),
  sha256: z.string(),
  shared: z.boolean(),
  status: z.enum(['pending', 'processing', 'done', 'failed']),
  statusError: z.string().nullable(),
  looksLikeDocument: z.boolean(),
  /** One entry per label, with its best score. */
  labels: z.array(imageLabelOut),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ImageOut = z.infer<typeof imageOut>;

export const faceOut = z.object({
  id: z.string(),
  box,
  score: z.number(),
  userId: z.string().nullable(),
  username: z.string().nullable(),
  fullName: z.string().nullable(),
  distance: z.number().nullable(),
  source: z.enum(['auto', 'manual']),
});

export const textOut = z.object({
  text: z.string(),
  lang: z.string(),
  confidence: z.number(),
  lines: z.array(z.object({ text: z.string(), confidence: z.number(), box })),
  model: z.string(),
  origin: z.enum(['auto', 'manual']),
  predictionId: z.string().nullable(),
  createdAt: z.string(),
});

export const imageDetailOut = imageOut.extend({
  mine: z.boolean(),
  detections: z.array(z.object({ label: z.string(), score: z.number(), box: box.nullable() })),
  faces: z.array(faceOut),
  text: textOut.nullable(),
});
export type ImageDetailOut = z.infer<typeof imageDetailOut>;

export const uploadOut = z.object({
  items: z.array(imageOut),
  errors: z.array(z.object({ filename: z.string(), code: z.string(), message: z.string() })),
});

export const facePatch = z.strictObject({ userId: id.nullable() });

export const ocrBody = z.strictObject({ lang: z.enum(OCR_LANG_SETS).default('spa+eng') });

const lang = z.string().regex(LANGUAGE_CODE, 'a language code such as es or en');
export const imageTranslateBody = z.strictObject({
  field: z.enum(['description', 'text']),
  from: lang,
  to: lang,
});
export const translateBody = z.strictObject({
  // Length is checked by the translator, which knows its limit and says so in the error.
  text: z.string().max(1_000_000),
  from: lang,
  to: lang,
});

export const translationOut = z.object({
  text: z.string(),
  from: z.string(),
  to: z.string(),
  provider: z.string(),
  cached: z.boolean(),
});

export const translatorOut = z.object({
  provider: z.enum(['apertium', 'libretranslate', 'aws', 'none']),
  configured: z.boolean(),
  available: z.boolean(),
  pairs: z.array(z.object({ from: z.string(), to: z.string() })),
  maxChars: z.number(),
  error: z.string().optional(),
});

export const labelCountOut = z.object({ label: z.string(), count: z.number() });
