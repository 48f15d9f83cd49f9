import { request, type Page } from '../../app/api.ts';

export type Box = [number, number, number, number];

export interface Album {
  id: string;
  name: string;
  description: string | null;
  smartLabel: string | null;
  imageCount: number;
  coverImageId: string | null;
  createdAt: string;
  updatedAt: string;
}

export type ImageStatus = 'pending' | 'processing' | 'done' | 'failed';

export interface Photo {
  id: string;
  ownerId: string;
  albumId: string | null;
  title: string;
  description: string | null;
  width: number;
  height: number;
  size: number;
  sha256: string;
  shared: boolean;
  status: ImageStatus;
  statusError: string | null;
  looksLikeDocument: boolean;
  labels: { label: string; score: number }[];
  createdAt: string;
  updatedAt: string;
}

export interface PhotoFace {
  id: string;
  box: Box;
  score: number;
  userId: string | null;
  username: string | null;
  fullName: string | null;
  distance: number | null;
  source: 'auto' | 'manual';
}

export interface PhotoText {
  text: string;
  lang: string;
  confidence: number;
  lines: { text: string; confidence: number; box: Box }[];
  model: string;
  origin: 'auto' | 'manual';
  predictionId: string | null;
  createdAt: string;
}

export interface PhotoDetail extends Photo {
  mine: boolean;
  detections: { label: string; score: number; box: Box | null }[];
  faces: PhotoFace[];
  text: PhotoText | null;
}

export interface Translation {
  text: string;
  from: string;
  to: string;
  provider: string;
  cached: boolean;
}

export interface TranslatorInfo {
  provider: 'apertium' | 'libretranslate' | 'aws' | 'none';
  configured: boolean;
  available: boolean;
  pairs: { from: string; to: string }[];
  maxChars: number;
  error?: string;
}

export interface UploadResult {
  items: Photo[];
  errors: { filename: string; code: string; message: string }[];
}

export interface PhotoQuery {
  album?: string;
  unfiled?: boolean;
  label?: string;
  q?: string;
  scope?: 'mine' | 'shared';
  limit: number;
  offset: number;
}

export const OCR_LANGS = [
  { value: 'spa+eng', label: 'Spanish, then English' },
  { value: 'eng+spa', label: 'English, then Spanish' },
  { value: 'spa', label: 'Spanish' },
  { value: 'eng', label: 'English' },
];

const LANGUAGE_NAMES: Record<string, string> = {
  es: 'Spanish',
  en: 'English',
  'en-US': 'English (US)',
  ca: 'Catalan',
  fr: 'French',
  pt: 'Portuguese',
  it: 'Italian',
  de: 'German',
  gl: 'Galician',
};
export const languageName = (code: string) => LANGUAGE_NAMES[code] ?? code;

export const mediaKeys = {
  albums: ['media', 'albums'] as const,
  photos: (q: PhotoQuery) => ['media', 'photos', q] as const,
  photo: (id: string) => ['media', 'photo', id] as const,
  labels: ['media', 'labels'] as const,
  translator: ['media', 'translator'] as const,
};

export const photoUrl = (id: string, size: 'thumb' | 'full' = 'full') => `/api/v1/images/${id}/file?size=${size}`;

export const mediaApi = {
  albums: () => request<Album[]>('GET', '/albums'),
  createAlbum: (body: { name: string; description?: string | null; smartLabel?: string | null }) =>
    request<Album>('POST', '/albums', { body }),
  updateAlbum: (id: string, body: { name?: string; description?: string | null }) =>
    request<Album>('PATCH', `/albums/${id}`, { body }),
  deleteAlbum: (id: string, images: 'keep' | 'delete') =>
    request<void>('DELETE', `/albums/${id}`, { query: { images } }),
  photos: (q: PhotoQuery, signal?: AbortSignal) =>
    request<Page<Photo>>('GET', '/images', {
      query: { ...q, unfiled: q.unfiled ? 'true' : undefined },
      signal,
    }),
  photo: (id: string, signal?: AbortSignal) => request<PhotoDetail>('GET', `/images/${id}`, { signal }),
  upload: (files: File[], fields: { albumId?: string; title?: string; description?: string }) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) if (v) form.append(k, v);
    for (const f of files) form.append('photos', f, f.name);
    return request<UploadResult>('POST', '/images', { form });
  },
  updatePhoto: (
    id: string,
    body: { title?: string; description?: string | null; albumId?: string | null; shared?: boolean },
  ) => request<Photo>('PATCH', `/images/${id}`, { body }),
  deletePhoto: (id: string) => request<void>('DELETE', `/images/${id}`),
  reprocess: (id: string) => request<Photo>('POST', `/images/${id}/reprocess`),
  extractText: (id: string, lang: string) => request<PhotoText>('POST', `/images/${id}/ocr`, { body: { lang } }),
  translatePhoto: (id: string, field: 'description' | 'text', from: string, to: string) =>
    request<Translation>('POST', `/images/${id}/translate`, { body: { field, from, to } }),
  correctFace: (id: string, faceId: string, userId: string | null) =>
    request<PhotoFace>('PATCH', `/images/${id}/faces/${faceId}`, { body: { userId } }),
  deleteFace: (id: string, faceId: string) => request<void>('DELETE', `/images/${id}/faces/${faceId}`),
  labels: () => request<{ label: string; count: number }[]>('GET', '/labels'),
  people: (q: string, signal?: AbortSignal) =>
    request<{ id: string; username: string; fullName: string }[]>('GET', '/people', { query: { q }, signal }),
  translator: () => request<TranslatorInfo>('GET', '/translation'),
};
