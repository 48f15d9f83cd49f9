import type { ScheduleSlot } from './academics.schemas.ts';

/**
 * Calendar arithmetic for weekly schedules.
 *
 * A schedule says "Mondays 07:00–08:40" in the school's wall-clock time, so meetings are
 * turned into instants in the server's local time zone (the process TZ, e.g. TZ=America/Guatemala).
 * A school runs its server where it teaches, and wall-clock times then survive DST changes:
 * a 07:00 class stays at 07:00 on both sides of a clock change. Calendar days themselves
 * ('YYYY-MM-DD') are handled with UTC arithmetic, which has no DST and so never skips or repeats one.
 */

const DAY_MS = 86_400_000;

function parts(date: string): [number, number, number] {
  const [y, m, d] = date.split('-').map(Number);
  return [y, m, d];
}

/** The day `n` days after `date` (n may be negative). */
export function addDays(date: string, n: number): string {
  const [y, m, d] = parts(date);
  return new Date(Date.UTC(y, m - 1, d) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (0 when equal). */
export function daysBetween(from: string, to: string): number {
  const [y1, m1, d1] = parts(from);
  const [y2, m2, d2] = parts(to);
  return Math.round((Date.UTC(y2, m2 - 1, d2) - Date.UTC(y1, m1 - 1, d1)) / DAY_MS);
}

/** ISO weekday of a calendar day: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  const [y, m, d] = parts(date);
  const wd = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return wd === 0 ? 7 : wd;
}

/** The instant of wall-clock time `hhmm` on `date`, in the server's local time zone. */
export function localInstant(date: string, hhmm = '00:00'): number {
  const [y, m, d] = parts(date);
  const [hh, mm] = hhmm.split(':').map(Number);
  return new Date(y, m - 1, d, hh, mm, 0, 0).getTime();
}

/** The local calendar day of an instant. */
export function localDate(ms: number): string {
  const t = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}`;
}

/** Monday and Friday of the (local) week containing `ms`. */
export function schoolWeek(ms: number): { monday: string; friday: string } {
  const today = localDate(ms);
  const monday = addDays(today, 1 - isoWeekday(today));
  return { monday, friday: addDays(monday, 4) };
}

/** Every meeting of a weekly schedule between two days, both included, in start order. */
export function expandSchedule(
  schedule: readonly ScheduleSlot[],
  from: string,
  to: string,
): { startsAt: number; endsAt: number }[] {
  const out: { startsAt: number; endsAt: number }[] = [];
  const days = daysBetween(from, to);
  for (let i = 0; i <= days; i++) {
    const day = addDays(from, i);
    const wd = isoWeekday(day);
    for (const slot of schedule) {
      if (slot.day !== wd) continue;
      out.push({ startsAt: localInstant(day, slot.start), endsAt: localInstant(day, slot.end) });
    }
  }
  return out.sort((a, b) => a.startsAt - b.startsAt);
}

/** Parses a stored schedule column; a damaged value reads as no meetings rather than failing the request. */
export function parseSchedule(json: string): ScheduleSlot[] {
  try {
    const v = JSON.parse(json) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter(
      (s): s is ScheduleSlot =>
        typeof s === 'object' &&
        s !== null &&
        typeof (s as ScheduleSlot).day === 'number' &&
        typeof (s as ScheduleSlot).start === 'string' &&
        typeof (s as ScheduleSlot).end === 'string',
    );
  } catch {
    return [];
  }
}
