/**
 * A worker process for the queue tests: it claims jobs of one queue, says so on stdout, and then
 * never finishes them, so a test can kill it mid-job and watch another worker take over.
 * Usage: tsx queue.fixture.ts <redis-url> <prefix> <queue>
 */
import { BullmqQueue } from './bullmq-queue.ts';

const [url, prefix, queue] = process.argv.slice(2);
const q = new BullmqQueue({
  url,
  prefix,
  attempts: 3,
  backoffMs: 100,
  lockDurationMs: 1500,
  stalledIntervalMs: 500,
  maxStalledCount: 2,
});
q.work<{ n: number }>(queue, async (job) => {
  process.stdout.write(`claimed ${job.id} attempt ${job.attempt}\n`);
  await new Promise(() => {});
});
process.stdout.write('ready\n');
