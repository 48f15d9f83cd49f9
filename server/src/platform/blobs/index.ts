import path from 'node:path';
import type { BlobStore } from './blob-store.ts';
import { FileBlobStore } from './file-store.ts';

export type { BlobInfo, BlobStore, PutOptions } from './blob-store.ts';

/** Builds the store named by BLOB_URL: file:dir, s3://bucket?…, azure://container?… */
export async function createBlobStore(url: string): Promise<BlobStore> {
  if (url.startsWith('file:')) return new FileBlobStore(path.resolve(url.slice('file:'.length)));
  if (url.startsWith('s3://')) {
    const { S3BlobStore } = await import('./s3-store.ts');
    return S3BlobStore.fromUrl(url);
  }
  if (url.startsWith('azure://')) {
    const { AzureBlobStore } = await import('./azure-store.ts');
    return AzureBlobStore.fromUrl(url);
  }
  throw new Error(`Unsupported BLOB_URL: ${url.split(':')[0]}`);
}
