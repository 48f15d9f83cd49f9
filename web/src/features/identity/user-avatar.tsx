import { Avatar, type AvatarProps } from '@mantine/core';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { photoUrl } from './api.ts';

/*
 * Photos are served with a short private cache. After an upload the same URL must show the new
 * picture at once, so uploads bump a per-user version and the avatars of that user then load
 * a fresh copy (bypassing the HTTP cache) as a blob URL.
 */
const versions = new Map<string, number>();
const listeners = new Set<() => void>();

export function bumpPhotoVersion(userId: string): void {
  versions.set(userId, (versions.get(userId) ?? 0) + 1);
  for (const l of listeners) l();
}

function usePhotoVersion(userId: string): number {
  return useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    () => versions.get(userId) ?? 0,
  );
}

/** The URL to show a user's photo with, fresh after an upload in this tab. */
export function usePhotoSrc(userId: string, hasPhoto: boolean, size: 'thumb' | 'full' = 'thumb'): string | null {
  const version = usePhotoVersion(userId);
  const [blobUrl, setBlobUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!hasPhoto || version === 0) {
      setBlobUrl(null);
      return;
    }
    let url: string | null = null;
    let cancelled = false;
    fetch(photoUrl(userId, size), { cache: 'reload', credentials: 'same-origin' })
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => {
        if (cancelled || !b) return;
        url = URL.createObjectURL(b);
        setBlobUrl(url);
      })
      .catch(() => setBlobUrl(null));
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [userId, hasPhoto, size, version]);
  if (!hasPhoto) return null;
  if (version === 0) return photoUrl(userId, size);
  return blobUrl;
}

interface UserAvatarProps extends Omit<AvatarProps, 'src' | 'name'> {
  user: { id: string; fullName: string; hasPhoto: boolean };
  photoSize?: 'thumb' | 'full';
}

/** A user's photo, or their initials on a color derived from the name. */
export function UserAvatar({ user, photoSize = 'thumb', ...rest }: UserAvatarProps) {
  const src = usePhotoSrc(user.id, user.hasPhoto, photoSize);
  return <Avatar src={src} name={user.fullName} color="initials" alt={user.fullName} {...rest} />;
}
