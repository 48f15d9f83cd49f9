import type { Generated } from 'kysely';

export type Role = 'admin' | 'teacher' | 'student';

export interface UsersTable {
  id: string;
  email: string;
  username: string;
  full_name: string;
  role: Role;
  password_hash: string | null;
  student_code: string | null;
  profile_blob_id: string | null;
  profile_thumb_blob_id: string | null;
  face_login_consent: Generated<number>;
  disabled: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  csrf_token: string;
  ip: string | null;
  user_agent: string | null;
  via: Generated<string>;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  scopes: string;
  created_by: string | null;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface FaceTemplatesTable {
  id: string;
  user_id: string;
  source_blob_id: string | null;
  embedding: string;
  model: string;
  quality: number;
  created_by: string | null;
  created_at: number;
  /** upload | webcam | profile | import (added by migration 0005). */
  source: Generated<string>;
  /** JSON [x, y, width, height] of the face in the source image. */
  box: string | null;
}

export interface AuditLogTable {
  id: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: string | null;
  ip: string | null;
  created_at: number;
}

/** One password-reset link; `id` is the sha256 of the token in the link. */
export interface PasswordResetsTable {
  id: string;
  user_id: string;
  ip: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface IdentityTables {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  face_templates: FaceTemplatesTable;
  audit_log: AuditLogTable;
  settings: SettingsTable;
  password_resets: PasswordResetsTable;
}
