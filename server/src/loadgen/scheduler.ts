import { performance } from 'node:perf_hooks';
import type { Stats } from './stats.ts';

/** A request sent this long after its scheduled time counts as late (open model). */
export const LATE_AFTER_MS = 10;

export interface DrivePlan {
  model: 'closed' | 'open';
  users: number;
  rampMs: number;
  rate: number | undefined;
  maxInflight: number;
  durationMs: number | undefined;
  requests: number | undefined;
  /** Open model: a request still unsent this long after its scheduled time is dropped. */
  dropAfterMs: number;
}

/**
 * Sends request number `index`. `scheduledAt` is the performance.now() time the request was due;
 * latency is measured from it, so waiting for a free slot shows up in the numbers. Never rejects.
 */
export type Issue = (index: number, scheduledAt: number, late: boolean) => Promise<void>;

/** Lets a run be stopped early (Ctrl-C) and wakes sleepers when it is. */
export class StopSignal {
  stopped = false;
  private readonly waiters = new Set<() => void>();

  stop(): void {
    this.stopped = true;
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  /**
   * Resolves after `ms`, as soon as the run is stopped, or when the function handed to `onWake`
   * is called, whichever comes first.
   */
  sleep(ms: number, onWake?: (wake: () => void) => void): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, Math.max(0, ms));
      this.waiters.add(done);
      onWake?.(done);
    });
  }
}

/**
 * Closed model: `users` virtual users, each sending its next request as soon as the previous one
 * is answered; user i starts at ramp × i / users. Latency runs from the actual send.
 */
async function driveClosed(plan: DrivePlan, stats: Stats, issue: Issue, stop: StopSignal): Promise<void> {
  const t0 = stats.startPerf;
  const endAt = plan.durationMs === undefined ? Infinity : t0 + plan.durationMs;
  let claimed = 0;
  const more = () =>
    !stop.stopped && performance.now() < endAt && (plan.requests === undefined || claimed < plan.requests);
  const user = async (i: number) => {
    const startAt = t0 + (plan.rampMs * i) / plan.users;
    const wait = startAt - performance.now();
    if (wait > 0) await stop.sleep(wait);
    while (more()) {
      const k = claimed++;
      await issue(k, performance.now(), false);
    }
  };
  await Promise.all(Array.from({ length: plan.users }, (_, i) => user(i)));
}

/**
 * Open model: request k is due at t0 + k / rate whatever happened to earlier ones (arrivals do not
 * wait for answers). In flight is capped at maxInflight; a request that cannot go out on time
 * waits for a slot and is counted late, and its latency still runs from when it was due, so a
 * slow server cannot hide behind a slowed-down client (no coordinated omission). Requests still
 * waiting dropAfterMs after they were due, or when the run ends, are counted as dropped.
 */
async function driveOpen(plan: DrivePlan, stats: Stats, issue: Issue, stop: StopSignal): Promise<void> {
  const rate = plan.rate!;
  const t0 = stats.startPerf;
  const interval = 1000 / rate;
  const byDuration = plan.durationMs === undefined ? Infinity : Math.floor((plan.durationMs * rate) / 1000);
  const total = Math.min(plan.requests ?? Infinity, byDuration);
  const endAt = plan.durationMs === undefined ? Infinity : t0 + plan.durationMs;
  let next = 0;
  let inflight = 0;
  let slotWaiter: (() => void) | undefined;
  const wakeSlot = () => {
    const w = slotWaiter;
    slotWaiter = undefined;
    w?.();
  };
  const pending = new Set<Promise<void>>();
  const dueBy = (t: number) => Math.min(total, Math.floor((t - t0) / interval) + 1);

  while (next < total && !stop.stopped) {
    const now = performance.now();
    if (now >= endAt) break;
    const due = dueBy(now);
    // Whatever has waited too long for a slot is given up on, and counted.
    const stale = Math.min(due, dueBy(now - plan.dropAfterMs));
    if (stale > next) {
      stats.droppedRequests(stale - next, now);
      next = stale;
    }
    while (next < due && inflight < plan.maxInflight) {
      const scheduledAt = t0 + next * interval;
      inflight++;
      const p = issue(next, scheduledAt, now - scheduledAt > LATE_AFTER_MS).then(() => {
        inflight--;
        pending.delete(p);
        wakeSlot();
      });
      pending.add(p);
      next++;
    }
    if (next >= total) break;
    if (next < due) {
      // At the in-flight cap: sleep until an answer frees a slot (or the next drop deadline).
      const t = performance.now();
      const nextDrop = t0 + next * interval + plan.dropAfterMs - t;
      await stop.sleep(Math.max(1, Math.min(nextDrop, endAt - t)), (wake) => (slotWaiter = wake));
      slotWaiter = undefined;
    } else {
      const wait = t0 + next * interval - performance.now();
      // Timers fire on whole milliseconds; at high rates each wake-up sends a small burst.
      await stop.sleep(Math.max(1, Math.min(wait, endAt - performance.now())));
    }
  }
  // Requests that came due but were never sent (the run ended or was stopped) are dropped.
  const now = performance.now();
  const dueAtEnd = stop.stopped ? dueBy(now) : Math.min(total, dueBy(Math.min(now, endAt)));
  if (dueAtEnd > next) stats.droppedRequests(dueAtEnd - next, now);
  await Promise.all(pending);
}

export async function drive(plan: DrivePlan, stats: Stats, issue: Issue, stop: StopSignal): Promise<void> {
  if (plan.model === 'closed') await driveClosed(plan, stats, issue, stop);
  else await driveOpen(plan, stats, issue, stop);
}
