import { z } from 'zod';
import { meOut } from '../identity/identity.schemas.ts';

const id = z.string().min(1).max(64);
export const userParams = z.strictObject({ id });
export const templateParams = z.strictObject({ id, templateId: id });

export const templateSources = ['upload', 'webcam', 'profile', 'import'] as const;
export type TemplateSource = (typeof templateSources)[number];

/** Multipart fields that may accompany an enrollment photo. */
export const enrollFields = z.strictObject({
  source: z.enum(['upload', 'webcam']).default('upload'),
});

export const boxOut = z.tuple([z.number(), z.number(), z.number(), z.number()]);

export const qualityOut = z.object({
  size: z.number(),
  sharpness: z.number(),
  pose: z.object({ yaw: z.number(), pitch: z.number(), roll: z.number() }),
  score: z.number(),
});

export const templateOut = z.object({
  id: z.string(),
  userId: z.string(),
  source: z.enum(templateSources),
  model: z.string(),
  quality: z.number(),
  box: boxOut.nullable(),
  hasImage: z.boolean(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
});
export type TemplateOut = z.infer<typeof templateOut>;

export const enrollOut = templateOut.extend({
  face: z.object({ box: boxOut, score: z.number(), quality: qualityOut }),
});

export const templateListOut = z.object({
  items: z.array(templateOut),
  faceLoginConsent: z.boolean(),
});

/** Face sign-in from the webcam page: a JPEG, PNG or WebP frame as a data URL. */
export const faceLoginJsonBody = z.strictObject({
  image: z
    .string()
    .max(40 * 1024 * 1024)
    .regex(/^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/=\s]+$/, 'must be a data:image/jpeg|png|webp;base64 URL'),
});

export const faceLoginOut = meOut.extend({
  face: z.object({
    distance: z.number(),
    confidence: z.number(),
    antispoof: z.number(),
    liveness: z.number(),
  }),
});

export const modelOut = z.object({
  name: z.string(),
  task: z.string(),
  version: z.string(),
  description: z.string(),
  weightsSha256: z.string().nullable(),
  available: z.boolean(),
  error: z.string().optional(),
  parameters: z.unknown(),
});
