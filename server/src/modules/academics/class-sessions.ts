import type { Db } from '../../platform/db/database.ts';
import { isUniqueViolation } from '../../platform/db/database.ts';
import type { ClassSessionStatus } from '../../platform/db/tables/academics.ts';
import { AppError, badRequest, conflict, notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { toIso } from '../../platform/time.ts';
import type { Actor } from '../identity/actor.ts';
import type { AcademicsRepository, ClassSessionRow, OfferingRow } from './academics.repository.ts';
import type { SessionOut } from './academics.schemas.ts';
import type { AcademicsService } from './academics.service.ts';
import { addDays, daysBetween, expandSchedule, localInstant, parseSchedule } from './schedule.ts';

export const MAX_GENERATE_DAYS = 200;
const MAX_SESSION_MS = 24 * 3_600_000;

export const toSessionOut = (s: ClassSessionRow): SessionOut => ({
  id: s.id,
  offeringId: s.offering_id,
  startsAt: toIso(s.starts_at)!,
  endsAt: toIso(s.ends_at)!,
  lateAfterMinutes: Number(s.late_after_minutes),
  status: s.status,
});

const isDateOnly = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v);

/** A range bound from a query: a bare day is that day's local midnight; `to` then includes the whole day. */
export function rangeBound(v: string | undefined, end: boolean): number | undefined {
  if (v === undefined) return undefined;
  if (isDateOnly(v)) return localInstant(end ? addDays(v, 1) : v);
  return Date.parse(v);
}

function checkTimes(startsAt: number, endsAt: number): void {
  if (!(endsAt > startsAt)) throw badRequest('invalid_times', 'endsAt must be after startsAt');
  if (endsAt - startsAt > MAX_SESSION_MS) throw badRequest('invalid_times', 'A session may last at most 24 hours');
}

/** Class sessions: one meeting of an offering, generated from its weekly schedule or added by hand. */
export class ClassSessions {
  constructor(
    private readonly repo: AcademicsRepository,
    private readonly db: Db,
    private readonly academics: AcademicsService,
  ) {}

  find(id: string): Promise<ClassSessionRow | undefined> {
    return this.repo.findSessionById(id);
  }

  findAt(offeringId: string, at: number): Promise<ClassSessionRow | undefined> {
    return this.repo.findSessionAt(offeringId, at);
  }

  async get(actor: Actor, id: string): Promise<ClassSessionRow> {
    const s = await this.repo.findSessionById(id);
    if (!s) throw notFound('Session');
    await this.academics.assertCanViewOffering(actor, s.offering_id);
    return s;
  }

  async assertCanManage(actor: Actor, id: string): Promise<{ session: ClassSessionRow; offering: OfferingRow }> {
    const s = await this.repo.findSessionById(id);
    if (!s) throw notFound('Session');
    const offering = await this.academics.assertCanManageOffering(actor, s.offering_id);
    return { session: s, offering };
  }

  async list(
    actor: Actor,
    offeringId: string,
    f: {
      from?: string | undefined;
      to?: string | undefined;
      status?: ClassSessionStatus | undefined;
      order: 'asc' | 'desc';
      limit: number;
      offset: number;
    },
  ) {
    await this.academics.assertCanViewOffering(actor, offeringId);
    return this.repo.listSessions(offeringId, {
      from: rangeBound(f.from, false),
      to: rangeBound(f.to, true),
      status: f.status,
      order: f.order,
      limit: f.limit,
      offset: f.offset,
    });
  }

  async create(
    actor: Actor,
    offeringId: string,
    input: { startsAt: string; endsAt: string; lateAfterMinutes?: number | undefined },
  ): Promise<ClassSessionRow> {
    const o = await this.academics.assertCanManageOffering(actor, offeringId);
    const startsAt = Date.parse(input.startsAt);
    const endsAt = Date.parse(input.endsAt);
    checkTimes(startsAt, endsAt);
    const id = newId();
    try {
      await this.repo.insertSession({
        id,
        offering_id: o.id,
        starts_at: startsAt,
        ends_at: endsAt,
        late_after_minutes: input.lateAfterMinutes ?? Number(o.late_after_minutes),
        status: 'scheduled',
        opened_at: null,
        closed_at: null,
        created_at: Date.now(),
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('session_exists', 'This offering already has a session at that time');
      throw err;
    }
    return (await this.repo.findSessionById(id))!;
  }

  /**
   * Creates the meetings of the weekly schedule between two days (both included) that do not
   * exist yet. Regenerating is safe: (offering, starts_at) is unique, and meetings already there,
   * including ones moved or opened since, are counted as existing and left alone.
   */
  async generate(
    actor: Actor,
    offeringId: string,
    from: string,
    to: string,
  ): Promise<{ created: number; existing: number }> {
    const o = await this.academics.assertCanManageOffering(actor, offeringId);
    if (to < from) throw badRequest('invalid_range', '"to" must not be before "from"');
    if (daysBetween(from, to) + 1 > MAX_GENERATE_DAYS) {
      throw badRequest('range_too_long', `Generate at most ${MAX_GENERATE_DAYS} days at a time`);
    }
    const planned = expandSchedule(parseSchedule(o.schedule), from, to);
    if (planned.length === 0) return { created: 0, existing: 0 };
    const lo = planned[0].startsAt;
    const hi = planned[planned.length - 1].startsAt;
    const attempt = () =>
      this.db.kysely.transaction().execute(async (trx) => {
        const repo = this.repo.withExecutor(trx);
        const existing = new Set(await repo.listSessionStarts(o.id, lo, hi));
        const t = Date.now();
        const missing = planned
          .filter((p) => !existing.has(p.startsAt))
          .map((p) => ({
            id: newId(t),
            offering_id: o.id,
            starts_at: p.startsAt,
            ends_at: p.endsAt,
            late_after_minutes: Number(o.late_after_minutes),
            status: 'scheduled' as const,
            opened_at: null,
            closed_at: null,
            created_at: t,
          }));
        await repo.insertSessions(missing);
        return { created: missing.length, existing: planned.length - missing.length };
      });
    try {
      return await attempt();
    } catch (err) {
      // Two generations raced; the loser's transaction rolled back, and a second look sees the winner's rows.
      if (isUniqueViolation(err)) return attempt();
      throw err;
    }
  }

  async update(
    actor: Actor,
    id: string,
    patch: {
      status?: ClassSessionStatus | undefined;
      lateAfterMinutes?: number | undefined;
      startsAt?: string | undefined;
      endsAt?: string | undefined;
    },
  ): Promise<ClassSessionRow> {
    const { session: s } = await this.assertCanManage(actor, id);
    const startsAt = patch.startsAt !== undefined ? Date.parse(patch.startsAt) : Number(s.starts_at);
    const endsAt = patch.endsAt !== undefined ? Date.parse(patch.endsAt) : Number(s.ends_at);
    if (patch.startsAt !== undefined || patch.endsAt !== undefined) checkTimes(startsAt, endsAt);
    const t = Date.now();
    let statusPatch: { status?: ClassSessionStatus; opened_at?: number | null; closed_at?: number | null } = {};
    if (patch.status !== undefined && patch.status !== s.status) {
      if (patch.status === 'scheduled') {
        throw new AppError('invalid_status_change', 409, 'A session that was opened cannot go back to scheduled');
      }
      statusPatch =
        patch.status === 'open'
          ? { status: 'open', opened_at: s.opened_at ?? t, closed_at: null }
          : { status: 'closed', opened_at: s.opened_at ?? t, closed_at: t };
    }
    const changes = {
      ...statusPatch,
      ...(patch.lateAfterMinutes !== undefined && { late_after_minutes: patch.lateAfterMinutes }),
      ...(patch.startsAt !== undefined && { starts_at: startsAt }),
      ...(patch.endsAt !== undefined && { ends_at: endsAt }),
    };
    try {
      await this.repo.updateSession(id, changes);
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('session_exists', 'This offering already has a session at that time');
      throw err;
    }
    return (await this.repo.findSessionById(id))!;
  }

  /** Only a session never opened can be deleted: an opened one may already hold attendance. */
  async delete(actor: Actor, id: string): Promise<void> {
    const { session: s } = await this.assertCanManage(actor, id);
    if (s.status !== 'scheduled') {
      throw conflict('session_in_use', 'This session was opened; close it instead of deleting it');
    }
    await this.repo.deleteSession(id);
  }
}
