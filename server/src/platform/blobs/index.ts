import path from 'node:path';
import type { BlobStore } from './blob-store.ts';
import { parseBlobUrl } from './blob-url.ts';
import { FileBlobStore } from './file-store.ts';

export type { BlobInfo, BlobStore, PutOptions } from './blob-store.ts';
export { BlobUrlError, parseBlobUrl } from './blob-url.ts';

/** Builds the store named by BLOB_URL: file:dir, s3://bucket?…, azure://container?… */
export async function createBlobStore(url: string): Promise<BlobStore> {
  const parsed = parseBlobUrl(url);
  switch (parsed.kind) {
    case 'file':
      return new FileBlobStore(path.resolve(parsed.root));
    case 's3': {
      // Loaded on demand: a file-store install never pays for the cloud SDKs at start-up.
      const { S3BlobStore } = await import('./s3-store.ts');
      return new S3BlobStore(parsed);
    }
    case 'azure': {
      const { AzureBlobStore } = await import('./azure-store.ts');
      return new AzureBlobStore(parsed);
    }
  }
}
