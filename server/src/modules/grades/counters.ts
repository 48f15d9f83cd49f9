import type { Redis } from 'ioredis';
import { groupKey, type CommitSummary } from './commit.ts';

export interface CounterGroup {
  course: string;
  year: number;
  semester: number;
  records: number;
  students: number;
}

export interface CountersSnapshot {
  total: number;
  groups: CounterGroup[];
}

/** SQL, the source of truth the counters are rebuilt from. */
export interface CounterTruth {
  groups(): Promise<CounterGroup[]>;
  /** Every (group, student) with an effective grade, a page at a time. */
  members(): AsyncIterable<{ course: string; year: number; semester: number; student: string }[]>;
}

/**
 * Live counters: total records, records per (course, year, semester), distinct students per
 * (course, year, semester). Updated after each commit; SQL stays the truth and `rebuild` makes
 * them exact again after a lost update.
 */
export interface GradeCounters {
  readonly kind: 'memory' | 'redis';
  /** True when an update may have been lost since the last rebuild. */
  readonly dirty: boolean;
  /** Applies one commit; returns the new absolute values of the groups it touched, or null if not applied. */
  apply(summary: CommitSummary): Promise<CountersSnapshot | null>;
  snapshot(): Promise<CountersSnapshot>;
  matches(truth: CounterTruth): Promise<boolean>;
  rebuild(truth: CounterTruth): Promise<void>;
  close(): Promise<void>;
}

export const sortGroups = (groups: CounterGroup[]): CounterGroup[] =>
  groups.sort((a, b) =>
    a.course < b.course ? -1 : a.course > b.course ? 1 : a.year - b.year || a.semester - b.semester,
  );

function sameCounts(a: CountersSnapshot, truth: CounterGroup[]): boolean {
  const total = truth.reduce((s, g) => s + g.records, 0);
  if (a.total !== total) return false;
  const mine = new Map(a.groups.map((g) => [groupKey(g.course, g.year, g.semester), g]));
  if (mine.size !== truth.length) return false;
  return truth.every((t) => {
    const m = mine.get(groupKey(t.course, t.year, t.semester));
    return m !== undefined && m.records === t.records && m.students === t.students;
  });
}

/** In-process counters, for the embedded single process. */
export class MemoryCounters implements GradeCounters {
  readonly kind = 'memory' as const;
  readonly dirty = false;
  private total = 0;
  private groups = new Map<string, CounterGroup>();

  async apply(summary: CommitSummary): Promise<CountersSnapshot | null> {
    if (summary.accepted === 0) return null;
    this.total += summary.accepted;
    const touched: CounterGroup[] = [];
    for (const [k, d] of summary.groups) {
      let g = this.groups.get(k);
      if (!g) {
        g = { course: d.course, year: d.year, semester: d.semester, records: 0, students: 0 };
        this.groups.set(k, g);
      }
      g.records += d.records;
      g.students += d.newStudents;
      touched.push({ ...g });
    }
    return { total: this.total, groups: sortGroups(touched) };
  }

  async snapshot(): Promise<CountersSnapshot> {
    return { total: this.total, groups: sortGroups([...this.groups.values()].map((g) => ({ ...g }))) };
  }

  async matches(truth: CounterTruth): Promise<boolean> {
    return sameCounts(await this.snapshot(), await truth.groups());
  }

  async rebuild(truth: CounterTruth): Promise<void> {
    const groups = await truth.groups();
    this.groups = new Map(groups.map((g) => [groupKey(g.course, g.year, g.semester), { ...g }]));
    this.total = groups.reduce((s, g) => s + g.records, 0);
  }

  async close(): Promise<void> {}
}

/**
 * Counters in Redis, shared by every instance: INCRBY for the total, HINCRBY per group, and one
 * set per group (SADD/SCARD) for distinct students, in one pipeline after each commit. Redis may
 * be down: the update is then dropped and the counters marked dirty until a rebuild.
 */
export class RedisCounters implements GradeCounters {
  readonly kind = 'redis' as const;
  private dirtyFlag = false;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'aula:grades:',
  ) {}

  get dirty(): boolean {
    return this.dirtyFlag;
  }

  markDirty(): void {
    this.dirtyFlag = true;
  }

  private get totalKey() {
    return `${this.prefix}total`;
  }
  private get recordsKey() {
    return `${this.prefix}records`;
  }
  private studentsKey(group: string) {
    return `${this.prefix}students:${group}`;
  }

  apply(summary: CommitSummary): Promise<CountersSnapshot | null> {
    if (summary.accepted === 0) return Promise.resolve(null);
    const p = this.applyNow(summary);
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    return p;
  }

  private async applyNow(summary: CommitSummary): Promise<CountersSnapshot | null> {
    const pipe = this.redis.pipeline();
    pipe.incrby(this.totalKey, summary.accepted);
    const order: { key: string; sadd: boolean }[] = [];
    for (const [k, d] of summary.groups) {
      pipe.hincrby(this.recordsKey, k, d.records);
      const sadd = d.studentCodes.length > 0;
      if (sadd) pipe.sadd(this.studentsKey(k), ...d.studentCodes);
      pipe.scard(this.studentsKey(k));
      order.push({ key: k, sadd });
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipe.exec();
    } catch {
      results = null;
    }
    if (!results || results.some(([err]) => err)) {
      this.dirtyFlag = true;
      return null;
    }
    let i = 0;
    const total = Number(results[i++][1]);
    const groups: CounterGroup[] = [];
    for (const { key, sadd } of order) {
      const d = summary.groups.get(key)!;
      const records = Number(results[i++][1]);
      if (sadd) i++;
      const students = Number(results[i++][1]);
      groups.push({ course: d.course, year: d.year, semester: d.semester, records, students });
    }
    return { total, groups: sortGroups(groups) };
  }

  async snapshot(): Promise<CountersSnapshot> {
    const [total, records] = await Promise.all([this.redis.get(this.totalKey), this.redis.hgetall(this.recordsKey)]);
    const keys = Object.keys(records);
    const pipe = this.redis.pipeline();
    for (const k of keys) pipe.scard(this.studentsKey(k));
    const cards = keys.length ? ((await pipe.exec()) ?? []) : [];
    const groups = keys.map((k, i) => {
      const [course, year, semester] = splitGroup(k);
      const [err, n] = cards[i] ?? [new Error('missing'), 0];
      if (err) throw err;
      return { course, year, semester, records: Number(records[k]), students: Number(n) };
    });
    return { total: Number(total ?? 0), groups: sortGroups(groups) };
  }

  async matches(truth: CounterTruth): Promise<boolean> {
    const [mine, sql] = await Promise.all([this.snapshot(), truth.groups()]);
    return sameCounts(mine, sql);
  }

  /**
   * Rebuilds every key from SQL. Student sets are built under temporary names and swapped in
   * with the totals in one MULTI, so readers never see a half-built state. The caller makes sure
   * no commit of this process runs meanwhile (the writer's exclusive section).
   */
  async rebuild(truth: CounterTruth): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    this.dirtyFlag = false;
    try {
      const groups = await truth.groups();
      const tmp = `${this.prefix}rebuild:${process.pid}:${Date.now().toString(36)}:`;
      const staleGroups = await this.redis.hkeys(this.recordsKey);
      for await (const page of truth.members()) {
        const byGroup = new Map<string, string[]>();
        for (const m of page) {
          const k = groupKey(m.course, m.year, m.semester);
          let codes = byGroup.get(k);
          if (!codes) byGroup.set(k, (codes = []));
          codes.push(m.student);
        }
        const pipe = this.redis.pipeline();
        for (const [k, codes] of byGroup) {
          pipe.sadd(`${tmp}${k}`, ...codes);
          // Leftovers of an interrupted rebuild expire on their own.
          pipe.expire(`${tmp}${k}`, 3600);
        }
        const res = await pipe.exec();
        const failed = res?.find(([err]) => err);
        if (!res || failed) throw failed?.[0] ?? new Error('counter rebuild failed');
      }
      const multi = this.redis.multi();
      multi.set(
        this.totalKey,
        groups.reduce((s, g) => s + g.records, 0),
      );
      multi.del(this.recordsKey);
      if (groups.length) {
        multi.hset(
          this.recordsKey,
          Object.fromEntries(groups.map((g) => [groupKey(g.course, g.year, g.semester), g.records])),
        );
      }
      const keep = new Set(groups.map((g) => groupKey(g.course, g.year, g.semester)));
      for (const k of staleGroups) if (!keep.has(k)) multi.del(this.studentsKey(k));
      for (const g of groups) {
        const k = groupKey(g.course, g.year, g.semester);
        // A group whose students were all superseded never happens (effective rows are not
        // deleted), but an empty set has no key to rename.
        if (g.students > 0) multi.rename(`${tmp}${k}`, this.studentsKey(k));
        else multi.del(this.studentsKey(k));
      }
      const res = await multi.exec();
      if (!res || res.some(([err]) => err)) throw new Error('counter rebuild transaction failed');
    } catch (err) {
      this.dirtyFlag = true;
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }
}

function splitGroup(k: string): [string, number, number] {
  const [course, year, semester] = k.split('|');
  return [course, Number(year), Number(semester)];
}
