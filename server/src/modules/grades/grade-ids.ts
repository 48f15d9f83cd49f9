import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Record ids in the layout of platform ids (10 time characters, 16 random, lowercase Crockford
 * base32) but strictly increasing within the process: ids generated in the same millisecond
 * increment the random part. "Latest record" is then simply "largest id", even inside one batch,
 * and b-tree inserts stay at the right edge of the index.
 */
export class MonotonicIds {
  private lastTime = -1;
  private timePart = '';
  private readonly rand = new Uint8Array(16);

  next(now = Date.now()): string {
    if (now > this.lastTime) {
      this.lastTime = now;
      this.timePart = encodeTime(now);
      const bytes = randomBytes(16);
      for (let i = 0; i < 16; i++) this.rand[i] = bytes[i] % 32;
      // Leave headroom so that a burst within one millisecond never has to carry into the time.
      this.rand[0] &= 0x0f;
    } else if (!this.increment()) {
      // 2^76 ids in one millisecond cannot happen; borrow the next millisecond if it ever did.
      this.lastTime += 1;
      this.timePart = encodeTime(this.lastTime);
      this.rand.fill(0);
    }
    let s = this.timePart;
    for (let i = 0; i < 16; i++) s += ALPHABET[this.rand[i]];
    return s;
  }

  private increment(): boolean {
    for (let i = 15; i >= 0; i--) {
      if (this.rand[i] < 31) {
        this.rand[i]++;
        return true;
      }
      this.rand[i] = 0;
    }
    return false;
  }
}

function encodeTime(ms: number): string {
  let t = ms;
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}
