import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { drive, type DrivePlan, StopSignal } from './scheduler.ts';
import { Stats } from './stats.ts';

const plan = (p: Partial<DrivePlan>): DrivePlan => ({
  model: 'open',
  users: 1,
  rampMs: 0,
  rate: undefined,
  maxInflight: 1000,
  durationMs: undefined,
  requests: undefined,
  dropAfterMs: 10_000,
  ...p,
});

/** A stand-in transport that answers after `serviceMs`, recording what the scheduler asked. */
function transport(stats: Stats, serviceMs: number) {
  const calls: { index: number; scheduledAt: number; sentAt: number; late: boolean }[] = [];
  const issue = async (index: number, scheduledAt: number, late: boolean) => {
    const sentAt = performance.now();
    calls.push({ index, scheduledAt, sentAt, late });
    stats.sent('rest', late, sentAt);
    await sleep(serviceMs);
    const now = performance.now();
    stats.record({ ok: true, grades: 1 }, now - scheduledAt, now);
  };
  return { calls, issue };
}

describe('open model scheduling', () => {
  it('schedules request k at start + k / rate and sends each one once', async () => {
    const stats = new Stats(performance.now(), Date.now());
    const t = transport(stats, 2);
    await drive(plan({ rate: 400, requests: 200 }), stats, t.issue, new StopSignal());
    expect(t.calls.map((c) => c.index)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    for (const c of t.calls) {
      expect(c.scheduledAt).toBeCloseTo(stats.startPerf + c.index * 2.5, 6);
      // Never early.
      expect(c.sentAt).toBeGreaterThanOrEqual(c.scheduledAt - 0.001);
    }
    expect(stats.requests).toBe(200);
    expect(stats.dropped).toBe(0);
  });

  it('keeps arrivals going while answers are slow, and counts latency from the scheduled time', async () => {
    // 100 arrivals/s for 1 s against a server that needs 50 ms and can take 2 at a time (40/s):
    // requests queue for a slot, are sent late, and their latency includes the wait.
    const stats = new Stats(performance.now(), Date.now());
    const t = transport(stats, 50);
    await drive(plan({ rate: 100, durationMs: 1000, maxInflight: 2 }), stats, t.issue, new StopSignal());
    expect(stats.requests + stats.dropped).toBe(100);
    expect(stats.dropped).toBeGreaterThan(30);
    expect(stats.late).toBeGreaterThan(10);
    const late = t.calls.filter((c) => c.late);
    for (const c of late) expect(c.sentAt - c.scheduledAt).toBeGreaterThan(10);
    // The recorded latency of the last request sent covers its whole wait, not just its 50 ms.
    const last = t.calls[t.calls.length - 1];
    expect(stats.total.maxValue / 1000).toBeGreaterThanOrEqual(last.sentAt - last.scheduledAt + 50 - 1);
    expect(stats.total.maxValue / 1000).toBeGreaterThan(200);
  });

  it('drops what waited longer than the drop deadline instead of sending it', async () => {
    const stats = new Stats(performance.now(), Date.now());
    const t = transport(stats, 100);
    await drive(plan({ rate: 200, requests: 60, maxInflight: 1, dropAfterMs: 50 }), stats, t.issue, new StopSignal());
    expect(stats.requests + stats.dropped).toBe(60);
    expect(stats.dropped).toBeGreaterThan(40);
    for (const c of t.calls) expect(c.sentAt - c.scheduledAt).toBeLessThan(50 + 40);
  });

  it('stops early on request and still accounts for every due request', async () => {
    const stats = new Stats(performance.now(), Date.now());
    const t = transport(stats, 1);
    const stop = new StopSignal();
    setTimeout(() => stop.stop(), 200);
    await drive(plan({ rate: 100, durationMs: 60_000 }), stats, t.issue, stop);
    expect(stats.requests).toBeGreaterThan(5);
    expect(stats.requests).toBeLessThan(200);
    expect(stats.inflight).toBe(0);
  });
});

describe('closed model scheduling', () => {
  it('runs exactly the asked number of requests over the users, starting them along the ramp', async () => {
    const stats = new Stats(performance.now(), Date.now());
    const starts = new Map<number, number>();
    let concurrent = 0;
    let maxConcurrent = 0;
    const issue = async (index: number, scheduledAt: number, late: boolean) => {
      stats.sent('rest', late, scheduledAt);
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      starts.set(index, scheduledAt - stats.startPerf);
      await sleep(5);
      concurrent--;
      const now = performance.now();
      stats.record({ ok: true, grades: 1 }, now - scheduledAt, now);
    };
    await drive(plan({ model: 'closed', users: 4, rampMs: 300, requests: 120 }), stats, issue, new StopSignal());
    expect(stats.requests).toBe(120);
    expect(starts.size).toBe(120);
    expect(maxConcurrent).toBe(4);
    // The first request goes at once; the fourth user cannot start before 3/4 of the ramp.
    expect(Math.min(...starts.values())).toBeLessThan(50);
    const firstFour = [...starts.entries()].filter(([, t]) => t >= 225);
    expect(firstFour.length).toBeGreaterThan(0);
  });
});
