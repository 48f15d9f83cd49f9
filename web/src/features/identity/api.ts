import { api, type Page } from '../../app/api.ts';

export type Role = 'admin' | 'teacher' | 'student';
export const ROLES: Role[] = ['admin', 'teacher', 'student'];
export const ROLE_LABELS: Record<Role, string> = { admin: 'Administrator', teacher: 'Teacher', student: 'Student' };
export const ROLE_COLORS: Record<Role, string> = { admin: 'grape', teacher: 'teal', student: 'blue' };

export interface User {
  id: string;
  username: string;
  email: string;
  fullName: string;
  role: Role;
  studentCode: string | null;
  hasPhoto: boolean;
  faceLoginConsent: boolean;
  disabled: boolean;
  createdAt: string;
}

export interface Me extends User {
  csrfToken: string | null;
}

export type UserSort = 'username' | 'full_name' | 'email' | 'role' | 'created_at' | 'student_code';

export interface UserListParams {
  role?: Role;
  q?: string;
  sort?: UserSort;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export interface NewUserInput {
  username: string;
  email: string;
  fullName: string;
  role: Role;
  password?: string;
  studentCode?: string;
}

export interface UserPatch {
  email?: string;
  fullName?: string;
  role?: Role;
  password?: string;
  studentCode?: string | null;
  disabled?: boolean;
}

/** Scopes an API token may carry; the server rejects anything else. */
export const SCOPES = [
  'grades:write',
  'grades:read',
  'attendance:capture',
  'attendance:read',
  'attendance:write',
  'analysis:run',
  'media:write',
  'loadtest:publish',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export const SCOPE_HELP: Record<Scope, string> = {
  'grades:write': 'Send grades (REST and gRPC ingest)',
  'grades:read': 'Read grades and dashboard figures',
  'attendance:capture': 'Upload camera frames and videos',
  'attendance:read': 'Read attendance',
  'attendance:write': 'Correct attendance (set statuses, confirm matches, close sessions)',
  'analysis:run': 'Run image analysis',
  'media:write': "Manage the owner's photos and albums",
  'loadtest:publish': 'Publish load-test statistics',
  admin: 'Everything the owner may do',
};

export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface AuditEntry {
  id: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: unknown;
  ip: string | null;
  createdAt: string;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  target?: string;
  from?: string;
  to?: string;
}

export const identityApi = {
  me: () => api.get<Me>('/auth/me'),
  updateMe: (patch: { fullName?: string; email?: string; faceLoginConsent?: boolean }) => api.patch<User>('/me', patch),
  changePassword: (currentPassword: string, newPassword: string) =>
    api.post<void>('/me/password', { currentPassword, newPassword }),
  uploadPhoto: (file: File | Blob) => api.upload<User>('PUT', '/me/photo', file, 'photo.jpg'),
  listUsers: (params: UserListParams, signal?: AbortSignal) => api.get<Page<User>>('/users', { ...params }, signal),
  getUser: (id: string) => api.get<User>(`/users/${encodeURIComponent(id)}`),
  createUser: (input: NewUserInput) => api.post<User>('/users', input),
  updateUser: (id: string, patch: UserPatch) => api.patch<User>(`/users/${encodeURIComponent(id)}`, patch),
  deleteUser: (id: string) => api.del(`/users/${encodeURIComponent(id)}`),
  listTokens: () => api.get<ApiToken[]>('/tokens'),
  createToken: (input: { userId: string; name: string; scopes: Scope[]; expiresInDays?: number }) =>
    api.post<ApiToken & { token: string }>('/tokens', input),
  revokeToken: (id: string) => api.del(`/tokens/${encodeURIComponent(id)}`),
  listAudit: (params: { limit: number; offset: number } & AuditFilter, signal?: AbortSignal) =>
    api.get<Page<AuditEntry>>('/audit', { ...params }, signal),
  requestPasswordReset: (email: string) => api.post<{ status: 'accepted' }>('/auth/password-reset', { email }),
  resetPassword: (token: string, newPassword: string) =>
    api.post<void>('/auth/password-reset/confirm', { token, newPassword }),
};

/** The photo endpoint accepts only `size`; fresh copies after an upload are fetched by use-photo. */
export function photoUrl(userId: string, size: 'thumb' | 'full' = 'thumb'): string {
  return `/api/v1/users/${encodeURIComponent(userId)}/photo?size=${size}`;
}
