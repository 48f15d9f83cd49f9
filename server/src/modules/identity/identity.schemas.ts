import { z } from 'zod';
import { SCOPES } from './actor.ts';

export { page, paginationQuery } from '../../platform/pagination.ts';

export const roleSchema = z.enum(['admin', 'teacher', 'student']);
export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'letters, digits, dot, dash or underscore; 2–64 characters');
export const emailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email());
export const passwordSchema = z.string().min(8, 'at least 8 characters').max(200);
export const studentCodeSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9-]{1,32}$/, 'letters, digits and dashes, up to 32');
export const fullNameSchema = z.string().trim().min(1).max(200);

export const loginBody = z.strictObject({
  login: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(200),
});

export const registerBody = z.strictObject({
  username: usernameSchema,
  email: emailSchema,
  fullName: fullNameSchema,
  password: passwordSchema,
});

export const userOut = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string(),
  fullName: z.string(),
  role: roleSchema,
  studentCode: z.string().nullable(),
  hasPhoto: z.boolean(),
  faceLoginConsent: z.boolean(),
  disabled: z.boolean(),
  createdAt: z.string(),
});
export type UserOut = z.infer<typeof userOut>;

export const meOut = userOut.extend({ csrfToken: z.string().nullable() });

export const createUserBody = z.strictObject({
  username: usernameSchema,
  email: emailSchema,
  fullName: fullNameSchema,
  role: roleSchema,
  password: passwordSchema.optional(),
  studentCode: studentCodeSchema.optional(),
});

export const updateUserBody = z.strictObject({
  email: emailSchema.optional(),
  fullName: fullNameSchema.optional(),
  role: roleSchema.optional(),
  password: passwordSchema.optional(),
  studentCode: studentCodeSchema.nullable().optional(),
  disabled: z.boolean().optional(),
});

export const updateMeBody = z.strictObject({
  fullName: fullNameSchema.optional(),
  email: emailSchema.optional(),
  faceLoginConsent: z.boolean().optional(),
});

export const changePasswordBody = z.strictObject({
  currentPassword: z.string().min(1).max(200),
  newPassword: passwordSchema,
});

export const passwordResetRequestBody = z.strictObject({ email: z.string().trim().min(1).max(254) });

export const passwordResetBody = z.strictObject({
  token: z.string().min(1).max(200),
  newPassword: passwordSchema,
});

export const auditQuery = z.strictObject({
  action: z
    .string()
    .trim()
    .regex(/^[a-z_.]{1,64}$/, 'an action such as face.enroll, or a family such as face')
    .optional(),
  actor: z.string().min(1).max(26).optional(),
  targetType: z.string().min(1).max(32).optional(),
  target: z.string().min(1).max(64).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const listUsersQuery = z.strictObject({
  role: roleSchema.optional(),
  q: z.string().trim().max(100).optional(),
  sort: z.enum(['username', 'full_name', 'email', 'role', 'created_at', 'student_code']).default('username'),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const scopeSchema = z.enum(SCOPES);
export const createTokenBody = z.strictObject({
  userId: z.string().min(1).max(26),
  name: z.string().trim().min(1).max(100),
  scopes: z.array(scopeSchema).min(1).max(SCOPES.length),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

export const tokenOut = z.object({
  id: z.string(),
  userId: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export const idParams = z.strictObject({ id: z.string().min(1).max(64) });
