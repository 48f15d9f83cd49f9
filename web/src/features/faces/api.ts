import { request } from '../../app/api.ts';
import type { Me } from '../identity/api.ts';

export type TemplateSource = 'upload' | 'webcam' | 'profile' | 'import';

export interface FaceTemplate {
  id: string;
  userId: string;
  source: TemplateSource;
  model: string;
  quality: number;
  box: [number, number, number, number] | null;
  hasImage: boolean;
  createdBy: string | null;
  createdAt: string;
}

export interface FaceLoginResult extends Me {
  face: { distance: number; confidence: number; antispoof: number; liveness: number };
}

export const facesKey = (userId: string) => ['faces', userId] as const;

export const facesApi = {
  list: (userId: string) =>
    request<{ items: FaceTemplate[]; faceLoginConsent: boolean }>('GET', `/users/${userId}/faces`),
  enroll: (userId: string, photo: Blob, source: 'upload' | 'webcam', filename = 'face.jpg') => {
    const form = new FormData();
    form.append('source', source);
    form.append('photo', photo, filename);
    return request<FaceTemplate>('POST', `/users/${userId}/faces`, { form });
  },
  remove: (userId: string, templateId: string) => request<void>('DELETE', `/users/${userId}/faces/${templateId}`),
  removeAll: (userId: string) => request<{ deleted: number }>('DELETE', `/users/${userId}/faces`),
  imageUrl: (userId: string, templateId: string) => `/api/v1/users/${userId}/faces/${templateId}/image`,
  /** Face sign-in with a photo file or a camera frame; 401 carries the reason in `code`. */
  signIn: (photo: Blob, filename = 'face.jpg') => {
    const form = new FormData();
    form.append('photo', photo, filename);
    return request<FaceLoginResult>('POST', '/auth/face-login', { form, quiet401: true });
  },
};
