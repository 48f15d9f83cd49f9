import { AppError } from '../errors.ts';
import { newId } from '../ids.ts';

const BLOB_ID = /^[0-9a-hjkmnp-tv-z]{26}$/;

export const newBlobId = (): string => newId();

/** Rejects anything that is not an id this store generated, so no key can name a path. */
export function assertBlobId(id: string): void {
  if (!BLOB_ID.test(id)) throw new AppError('invalid_blob_id', 400, 'Invalid blob id');
}

export class BlobTooLargeError extends AppError {
  constructor(maxBytes: number) {
    super('payload_too_large', 413, `Upload exceeds the limit of ${maxBytes} bytes`);
  }
}
