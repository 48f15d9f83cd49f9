import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { IN_CI, REDIS_TEST_URL } from '../../test/databases.ts';
import { BullmqQueue } from './bullmq-queue.ts';
import { MemoryQueue } from './memory-queue.ts';
import { backoffDelay, type JobQueue, PermanentJobError, type RunningJob } from './queue.ts';

const redisUp = await new Redis(REDIS_TEST_URL, {
  lazyConnect: true,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
})
  .connect()
  .then(
    () => true,
    () => false,
  );

const prefixes: string[] = [];

function bullmq(overrides: Partial<ConstructorParameters<typeof BullmqQueue>[0]> = {}): BullmqQueue {
  const prefix = `aula:test:q:${randomBytes(4).toString('hex')}`;
  prefixes.push(prefix);
  return new BullmqQueue({
    url: REDIS_TEST_URL,
    prefix,
    attempts: 3,
    backoffMs: 50,
    lockDurationMs: 2000,
    stalledIntervalMs: 500,
    maxStalledCount: 2,
    ...overrides,
  });
}

afterAll(async () => {
  if (!redisUp) return;
  // Every key the tests made lives under their own prefixes.
  const r = new Redis(REDIS_TEST_URL);
  for (const p of prefixes) {
    const keys = await r.keys(`${p}:*`);
    if (keys.length) await r.del(...keys);
  }
  r.disconnect();
});

const until = async (what: string, fn: () => boolean | Promise<boolean>, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const backends: { name: string; make: () => JobQueue; skip: boolean }[] = [
  { name: 'memory', make: () => new MemoryQueue({ attempts: 3, backoffMs: 50 }), skip: false },
  { name: 'bullmq', make: () => bullmq(), skip: !redisUp && !IN_CI },
];

describe('backoff', () => {
  it('doubles from the base delay and stops growing at ten minutes', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(1000, a))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(60_000, 20)).toBe(600_000);
  });
});

for (const backend of backends) {
  describe.skipIf(backend.skip)(`job queue [${backend.name}]`, () => {
    const open: JobQueue[] = [];
    const make = () => {
      const q = backend.make();
      open.push(q);
      return q;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((q) => q.close()));
    });

    it('runs jobs with their data, reports progress and completes them', async () => {
      const q = make();
      const seen: { id: string; data: unknown; attempt: number }[] = [];
      q.work<{ n: number }>('thumbs', async (job) => {
        await job.progress(50);
        seen.push({ id: job.id, data: job.data, attempt: job.attempt });
      });
      const a = await q.add('thumbs', { n: 1 });
      const b = await q.add('thumbs', { n: 2 }, { jobId: 'fixed-id' });
      expect(b).toBe('fixed-id');
      await until('two jobs', () => seen.length === 2);
      expect(seen.map((s) => s.data)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(seen.every((s) => s.attempt === 1)).toBe(true);
      await until('completed', async () => (await q.state('thumbs', a))?.state === 'completed');
      expect(await q.state('thumbs', a)).toMatchObject({ state: 'completed', attempts: 1, error: null });
      expect(await q.state('thumbs', 'no-such-job')).toBeNull();
      expect(await q.pending('thumbs')).toBe(0);
    });

    it('adds a job id only once while it is waiting or running', async () => {
      const q = make();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let runs = 0;
      q.work('once', async () => {
        runs++;
        await gate;
      });
      await q.add('once', { v: 1 }, { jobId: 'capture-1' });
      await until('running', async () => (await q.state('once', 'capture-1'))?.state === 'active');
      await q.add('once', { v: 2 }, { jobId: 'capture-1' });
      expect(await q.pending('once')).toBe(1);
      release();
      await until('done', async () => (await q.state('once', 'capture-1'))?.state === 'completed');
      expect(runs).toBe(1);
      // Once finished, the same id may be queued again (a capture reprocessed on request).
      await q.add('once', { v: 3 }, { jobId: 'capture-1' });
      await until('second run', () => runs === 2);
    });

    it('retries a failing job with backoff and succeeds on a later attempt', async () => {
      const q = make();
      const attempts: { attempt: number; last: boolean; at: number }[] = [];
      q.work('flaky', async (job) => {
        attempts.push({ attempt: job.attempt, last: job.lastAttempt, at: Date.now() });
        if (job.attempt < 3) throw new Error(`transient ${job.attempt}`);
      });
      const id = await q.add('flaky', {}, { backoffMs: 100 });
      await until('completed', async () => (await q.state('flaky', id))?.state === 'completed');
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
      expect(attempts.map((a) => a.last)).toEqual([false, false, true]);
      // Exponential: the second gap is about twice the first (100 ms, then 200 ms).
      expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(90);
      expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(190);
    });

    it('fails for good after the last attempt, or at once on a permanent error, and says so once', async () => {
      const q = make();
      const failed: { id: string; attempts: number; message: string }[] = [];
      q.work<{ permanent: boolean }>(
        'doomed',
        async (job) => {
          if (job.data.permanent) throw new PermanentJobError('the file is not a video', 'unsupported_video');
          throw new Error('always broken');
        },
        { onFailed: (job, err) => void failed.push({ id: job.id, attempts: job.attempts, message: err.message }) },
      );
      const a = await q.add('doomed', { permanent: false }, { attempts: 2 });
      const b = await q.add('doomed', { permanent: true });
      await until('both failed', () => failed.length === 2).catch(async (err: Error) => {
        const states = [await q.state('doomed', a), await q.state('doomed', b)];
        throw new Error(`${err.message}: reported ${JSON.stringify(failed)}, states ${JSON.stringify(states)}`);
      });
      const byId = Object.fromEntries(failed.map((f) => [f.id, f]));
      expect(byId[a]).toMatchObject({ attempts: 2, message: 'always broken' });
      expect(byId[b]).toMatchObject({ attempts: 1, message: 'the file is not a video' });
      expect(await q.state('doomed', a)).toMatchObject({ state: 'failed', error: 'always broken' });
      await new Promise((r) => setTimeout(r, 300));
      expect(failed).toHaveLength(2);
    });

    it('keeps to the concurrency of the worker', async () => {
      const q = make();
      let running = 0;
      let peak = 0;
      let done = 0;
      q.work(
        'busy',
        async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 60));
          running--;
          done++;
        },
        { concurrency: 2 },
      );
      for (let i = 0; i < 6; i++) await q.add('busy', { i });
      await until('six done', () => done === 6);
      expect(peak).toBe(2);
    });

    it('holds delayed jobs back and runs scheduled ones repeatedly', async () => {
      const q = make();
      const ran: number[] = [];
      q.work('later', async () => void ran.push(Date.now()));
      const t0 = Date.now();
      const id = await q.add('later', {}, { delayMs: 300 });
      expect((await q.state('later', id))?.state).toBe('delayed');
      await until('delayed run', () => ran.length === 1);
      expect(ran[0] - t0).toBeGreaterThanOrEqual(280);

      const ticks: unknown[] = [];
      q.work('sweep', async (job) => void ticks.push(job.data));
      await q.every('sweep', 'retention', 200, { kind: 'retention' });
      await until('three sweeps', () => ticks.length >= 3);
      expect(ticks[0]).toEqual({ kind: 'retention' });
    });

    it('holds jobs until a worker is there to take them', async () => {
      const q = make();
      const id = await q.add('nobody-yet', { x: 1 });
      await new Promise((r) => setTimeout(r, 100));
      expect((await q.state('nobody-yet', id))?.state).toBe('waiting');
      const seen: unknown[] = [];
      q.work('nobody-yet', async (job) => void seen.push(job.data));
      await until('taken', () => seen.length === 1);
    });

    it('aborts the signal of running jobs on close', async () => {
      const q = make();
      let aborted = false;
      let started = false;
      q.work('long', (job: RunningJob<unknown>) => {
        started = true;
        return new Promise<void>((resolve) => {
          job.signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        });
      });
      await q.add('long', {});
      await until('started', () => started);
      await q.close();
      expect(aborted).toBe(true);
    });
  });
}

describe.skipIf(!redisUp && !IN_CI)('job queue [bullmq] across processes', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  function startFixture(prefix: string, queue: string): { child: ChildProcess; lines: string[] } {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'queue.fixture.ts'), REDIS_TEST_URL, prefix, queue],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
    return { child, lines };
  }

  it('gives the job of a worker killed mid-job to another worker, which completes it', async () => {
    const q = bullmq();
    const prefix = prefixes[prefixes.length - 1];
    const fixture = startFixture(prefix, 'video');
    await until('fixture ready', () => fixture.lines.includes('ready'), 30_000);
    const id = await q.add('video', { n: 1 }, { jobId: 'capture-kill' });
    await until(
      'claimed by the fixture',
      () => fixture.lines.some((l) => l.startsWith('claimed capture-kill')),
      30_000,
    );
    fixture.child.kill('SIGKILL');
    await new Promise((r) => fixture.child.once('exit', r));

    const done: { attempt: number }[] = [];
    q.work('video', async (job) => void done.push({ attempt: job.attempt }));
    await until('taken over and completed', async () => (await q.state('video', id))?.state === 'completed', 30_000);
    expect(done).toHaveLength(1);
    await q.close();
  });

  it('hands the job of a worker shut down mid-job back to the queue without using an attempt', async () => {
    const first = bullmq();
    const prefix = prefixes[prefixes.length - 1];
    let started = false;
    first.work('graceful', (job) => {
      started = true;
      return new Promise<void>((_resolve, reject) => {
        job.signal.addEventListener('abort', () => reject(new Error('stopped')));
      });
    });
    const id = await first.add('graceful', {}, { jobId: 'capture-graceful', attempts: 1 });
    await until('started', () => started);
    await first.close();

    const second = bullmq({ prefix });
    const attempts: number[] = [];
    second.work('graceful', async (job) => void attempts.push(job.attempt));
    await until('completed elsewhere', async () => (await second.state('graceful', id))?.state === 'completed');
    // One attempt allowed, and it still succeeded: the interrupted run did not count.
    expect(attempts).toEqual([1]);
    await second.close();
  });

  it('fails a job whose workers keep dying, and reports it', async () => {
    const q = bullmq({ maxStalledCount: 0 });
    const prefix = prefixes[prefixes.length - 1];
    const failed: string[] = [];
    // This worker only watches: it never gets the job, which the fixture claims first.
    const fixture = startFixture(prefix, 'cursed');
    await until('fixture ready', () => fixture.lines.includes('ready'), 30_000);
    const id = await q.add('cursed', {}, { jobId: 'capture-cursed' });
    await until('claimed', () => fixture.lines.some((l) => l.startsWith('claimed capture-cursed')), 30_000);
    fixture.child.kill('SIGKILL');
    await new Promise((r) => fixture.child.once('exit', r));
    q.work('cursed', async () => {}, { onFailed: (job) => void failed.push(job.id) });
    await until('failed as stalled', async () => (await q.state('cursed', id))?.state === 'failed', 30_000);
    expect((await q.state('cursed', id))?.error).toMatch(/stalled/i);
    await until('reported', () => failed.length === 1);
    await q.close();
  });
});
