import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { requireRole, requireScope, type Actor } from '../modules/identity/actor.ts';
import { AppError } from '../platform/errors.ts';
import type { Realtime } from './sockets.ts';

/** Absolute counters of one course in one semester, after a commit. */
export interface GroupCounters {
  course: string;
  year: number;
  semester: number;
  records: number;
  students: number;
}

export interface GradeCounters {
  total: number;
  groups: GroupCounters[];
}

export const GRADES_ROOM = 'grades';
export const COUNTERS_EVENT = 'grades:counters';
export const GROUP_EVENT = 'grades:group';

/** `grades:SO1:2025-1`: the live counters of course SO1 in the first semester of 2025. */
export const groupRoom = (g: { course: string; year: number; semester: number }): string =>
  `${GRADES_ROOM}:${g.course}:${g.year}-${g.semester}`;

const GROUP_KEY = /^([A-Za-z0-9_.-]{1,32}):(\d{4})-(\d{1,2})$/;

export function parseGroupKey(key: string): { course: string; year: number; semester: number } | undefined {
  const m = GROUP_KEY.exec(key);
  return m ? { course: m[1], year: Number(m[2]), semester: Number(m[3]) } : undefined;
}

const committed = z.object({
  total: z.number(),
  groups: z.array(
    z.object({
      course: z.string(),
      year: z.number(),
      semester: z.number(),
      records: z.number(),
      students: z.number(),
    }),
  ),
});

const groupId = (g: GroupCounters) => `${g.course}\u0000${g.year}\u0000${g.semester}`;

/**
 * Counters only grow (records are append-only), so when updates meet in one coalescing window,
 * or arrive from several instances out of order, the larger value is the newer one.
 */
function newer(a: GroupCounters, b: GroupCounters): GroupCounters {
  return { ...b, records: Math.max(a.records, b.records), students: Math.max(a.students, b.students) };
}

/** Merges two `grades:counters` updates: the groups of both, each at its newest value. */
export function mergeCounters(pending: unknown, next: unknown): unknown {
  const a = pending as GradeCounters;
  const b = next as GradeCounters;
  const groups = new Map(a.groups.map((g) => [groupId(g), g]));
  for (const g of b.groups) {
    const old = groups.get(groupId(g));
    groups.set(groupId(g), old ? newer(old, g) : g);
  }
  return { total: Math.max(a.total, b.total), groups: [...groups.values()] };
}

export function mergeGroup(pending: unknown, next: unknown): unknown {
  return newer(pending as GroupCounters, next as GroupCounters);
}

function authorizeGrades(actor: Actor, _room: string, key: string): boolean {
  requireRole(actor, 'admin', 'teacher');
  requireScope(actor, 'grades:read');
  if (key !== '' && !parseGroupKey(key)) {
    throw new AppError('invalid_room', 400, 'A grades room is "grades" or "grades:<course>:<year>-<term>"');
  }
  return true;
}

/**
 * Feeds the grades rooms from the `grades.committed` bus event. `grades` receives
 * `grades:counters` with the overall total and the groups that changed since its previous emit
 * (a joining socket first receives every group); `grades:<course>:<year>-<term>` receives
 * `grades:group` with that group's counters.
 */
export function startGradesFeed(
  ctx: AppContext,
  realtime: Realtime,
  source: { counters(): Promise<GradeCounters> },
): () => void {
  ctx.rooms.registerRoomAuthorizer(GRADES_ROOM, authorizeGrades);
  ctx.rooms.registerRoomSnapshot(GRADES_ROOM, async (_room, key) => {
    const counters = await source.counters();
    if (key === '') return { event: COUNTERS_EVENT, payload: counters };
    const want = parseGroupKey(key)!;
    const g = counters.groups.find(
      (c) => c.course === want.course && c.year === want.year && c.semester === want.semester,
    );
    return { event: GROUP_EVENT, payload: g ?? { ...want, records: 0, students: 0 } };
  });

  let lastTotal = -1;
  const emit = ({ total, groups }: GradeCounters) => {
    lastTotal = Math.max(lastTotal, total);
    realtime.emitLocal(GRADES_ROOM, COUNTERS_EVENT, { total, groups }, mergeCounters);
    for (const g of groups) realtime.emitLocal(groupRoom(g), GROUP_EVENT, g, mergeGroup);
  };
  const off = ctx.bus.subscribe('grades.committed', (msg) => {
    const parsed = committed.safeParse(msg);
    if (!parsed.success) {
      ctx.logger.warn({ issues: parsed.error.issues.slice(0, 3) }, 'ignored a malformed grades.committed event');
      return;
    }
    emit(parsed.data);
  });
  // Pub/sub delivers at most once: an update published while this instance's subscription was
  // reconnecting after a Redis outage (often the very reconcile that fixed the counters) is gone,
  // and an idle dashboard would show stale numbers for good. Now and then, while anyone watches,
  // compare with the counters themselves and send them when this instance has fallen behind.
  const resync = setInterval(() => {
    if ((realtime.io.of('/').adapter.rooms.get(GRADES_ROOM)?.size ?? 0) === 0) return;
    source.counters().then(
      (counters) => {
        if (counters.total > lastTotal) emit(counters);
      },
      () => {}, // Redis still away: the next tick tries again.
    );
  }, RESYNC_EVERY_MS);
  resync.unref();
  return () => {
    clearInterval(resync);
    off();
  };
}

const RESYNC_EVERY_MS = 5_000;
