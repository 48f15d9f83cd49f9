import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BlobTooLargeError } from './blob-ids.ts';

/** Pass-through that counts bytes, hashes them and enforces a size limit while streaming. */
export class Metered extends Transform {
  // Not named `size`: upload helpers read `body.size` as the total length of a stream.
  bytesSeen = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly maxBytes = Number.POSITIVE_INFINITY) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytesSeen += chunk.length;
    if (this.bytesSeen > this.maxBytes) {
      cb(new BlobTooLargeError(this.maxBytes));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}
