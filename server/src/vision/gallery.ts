import type { FaceMatch } from './engine.ts';

export const DESCRIPTOR_DIM = 128;

export interface MatchParams {
  /** Largest L2 distance still accepted as the same person. */
  threshold: number;
  /** The best identity must beat the second-best identity by at least this much. */
  margin: number;
}

interface Candidate {
  identity: string;
  distance: number;
}

/**
 * One named gallery (e.g. `login`, `offering:<id>`): every template of every identity in one flat
 * Float32Array, scanned linearly. A scan of 10,000 templates × 128 floats is ~1.3 M multiply-adds,
 * well under a millisecond, so no approximate index is needed at classroom or school scale.
 */
export class Gallery {
  private data: Float32Array;
  private identityOf: Int32Array;
  private templateIds: string[] = [];
  private readonly identities: string[] = [];
  private readonly identityIndex = new Map<string, number>();
  private readonly rowOf = new Map<string, number>();
  private count = 0;

  constructor(
    readonly name: string,
    /** Only descriptors from this model (name@version) are comparable with the gallery. */
    readonly model: string,
    capacity = 64,
  ) {
    this.data = new Float32Array(capacity * DESCRIPTOR_DIM);
    this.identityOf = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  identityCount(): number {
    const seen = new Set<number>();
    for (let i = 0; i < this.count; i++) seen.add(this.identityOf[i]);
    return seen.size;
  }

  has(templateId: string): boolean {
    return this.rowOf.has(templateId);
  }

  add(templateId: string, identity: string, descriptor: ArrayLike<number>): void {
    if (descriptor.length !== DESCRIPTOR_DIM) {
      throw new Error(`descriptor has ${descriptor.length} values; expected ${DESCRIPTOR_DIM}`);
    }
    if (this.rowOf.has(templateId)) this.remove(templateId);
    if (this.count * DESCRIPTOR_DIM >= this.data.length) this.grow();
    let idx = this.identityIndex.get(identity);
    if (idx === undefined) {
      idx = this.identities.length;
      this.identities.push(identity);
      this.identityIndex.set(identity, idx);
    }
    const row = this.count++;
    this.data.set(descriptor, row * DESCRIPTOR_DIM);
    this.identityOf[row] = idx;
    this.templateIds[row] = templateId;
    this.rowOf.set(templateId, row);
  }

  /** Removes one template; the last row moves into its place so the scan stays dense. */
  remove(templateId: string): boolean {
    const row = this.rowOf.get(templateId);
    if (row === undefined) return false;
    const last = this.count - 1;
    if (row !== last) {
      this.data.copyWithin(row * DESCRIPTOR_DIM, last * DESCRIPTOR_DIM, (last + 1) * DESCRIPTOR_DIM);
      this.identityOf[row] = this.identityOf[last];
      const moved = this.templateIds[last];
      this.templateIds[row] = moved;
      this.rowOf.set(moved, row);
    }
    this.templateIds.length = last;
    this.rowOf.delete(templateId);
    this.count = last;
    return true;
  }

  removeIdentity(identity: string): number {
    const idx = this.identityIndex.get(identity);
    if (idx === undefined) return 0;
    const victims: string[] = [];
    for (let i = 0; i < this.count; i++) if (this.identityOf[i] === idx) victims.push(this.templateIds[i]);
    for (const t of victims) this.remove(t);
    return victims.length;
  }

  private grow(): void {
    const cap = Math.max(64, (this.data.length / DESCRIPTOR_DIM) * 2);
    const data = new Float32Array(cap * DESCRIPTOR_DIM);
    data.set(this.data);
    const ids = new Int32Array(cap);
    ids.set(this.identityOf);
    this.data = data;
    this.identityOf = ids;
  }

  /**
   * The `k` nearest identities (each at its nearest template), nearest first. One pass over the
   * flat array keeps the k best identities so far; a row stops being summed as soon as it can no
   * longer enter them (squared distances only grow), which skips most of the work on big galleries.
   */
  nearestIdentities(descriptor: ArrayLike<number>, k: number): Candidate[] {
    if (descriptor.length !== DESCRIPTOR_DIM) {
      throw new Error(`descriptor has ${descriptor.length} values; expected ${DESCRIPTOR_DIM}`);
    }
    const q = descriptor instanceof Float32Array ? descriptor : Float32Array.from(descriptor);
    const data = this.data;
    const ids = this.identityOf;
    // Parallel arrays, nearest first: identity index and squared distance.
    const topId = new Int32Array(k).fill(-1);
    const topD = new Float64Array(k).fill(Infinity);
    let n = 0;
    for (let row = 0; row < this.count; row++) {
      const id = ids[row];
      let slot = -1;
      for (let i = 0; i < n; i++) {
        if (topId[i] === id) {
          slot = i;
          break;
        }
      }
      const bound = slot >= 0 ? topD[slot] : n < k ? Infinity : topD[k - 1];
      let b = row * DESCRIPTOR_DIM;
      let s = 0;
      // Four accumulators let the CPU overlap the multiply-adds; checked every 16 values.
      for (let j = 0; j < DESCRIPTOR_DIM && s < bound;) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (const end = j + 16; j < end; j += 4, b += 4) {
          const d0 = data[b] - q[j];
          const d1 = data[b + 1] - q[j + 1];
          const d2 = data[b + 2] - q[j + 2];
          const d3 = data[b + 3] - q[j + 3];
          s0 += d0 * d0;
          s1 += d1 * d1;
          s2 += d2 * d2;
          s3 += d3 * d3;
        }
        s += s0 + s1 + s2 + s3;
      }
      if (s >= bound) continue;
      // Insert (or move up) the identity, keeping the list sorted and distinct.
      let p = slot >= 0 ? slot : n < k ? n++ : k - 1;
      while (p > 0 && topD[p - 1] > s) {
        topD[p] = topD[p - 1];
        topId[p] = topId[p - 1];
        p--;
      }
      topD[p] = s;
      topId[p] = id;
    }
    const out: Candidate[] = [];
    for (let i = 0; i < n; i++) out.push({ identity: this.identities[topId[i]], distance: Math.sqrt(topD[i]) });
    return out;
  }

  match(descriptor: ArrayLike<number>, params: MatchParams): FaceMatch {
    return decide(this.nearestIdentities(descriptor, 2), params);
  }

  /**
   * Matches several faces of one photo. One person cannot appear twice in a photo, so identities
   * are assigned greedily by distance: a face whose nearest identity was taken by a closer face
   * falls back to its next candidate, still within threshold and margin.
   */
  matchMany(descriptors: ArrayLike<number>[], params: MatchParams, k = 5): FaceMatch[] {
    const cands = descriptors.map((d) => this.nearestIdentities(d, k));
    const results: (FaceMatch | null)[] = descriptors.map(() => null);
    const pairs: { face: number; rank: number; distance: number }[] = [];
    cands.forEach((list, face) => list.forEach((c, rank) => pairs.push({ face, rank, distance: c.distance })));
    pairs.sort((a, b) => a.distance - b.distance);
    const taken = new Set<string>();
    for (const p of pairs) {
      if (results[p.face]) continue;
      const list = cands[p.face];
      const c = list[p.rank];
      if (taken.has(c.identity)) continue;
      const rest = list.filter((o, i) => i !== p.rank && !taken.has(o.identity));
      const m = decide([c, ...rest], params);
      if (m.known) {
        taken.add(m.identity);
        results[p.face] = m;
      }
    }
    return results.map((r, i) => r ?? decide(cands[i], params, true));
  }
}

const UNKNOWN = 'unknown';

function decide(cands: Candidate[], params: MatchParams, forceUnknown = false): FaceMatch {
  const [best, second] = cands;
  if (!best) {
    return { identity: UNKNOWN, known: false, distance: Infinity, confidence: 0, nearest: null, secondDistance: null };
  }
  const confidence = Math.max(0, Math.min(1, 1 - best.distance / (2 * params.threshold)));
  const clear = !second || second.distance - best.distance >= params.margin;
  const known = !forceUnknown && best.distance <= params.threshold && clear;
  return {
    identity: known ? best.identity : UNKNOWN,
    known,
    distance: best.distance,
    confidence: known ? confidence : Math.min(confidence, 0.5),
    nearest: best.identity,
    secondDistance: second ? second.distance : null,
  };
}

/** Named galleries held in memory; rebuilt by their owners when templates change. */
export class GalleryStore {
  private readonly galleries = new Map<string, Gallery>();

  get(name: string): Gallery | undefined {
    return this.galleries.get(name);
  }

  set(gallery: Gallery): void {
    this.galleries.set(gallery.name, gallery);
  }

  delete(name: string): void {
    this.galleries.delete(name);
  }

  names(): string[] {
    return [...this.galleries.keys()];
  }

  /** Drops a template from every gallery that holds it (an enrollment was deleted). */
  removeTemplate(templateId: string): void {
    for (const g of this.galleries.values()) g.remove(templateId);
  }

  removeIdentity(identity: string): void {
    for (const g of this.galleries.values()) g.removeIdentity(identity);
  }
}

/** Descriptors are stored as base64 of little-endian float32: compact and exact. */
export function encodeDescriptor(d: ArrayLike<number>): string {
  const f = Float32Array.from(d);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
}

export function decodeDescriptor(s: string): Float32Array {
  const buf = Buffer.from(s, 'base64');
  if (buf.length !== DESCRIPTOR_DIM * 4) throw new Error(`stored descriptor has ${buf.length} bytes`);
  const out = new Float32Array(DESCRIPTOR_DIM);
  for (let i = 0; i < DESCRIPTOR_DIM; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}
