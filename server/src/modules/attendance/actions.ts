import type { ActionKind } from '../../platform/db/tables/attendance.ts';

/**
 * The actions timeline of a session, derived from every frame the camera took: raised hands,
 * stretches of not facing the front, and long gaps in which a present student was not seen
 * although the camera was looking. Derived as a whole each time, so reprocessing never doubles
 * an event.
 */

export interface Sighting {
  studentId: string;
  at: number;
  handRaised: boolean;
  /** camera | left | right | away | unknown, or null when nothing was said. */
  facing: string | null;
}

export interface ActionEvent {
  studentId: string;
  kind: ActionKind;
  at: number;
  endsAt: number | null;
  details: Record<string, unknown>;
}

export interface ActionOptions {
  /** A present student unseen (while the camera looked) for at least this long. */
  gapMs: number;
  /** Not facing the front for at least this long. */
  facingAwayMs: number;
}

const NOT_FRONT = new Set(['left', 'right', 'away']);

/**
 * `frames` are the times of every frame of the session (sorted); `sightings` every accepted face.
 * Runs are counted over camera frames: a run of raised hands ends at the first frame that shows
 * the student with the hand down or does not show them at all.
 */
export function deriveActions(frames: number[], sightings: Sighting[], o: ActionOptions): ActionEvent[] {
  const times = [...new Set(frames)].sort((a, b) => a - b);
  const byStudent = new Map<string, Map<number, Sighting>>();
  for (const s of sightings) {
    let m = byStudent.get(s.studentId);
    if (!m) byStudent.set(s.studentId, (m = new Map()));
    const prev = m.get(s.at);
    // Two faces of one student in one frame cannot both be right; the one with a raised hand wins.
    if (!prev || (s.handRaised && !prev.handRaised)) m.set(s.at, s);
  }
  const out: ActionEvent[] = [];
  for (const [studentId, seen] of byStudent) {
    const mine = times.filter((t) => t >= Math.min(...seen.keys()));
    runs(
      mine,
      (t) => seen.get(t)?.handRaised === true,
      (start, end, count) => {
        out.push({ studentId, kind: 'hand_raised', at: start, endsAt: end, details: { frames: count } });
      },
    );
    runs(
      mine,
      (t) => NOT_FRONT.has(seen.get(t)?.facing ?? ''),
      (start, end, count) => {
        if (end - start >= o.facingAwayMs) {
          out.push({ studentId, kind: 'facing_away', at: start, endsAt: end, details: { frames: count } });
        }
      },
    );
    // Gaps: between consecutive sightings, and after the last one while the camera kept looking.
    const at = [...seen.keys()].sort((a, b) => a - b);
    for (let i = 0; i < at.length; i++) {
      const from = at[i];
      const next = at[i + 1];
      const lookedUntil = next ?? lastFrameAfter(times, from);
      if (lookedUntil === null) continue;
      const missed = times.filter((t) => t > from && t < (next ?? Infinity)).length;
      if (lookedUntil - from >= o.gapMs && missed > 0) {
        out.push({
          studentId,
          kind: 'not_seen',
          at: from,
          endsAt: next ?? null,
          details: { framesMissed: missed, ...(next === undefined && { untilEnd: true, lastFrameAt: lookedUntil }) },
        });
      }
    }
  }
  return out.sort((a, b) => a.at - b.at || a.studentId.localeCompare(b.studentId));
}

function lastFrameAfter(times: number[], t: number): number | null {
  const last = times[times.length - 1];
  return last !== undefined && last > t ? last : null;
}

/** Calls `emit` for each maximal run of consecutive times where `on` holds. */
function runs(
  times: number[],
  on: (t: number) => boolean,
  emit: (start: number, end: number, count: number) => void,
): void {
  let start: number | null = null;
  let end = 0;
  let count = 0;
  for (const t of times) {
    if (on(t)) {
      if (start === null) start = t;
      end = t;
      count++;
    } else if (start !== null) {
      emit(start, end, count);
      start = null;
      count = 0;
    }
  }
  if (start !== null) emit(start, end, count);
}

/** Counts per kind for one student, with the times of each raised hand. */
export function summarizeActions(events: ActionEvent[]): Record<ActionKind, { count: number; at: number[] }> {
  const out: Record<ActionKind, { count: number; at: number[] }> = {
    hand_raised: { count: 0, at: [] },
    facing_away: { count: 0, at: [] },
    not_seen: { count: 0, at: [] },
  };
  for (const e of events) {
    out[e.kind].count++;
    out[e.kind].at.push(e.at);
  }
  return out;
}
