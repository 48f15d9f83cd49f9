import { describe, expect, it } from 'vitest';
import { DEFAULT_COURSES, DEFAULT_YEARS, GradeGenerator, SCORE_MODEL } from './data.ts';
import { Prng, seedFrom } from './prng.ts';

describe('grade data generator', () => {
  it('gives the same grades for the same seed, and different ones for another seed', () => {
    const a = new GradeGenerator({ seed: 42, students: 500 }).batch(2000);
    const b = new GradeGenerator({ seed: 42, students: 500 }).batch(2000);
    const c = new GradeGenerator({ seed: 43, students: 500 }).batch(2000);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // A fixed point, so a change of algorithm (which would break reproducibility) is noticed.
    expect(new GradeGenerator({ seed: 42, students: 500 }).next()).toEqual(a[0]);
  });

  it('draws students from a pool of unique 9-digit carnets with Spanish names', () => {
    const g = new GradeGenerator({ seed: 7, students: 500 });
    expect(g.students).toHaveLength(500);
    const codes = new Set(g.students.map((s) => s.code));
    expect(codes.size).toBe(500);
    for (const s of g.students) {
      expect(s.code).toMatch(/^20(1[5-9]|2[0-4])\d{5}$/);
      expect(s.code.endsWith('00000')).toBe(false);
      // Given name(s) and two surnames.
      expect(s.name.split(' ').length).toBeGreaterThanOrEqual(3);
    }
    expect(g.students.some((s) => /[áéíóú]/.test(s.name))).toBe(true);
    const seen = new Set(g.batch(5000).map((r) => r.student_code));
    for (const code of seen) expect(codes.has(code)).toBe(true);
    // With 5,000 draws over 500 students nearly every student appears.
    expect(seen.size).toBeGreaterThan(480);
  });

  it('covers the courses, both semesters and the years, each with a fair share', () => {
    const rows = new GradeGenerator({ seed: 1, students: 100 }).batch(20_000);
    const byCourse = new Map<string, number>();
    for (const r of rows) byCourse.set(r.course_code, (byCourse.get(r.course_code) ?? 0) + 1);
    expect([...byCourse.keys()].sort()).toEqual([...DEFAULT_COURSES].sort());
    for (const code of ['SO1', 'BD1', 'LFP', 'SA', 'AYD1'])
      expect(byCourse.get(code)).toBeGreaterThan(20_000 / DEFAULT_COURSES.length / 2);
    expect(new Set(rows.map((r) => r.semester))).toEqual(new Set([1, 2]));
    expect(new Set(rows.map((r) => r.year))).toEqual(new Set(DEFAULT_YEARS));
    const first = rows.filter((r) => r.semester === 1).length / rows.length;
    expect(first).toBeGreaterThan(0.47);
    expect(first).toBeLessThan(0.53);
  });

  it('draws scores within 0..100 with two decimals and passes about 70% at 61', () => {
    const rows = new GradeGenerator({ seed: 2024, students: 500 }).batch(50_000);
    const scores = rows.map((r) => r.score);
    for (const s of scores) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(100);
      expect(Math.round(s * 100) / 100).toBe(s);
    }
    const pass = scores.filter((s) => s >= SCORE_MODEL.passingGrade).length / scores.length;
    expect(pass).toBeGreaterThan(0.67);
    expect(pass).toBeLessThan(0.73);
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    expect(mean).toBeGreaterThan(62);
    expect(mean).toBeLessThan(72);
    // Both ends of the scale occur, as in real gradebooks, and neither dominates.
    const below30 = scores.filter((s) => s < 30).length / scores.length;
    const above95 = scores.filter((s) => s > 95).length / scores.length;
    expect(below30).toBeGreaterThan(0.01);
    expect(below30).toBeLessThan(0.1);
    expect(above95).toBeGreaterThan(0.01);
    expect(above95).toBeLessThan(0.1);
    // Real-valued, not a handful of buckets.
    expect(new Set(scores).size).toBeGreaterThan(5000);
  });

  it('adds unique idempotency keys only when asked', () => {
    expect(new GradeGenerator({ seed: 1, students: 10 }).next().idempotency_key).toBeUndefined();
    const keyed = new GradeGenerator({ seed: 1, students: 10, idempotencyPrefix: 'run1.w1' }).batch(3000);
    const keys = keyed.map((r) => r.idempotency_key!);
    expect(new Set(keys).size).toBe(3000);
    for (const k of keys) {
      expect(k.startsWith('run1.w1-')).toBe(true);
      expect(k.length).toBeLessThanOrEqual(64);
    }
  });

  it('refuses an empty or oversized student pool', () => {
    expect(() => new GradeGenerator({ seed: 1, students: 0 })).toThrow(/student pool/);
    expect(() => new GradeGenerator({ seed: 1, students: 600_000 })).toThrow(/student pool/);
  });
});

describe('seeded PRNG', () => {
  it('is uniform enough and its normals are standard', () => {
    const r = new Prng(99);
    const n = 100_000;
    const bins = new Array<number>(10).fill(0);
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      bins[Math.floor(u * 10)]++;
      const z = r.normal();
      sum += z;
      sq += z * z;
    }
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(n / 10 / 20);
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.03);
  });

  it('takes numeric and text seeds', () => {
    expect(seedFrom('42')).toBe(42);
    expect(seedFrom('demo')).toBe(seedFrom('demo'));
    expect(seedFrom('demo')).not.toBe(seedFrom('demo2'));
  });
});
