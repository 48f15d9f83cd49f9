import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorFromUser } from '../modules/identity/identity.service.ts';
import { IN_CI, REDIS_TEST_URL } from '../test/databases.ts';
import { buildToken, buildUser, signedIn } from '../test/factories.ts';
import type { GradeCounters, GroupCounters } from './grades-feed.ts';
import {
  createLiveInstance,
  createLiveTestApp,
  join,
  nextEvent,
  recorded,
  openSocket,
  record,
  type LiveTestApp,
} from './test-support.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

let seq = 0;
function grade(course: string, student: number, score = 70) {
  return {
    student_code: `S${student}`,
    student_name: `Student ${student}`,
    course_code: course,
    semester: 1 as const,
    year: 2025,
    score,
    idempotency_key: `feed-test-${Date.now()}-${seq++}`,
  };
}

async function ingest(t: LiveTestApp, token: string, records: object | object[]): Promise<void> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/grades',
    headers: { authorization: `Bearer ${token}` },
    payload: records,
  });
  expect(res.statusCode, res.body).toBe(201);
}

const groupOf = (c: GradeCounters, course: string) => c.groups.find((g) => g.course === course);

describe('grades rooms on one instance', () => {
  let t: LiveTestApp;
  let writeToken: string;
  let readToken: string;

  beforeAll(async () => {
    t = await createLiveTestApp();
    const robot = await buildUser(t.ctx, { role: 'admin' });
    writeToken = await buildToken(t.ctx, robot.user.id, ['grades:write']);
    readToken = await buildToken(t.ctx, robot.user.id, ['grades:read']);
    await ingest(t, writeToken, [grade('SO1', 1), grade('SO1', 2), grade('BD1', 1)]);
  });
  afterAll(async () => t.close());

  it('lets staff and grades:read tokens join, and nobody else', async () => {
    const student = await signedIn(t.app, t.ctx, 'student');
    const teacher = await signedIn(t.app, t.ctx, 'teacher');
    const s = await openSocket(t.url, { cookie: student.headers.cookie });
    const w = await openSocket(t.url, { token: writeToken });
    const tc = await openSocket(t.url, { cookie: teacher.headers.cookie });
    const r = await openSocket(t.url, { token: readToken });
    try {
      expect(await join(s, 'grades')).toMatchObject({ ok: false, error: 'forbidden' });
      expect(await join(s, 'grades:SO1:2025-1')).toMatchObject({ ok: false, error: 'forbidden' });
      expect(await join(w, 'grades')).toMatchObject({ ok: false, error: 'forbidden' });
      expect(await join(tc, 'grades')).toEqual({ ok: true });
      expect(await join(r, 'grades:SO1:2025-1')).toEqual({ ok: true });
      expect(await join(r, 'grades:SO1')).toMatchObject({ ok: false, error: 'invalid_room' });
      expect(await join(r, 'grades:SO1:2025')).toMatchObject({ ok: false, error: 'invalid_room' });
    } finally {
      for (const x of [s, w, tc, r]) x.close();
    }
  });

  it('sends the current counters as soon as a socket joins', async () => {
    const socket = await openSocket(t.url, { token: readToken });
    try {
      const snapshot = nextEvent<GradeCounters>(socket, 'grades:counters');
      expect(await join(socket, 'grades')).toEqual({ ok: true });
      const c = await snapshot;
      expect(c).toEqual(await t.ctx.grades.counters());
      expect(groupOf(c, 'SO1')).toEqual({ course: 'SO1', year: 2025, semester: 1, records: 2, students: 2 });
      expect(groupOf(c, 'BD1')).toMatchObject({ records: 1, students: 1 });

      const group = nextEvent<GroupCounters>(socket, 'grades:group');
      expect(await join(socket, 'grades:SO1:2025-1')).toEqual({ ok: true });
      expect(await group).toEqual({ course: 'SO1', year: 2025, semester: 1, records: 2, students: 2 });
      // A group nobody has graded yet starts at zero.
      const empty = nextEvent<GroupCounters>(socket, 'grades:group');
      expect(await join(socket, 'grades:ZZ9:2031-2')).toEqual({ ok: true });
      expect(await empty).toEqual({ course: 'ZZ9', year: 2031, semester: 2, records: 0, students: 0 });
    } finally {
      socket.close();
    }
  });

  it('coalesces a second of commits into a few emits per room, ending on the exact values', async () => {
    const socket = await openSocket(t.url, { token: readToken });
    const quiet = await openSocket(t.url, { token: readToken });
    try {
      const snap = nextEvent<GradeCounters>(socket, 'grades:counters');
      expect(await join(socket, 'grades')).toEqual({ ok: true });
      const before = (await snap).total;
      expect(await join(socket, 'grades:CO1:2025-1')).toEqual({ ok: true });
      expect(await join(quiet, 'grades:BD1:2025-1')).toEqual({ ok: true });
      await sleep(300);
      const counters = record<GradeCounters>(socket, 'grades:counters');
      const groups = record<GroupCounters>(socket, 'grades:group');
      const untouched = record<GroupCounters>(quiet, 'grades:group');

      // One grade per request, each its own commit, for about a second.
      const started = performance.now();
      let n = 0;
      while (performance.now() - started < 1000) {
        n++;
        await ingest(t, writeToken, grade('CO1', n, 40 + (n % 60)));
        await sleep(10);
      }
      // The last emit may already have arrived during the final request.
      await recorded(groups, (g) => g.students === n);
      await sleep(600);
      const elapsed = performance.now() - started;

      expect(n).toBeGreaterThan(20);
      // Leading emit, then at most one per 250 ms window while commits kept coming.
      const budget = 2 + Math.ceil(elapsed / 250);
      expect(counters.length).toBeGreaterThanOrEqual(2);
      expect(counters.length).toBeLessThanOrEqual(budget);
      expect(groups.length).toBeLessThanOrEqual(budget);
      expect(counters.length).toBeLessThan(n / 3);
      // The last emit carries the final values.
      expect(counters.at(-1)!.payload.total).toBe(before + n);
      expect(groupOf(counters.at(-1)!.payload, 'CO1')).toMatchObject({ records: n, students: n });
      expect(groups.at(-1)!.payload).toEqual({ course: 'CO1', year: 2025, semester: 1, records: n, students: n });
      // Values only grow from one emit to the next.
      const totals = counters.map((c) => c.payload.total);
      expect([...totals].sort((a, b) => a - b)).toEqual(totals);
      // Updates only carry the groups that changed, and other group rooms hear nothing.
      expect(counters.every((c) => c.payload.groups.every((g) => g.course === 'CO1'))).toBe(true);
      expect(untouched).toHaveLength(0);
    } finally {
      socket.close();
      quiet.close();
    }
  });

  it('reaches sockets of the room with edits made in the gradebook path as well', async () => {
    const socket = await openSocket(t.url, { token: readToken });
    try {
      expect(await join(socket, 'grades:UI1:2025-1')).toEqual({ ok: true });
      const update = nextEvent<GroupCounters>(socket, 'grades:group', (g) => g.students === 1);
      const teacher = await buildUser(t.ctx, { role: 'teacher' });
      await t.ctx.grades.append(actorFromUser(teacher.user, 'session'), [grade('UI1', 7)], 'ui');
      expect(await update).toEqual({ course: 'UI1', year: 2025, semester: 1, records: 1, students: 1 });
    } finally {
      socket.close();
    }
  });
});

const redisUp = await new Promise<boolean>((resolve) => {
  const u = new URL(REDIS_TEST_URL);
  const s = net.connect(Number(u.port || 6379), u.hostname);
  s.once('connect', () => (s.destroy(), resolve(true)));
  s.once('error', () => resolve(false));
  setTimeout(() => (s.destroy(), resolve(false)), 2000);
});

describe.skipIf(!redisUp && !IN_CI)('grades rooms across two instances (Redis)', () => {
  let a: LiveTestApp;
  let b: LiveTestApp;
  // Counters under keys of this run only, so parallel test files never share them.
  const prefix = `aula:test:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;

  beforeAll(async () => {
    a = await createLiveTestApp({ redis: true, env: { GRADES_REDIS_PREFIX: prefix } });
    b = await createLiveInstance({
      DATABASE_URL: a.config.databaseUrl,
      REDIS_URL: REDIS_TEST_URL,
      GRADES_REDIS_PREFIX: prefix,
    });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    const r = new Redis(REDIS_TEST_URL);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.del(...keys);
    r.disconnect();
  });

  it('delivers a grade ingested on A to a socket connected to B, once', async () => {
    const robot = await buildUser(a.ctx, { role: 'admin' });
    const writeToken = await buildToken(a.ctx, robot.user.id, ['grades:write']);
    const readToken = await buildToken(a.ctx, robot.user.id, ['grades:read']);
    const onB = await openSocket(b.url, { token: readToken });
    const onA = await openSocket(a.url, { token: readToken });
    try {
      const course = `RX${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
      expect(await join(onB, 'grades')).toEqual({ ok: true });
      expect(await join(onB, `grades:${course}:2025-1`)).toEqual({ ok: true });
      expect(await join(onA, `grades:${course}:2025-1`)).toEqual({ ok: true });
      await sleep(300);
      const bGroups = record<GroupCounters>(onB, 'grades:group');
      const aGroups = record<GroupCounters>(onA, 'grades:group');
      const bCounters = nextEvent<GradeCounters>(onB, 'grades:counters', (c) =>
        c.groups.some((g) => g.course === course),
      );

      await ingest(a, writeToken, [grade(course, 1), grade(course, 2), grade(course, 2, 90)]);

      const c = await bCounters;
      expect(groupOf(c, course)).toEqual({ course, year: 2025, semester: 1, records: 3, students: 2 });
      const mine = (xs: { payload: GroupCounters }[]) => xs.filter((x) => x.payload.course === course);
      await waitFor(() => mine(bGroups).length > 0 && mine(aGroups).length > 0);
      await sleep(600);
      // Each socket hears the commit exactly once, whichever instance it is connected to.
      expect(mine(bGroups).map((x) => x.payload)).toEqual([
        { course, year: 2025, semester: 1, records: 3, students: 2 },
      ]);
      expect(mine(aGroups).map((x) => x.payload)).toEqual([
        { course, year: 2025, semester: 1, records: 3, students: 2 },
      ]);
      // Both instances read the same counters.
      expect(groupOf(await b.ctx.grades.counters(), course)).toEqual(groupOf(await a.ctx.grades.counters(), course));
    } finally {
      onA.close();
      onB.close();
    }
  });
});
