// Implemented with the Azure adapter work; see blob-store.ts for the interface.
import type { BlobStore } from './blob-store.ts';
export const AzureBlobStore = {
  fromUrl(_url: string): BlobStore {
    throw new Error('Azure blob store is not available in this build');
  },
};
