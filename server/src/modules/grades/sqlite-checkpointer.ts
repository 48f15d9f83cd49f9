import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

// Runs in a worker thread with a connection of its own. Plain JavaScript, so that it loads the
// same way under tsx, the test runner and a bundled build.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: the next tick tries again */ }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage('stopped');
});
`;

/**
 * Copies the WAL back into the database file from a background thread. A commit that crosses
 * the auto-checkpoint threshold otherwise does that copy (and its fsync) on the event loop, and
 * random inserts into the grade indexes cross it on nearly every large commit. The main
 * connection keeps a high threshold as a safety net should this thread ever stop.
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  private stopped: Promise<void> | undefined;

  constructor(handle: SQLite.Database, intervalMs = 200) {
    handle.pragma('wal_autocheckpoint = 20000');
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file: handle.name, intervalMs } });
    this.worker.unref();
    this.worker.on('error', () => {
      // The safety-net threshold keeps the WAL bounded without this thread.
    });
  }

  /** Only for a database file in WAL mode; :memory: has nothing to checkpoint. */
  static applies(handle: SQLite.Database): boolean {
    return !handle.memory && String(handle.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
  }

  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      const done = () => resolve();
      const t = setTimeout(() => void this.worker.terminate().then(done, done), 5000);
      this.worker.once('message', () => {
        clearTimeout(t);
        void this.worker.terminate().then(done, done);
      });
      this.worker.once('exit', () => {
        clearTimeout(t);
        done();
      });
      this.worker.postMessage('stop');
    });
    return this.stopped;
  }
}
