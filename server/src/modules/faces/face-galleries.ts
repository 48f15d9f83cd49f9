import type { Bus } from '../../platform/bus/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import { decodeDescriptor, Gallery, type GalleryStore } from '../../vision/gallery.ts';
import { FACE_EMBEDDING_MODEL } from '../../vision/pool-engine.ts';
import type { FacesRepository, LoginTemplateRow } from './faces.repository.ts';

export const FACES_CHANGED = 'faces.changed';
export const LOGIN_GALLERY = 'login';

interface Built {
  gallery: Gallery;
  /** The user set (for user-set galleries) or the database fingerprint (for login). */
  key: string;
  dirty: boolean;
}

/**
 * Keeps the in-memory galleries in step with face_templates. Template changes publish
 * `faces.changed` on the bus (across instances with Redis); a gallery touched by one is rebuilt
 * on its next use. The login gallery also compares a cheap database fingerprint, so consent
 * given or withdrawn on the profile (which publishes nothing) is seen on the next sign-in.
 */
export class FaceGalleries {
  private readonly built = new Map<string, Built & { users: Set<string> | null }>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly repo: FacesRepository,
    private readonly store: GalleryStore,
    private readonly bus: Bus,
    private readonly logger?: Logger,
  ) {
    this.unsubscribe = bus.subscribe(FACES_CHANGED, (payload) => {
      const userId = (payload as { userId?: unknown })?.userId;
      for (const b of this.built.values()) {
        if (typeof userId !== 'string' || !b.users || b.users.has(userId)) b.dirty = true;
      }
    });
  }

  changed(userId: string): void {
    // Mark locally at once (the bus delivers asynchronously), then tell other instances.
    for (const b of this.built.values()) if (!b.users || b.users.has(userId)) b.dirty = true;
    this.bus.publish(FACES_CHANGED, { userId });
  }

  private load(name: string, rows: LoginTemplateRow[]): Gallery {
    const g = new Gallery(name, FACE_EMBEDDING_MODEL, Math.max(64, rows.length));
    let skipped = 0;
    for (const r of rows) {
      // Templates of another embedding model cannot be compared; they wait for re-enrollment.
      if (r.model !== FACE_EMBEDDING_MODEL) {
        skipped++;
        continue;
      }
      try {
        g.add(r.id, r.user_id, decodeDescriptor(r.embedding));
      } catch {
        skipped++;
      }
    }
    if (skipped) this.logger?.warn({ gallery: name, skipped }, 'face templates skipped (other model or damaged)');
    this.store.set(g);
    return g;
  }

  /**
   * The gallery of everyone who may sign in with their face, fresh as of this call. When it must
   * be rebuilt, `beforeRebuild` runs first (profile photos becoming templates).
   */
  async login(beforeRebuild?: () => Promise<unknown>): Promise<Gallery> {
    let fingerprint = await this.repo.loginFingerprint();
    const b = this.built.get(LOGIN_GALLERY);
    if (b && !b.dirty && b.key === fingerprint) return b.gallery;
    if (beforeRebuild) {
      await beforeRebuild();
      fingerprint = await this.repo.loginFingerprint();
    }
    const gallery = this.load(LOGIN_GALLERY, await this.repo.listLoginTemplates());
    this.built.set(LOGIN_GALLERY, { gallery, key: fingerprint, dirty: false, users: null });
    return gallery;
  }

  /**
   * A gallery of the given users' templates (an offering's students: `offering:<id>`), rebuilt
   * when the user set or one of their templates changed.
   */
  async forUsers(name: string, userIds: readonly string[]): Promise<Gallery> {
    const key = [...new Set(userIds)].sort().join(',');
    const b = this.built.get(name);
    if (b && !b.dirty && b.key === key) return b.gallery;
    const gallery = this.load(name, await this.repo.listByUsers([...new Set(userIds)]));
    this.built.set(name, { gallery, key, dirty: false, users: new Set(userIds) });
    return gallery;
  }

  drop(name: string): void {
    this.built.delete(name);
    this.store.delete(name);
  }

  close(): void {
    this.unsubscribe();
  }
}
