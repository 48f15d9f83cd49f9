import { describe, expect, it } from 'vitest';
import { decodeDescriptor, DESCRIPTOR_DIM, encodeDescriptor, Gallery, GalleryStore } from './gallery.ts';
import { nms, overlapOfSmaller, tilePlan } from './geometry.ts';

/** Deterministic pseudo-random unit-ish vectors (mulberry32), like face descriptors in spread. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function vector(next: () => number, scale = 0.09): Float32Array {
  const v = new Float32Array(DESCRIPTOR_DIM);
  for (let i = 0; i < DESCRIPTOR_DIM; i++) v[i] = (next() - 0.5) * 2 * scale;
  return v;
}
function near(base: Float32Array, next: () => number, amount: number): Float32Array {
  const v = Float32Array.from(base);
  for (let i = 0; i < DESCRIPTOR_DIM; i++) v[i] += (next() - 0.5) * amount;
  return v;
}
const l2 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
};
const params = { threshold: 0.6, margin: 0.02 };

describe('gallery index', () => {
  it('finds the nearest identity, and answers unknown beyond the threshold', () => {
    const next = rng(1);
    const g = new Gallery('t', 'm@1');
    const alice = vector(next);
    const bob = vector(next);
    g.add('a1', 'alice', alice);
    g.add('b1', 'bob', bob);
    const probe = near(alice, next, 0.02);
    const m = g.match(probe, params);
    expect(m).toMatchObject({ identity: 'alice', known: true, nearest: 'alice' });
    expect(m.distance).toBeCloseTo(l2(probe, alice), 5);
    expect(m.secondDistance).toBeCloseTo(l2(probe, bob), 5);
    expect(m.confidence).toBeGreaterThan(0.5);

    const stranger = vector(next, 0.5);
    const u = g.match(stranger, params);
    expect(u.known).toBe(false);
    expect(u.identity).toBe('unknown');
    expect(u.distance).toBeGreaterThan(params.threshold);
    expect(u.confidence).toBeLessThanOrEqual(0.5);
  });

  it('refuses a match without a clear lead over the second identity', () => {
    const next = rng(2);
    const g = new Gallery('t', 'm@1');
    const a = vector(next);
    const b = near(a, next, 0.0001);
    g.add('a', 'twin-a', a);
    g.add('b', 'twin-b', b);
    const probe = near(a, next, 0.01);
    expect(g.match(probe, { threshold: 0.6, margin: 0 }).known).toBe(true);
    const m = g.match(probe, { threshold: 0.6, margin: 0.05 });
    expect(m.known).toBe(false);
    expect(m.nearest === 'twin-a' || m.nearest === 'twin-b').toBe(true);
  });

  it('keeps rows dense through removals and identity deletion', () => {
    const next = rng(3);
    const g = new Gallery('t', 'm@1', 2);
    const vs = Array.from({ length: 5 }, () => vector(next));
    vs.forEach((v, i) => g.add(`t${i}`, i < 3 ? 'x' : `p${i}`, v));
    expect(g.size).toBe(5);
    expect(g.identityCount()).toBe(3);
    expect(g.remove('t0')).toBe(true);
    expect(g.remove('t0')).toBe(false);
    expect(g.match(vs[4], params).identity).toBe('p4');
    expect(g.match(vs[1], params).identity).toBe('x');
    expect(g.removeIdentity('x')).toBe(2);
    expect(g.size).toBe(2);
    expect(g.has('t1')).toBe(false);
    expect(g.match(vs[3], params).identity).toBe('p3');
    // Re-adding a template id replaces it.
    g.add('t3', 'p3', vs[4]);
    expect(g.size).toBe(2);
  });

  it('assigns each identity to at most one face of a photo', () => {
    const next = rng(4);
    const g = new Gallery('t', 'm@1');
    const a = vector(next);
    const b = vector(next);
    g.add('a', 'a', a);
    g.add('b', 'b', b);
    const faceA = near(a, next, 0.02);
    const faceA2 = near(a, next, 0.06);
    const faceB = near(b, next, 0.02);
    const res = g.matchMany([faceA2, faceB, faceA], params);
    expect(res.map((r) => r.identity)).toEqual(['unknown', 'b', 'a']);
  });

  it('matches exactly against 10,000 templates (brute force agrees)', () => {
    const next = rng(5);
    const g = new Gallery('big', 'm@1');
    const all: { id: string; v: Float32Array }[] = [];
    for (let i = 0; i < 10_000; i++) {
      const v = vector(next);
      all.push({ id: `u${i % 2500}`, v });
      g.add(`t${i}`, `u${i % 2500}`, v);
    }
    expect(g.size).toBe(10_000);
    for (let k = 0; k < 20; k++) {
      const target = all[Math.floor(next() * all.length)];
      const probe = near(target.v, next, 0.01);
      let best = { id: '', d: Infinity };
      for (const r of all) {
        const d = l2(probe, r.v);
        if (d < best.d) best = { id: r.id, d };
      }
      const [c] = g.nearestIdentities(probe, 1);
      expect(c.identity).toBe(best.id);
      expect(c.distance).toBeCloseTo(best.d, 4);
    }
  });

  it('stores descriptors exactly', () => {
    const v = vector(rng(6));
    expect(Array.from(decodeDescriptor(encodeDescriptor(v)))).toEqual(Array.from(v));
    expect(() => decodeDescriptor('AAAA')).toThrow();
    expect(() => new Gallery('t', 'm').add('x', 'y', [1, 2, 3])).toThrow(/128/);
  });

  it('drops a template or an identity from every named gallery', () => {
    const store = new GalleryStore();
    const next = rng(7);
    const v = vector(next);
    for (const name of ['login', 'offering:1']) {
      const g = new Gallery(name, 'm@1');
      g.add('t1', 'u1', v);
      g.add('t2', 'u2', vector(next));
      store.set(g);
    }
    store.removeTemplate('t1');
    expect(store.get('login')!.has('t1')).toBe(false);
    expect(store.get('offering:1')!.has('t1')).toBe(false);
    store.removeIdentity('u2');
    expect(store.get('login')!.size).toBe(0);
    expect(store.names().sort()).toEqual(['login', 'offering:1']);
  });
});

describe('tiling geometry', () => {
  it('covers the frame with overlapping tiles', () => {
    const tiles = tilePlan(2048, 922, 1024, 0.25);
    expect(tiles.length).toBe(3);
    for (const t of tiles) {
      expect(t.x + t.width).toBeLessThanOrEqual(2048);
      expect(t.y + t.height).toBeLessThanOrEqual(922);
    }
    // Every point of the frame is inside some tile.
    for (let x = 0; x < 2048; x += 97) {
      for (let y = 0; y < 922; y += 89) {
        expect(tiles.some((t) => x >= t.x && x < t.x + t.width && y >= t.y && y < t.y + t.height)).toBe(true);
      }
    }
    expect(tilePlan(500, 400, 1024)).toEqual([{ x: 0, y: 0, width: 500, height: 400 }]);
    expect(tilePlan(20_000, 20_000, 512, 0.25, 16).length).toBeLessThanOrEqual(16);
  });

  it('merges a face cut by a tile edge into the whole face', () => {
    const whole = { box: [100, 100, 60, 60] as [number, number, number, number], score: 0.9 };
    const cut = { box: [100, 100, 30, 60] as [number, number, number, number], score: 0.95 };
    const other = { box: [200, 100, 60, 60] as [number, number, number, number], score: 0.8 };
    expect(overlapOfSmaller(whole.box, cut.box)).toBe(1);
    const kept = nms([whole, cut, other], 0.35);
    expect(kept).toHaveLength(2);
    expect(kept).toContain(other);
    expect(kept).toContain(whole);
  });
});
