/**
 * `npm run bench -- live [--sockets 1000] [--probes 150] [--load 2000] [--redis]`: the live path,
 * from a grade committed to a dashboard socket seeing the counter change.
 *
 * The real server runs in its own process (`aula start`, embedded). This process opens
 * `--sockets` Socket.IO clients, each authenticated with a token and joined to the `grades` room,
 * then sends probe grades one at a time through the REST API. Every probe is a new student of a
 * course no other traffic touches, so probe n is visible when that course shows n students.
 * For each probe and each socket it measures the time from the POST's acknowledgement (the grade
 * is committed) to the socket receiving a `grades:counters` update that includes it.
 *
 * Probes are spaced at random (50–500 ms), so some land inside a coalescing window (the server
 * emits at most 4 updates a second per room) and wait for its trailing emit. The second phase
 * repeats the probes while a background client ingests `--load` grades a second into other courses.
 * With `--redis`, two server processes share one SQLite file and Redis: grades go to the first,
 * sockets connect to the second.
 */
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import { startAula, type RunningAula } from '../e2e/support/server.ts';

const { values } = parseArgs({
  options: {
    sockets: { type: 'string', default: '1000' },
    probes: { type: 'string', default: '150' },
    load: { type: 'string', default: '2000' },
    redis: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const SOCKETS = Number(values.sockets);
const PROBES = Number(values.probes);
const LOAD = Number(values.load);
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Group {
  course: string;
  year: number;
  semester: number;
  records: number;
  students: number;
}

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function tokens(aula: RunningAula): Promise<{ read: string; write: string }> {
  const login = await fetch(`${aula.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'admin', password: aula.adminPassword }),
  });
  const me = await json<{ id: string; csrfToken: string }>(login);
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const create = async (name: string, scopes: string[]) =>
    (
      await json<{ token: string }>(
        await fetch(`${aula.url}/api/v1/tokens`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': me.csrfToken },
          body: JSON.stringify({ userId: me.id, name, scopes }),
        }),
      )
    ).token;
  return {
    read: await create('live-bench-read', ['grades:read']),
    write: await create('live-bench-write', ['grades:write']),
  };
}

async function openSockets(url: string, token: string, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  // Connect in waves so the handshakes do not all queue at once.
  for (let i = 0; i < n; i += 100) {
    const wave = Array.from({ length: Math.min(100, n - i) }, async () => {
      const s = io(url, { transports: ['websocket'], auth: { token }, forceNew: true, reconnection: false });
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
      const ack = (await s.timeout(10_000).emitWithAck('join', 'grades')) as { ok: boolean; message?: string };
      if (!ack.ok) throw new Error(`join refused: ${ack.message}`);
      return s;
    });
    sockets.push(...(await Promise.all(wave)));
  }
  return sockets;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

interface PhaseResult {
  phase: string;
  probes: number;
  deliveries: number;
  missed: number;
  ackToSeenMs: { p50: number; p95: number; p99: number; max: number };
  sendToSeenMs: { p50: number; p95: number; p99: number; max: number };
  lastSocketMs: { p50: number; p95: number };
  backgroundGradesPerSec: number | null;
}

const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 10) / 10;
  return { p50: r(percentile(s, 50)), p95: r(percentile(s, 95)), p99: r(percentile(s, 99)), max: r(s.at(-1) ?? NaN) };
};

let probeCounter = 0;

async function runProbes(
  phase: string,
  ingestUrl: string,
  writeToken: string,
  sockets: Socket[],
  course: string,
  background: { perSec: () => number } | null,
): Promise<PhaseResult> {
  // seen[socket] = highest probe number that socket has seen, and when each probe reached it.
  const seenAt: number[][] = sockets.map(() => []);
  const highest = sockets.map(() => 0);
  sockets.forEach((s, i) => {
    s.on('grades:counters', (p: { groups: Group[] }) => {
      const g = p.groups.find((x) => x.course === course);
      if (!g || g.students <= highest[i]) return;
      const t = performance.now();
      for (let n = highest[i] + 1; n <= g.students; n++) seenAt[i][n] = t;
      highest[i] = g.students;
    });
  });

  const acked: number[] = [];
  const sent: number[] = [];
  for (let n = 1; n <= PROBES; n++) {
    const code = `LV${String(++probeCounter).padStart(7, '0')}`;
    sent[n] = performance.now();
    const res = await fetch(`${ingestUrl}/api/v1/grades`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${writeToken}` },
      body: JSON.stringify({
        student_code: code,
        student_name: `Probe ${n}`,
        course_code: course,
        semester: 1,
        year: 2025,
        score: 50 + (n % 50),
      }),
    });
    if (res.status !== 201) throw new Error(`probe ${n}: ${res.status} ${await res.text()}`);
    acked[n] = performance.now();
    await sleep(50 + Math.random() * 450);
  }
  // Let the last trailing emits arrive.
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline && highest.some((h) => h < PROBES)) await sleep(50);
  for (const s of sockets) s.off('grades:counters');

  const ackToSeen: number[] = [];
  const sendToSeen: number[] = [];
  const lastSocket: number[] = [];
  let missed = 0;
  for (let n = 1; n <= PROBES; n++) {
    let last = 0;
    for (const perSocket of seenAt) {
      const t = perSocket[n];
      if (t === undefined) {
        missed++;
        continue;
      }
      ackToSeen.push(Math.max(0, t - acked[n]));
      sendToSeen.push(t - sent[n]);
      last = Math.max(last, t - acked[n]);
    }
    lastSocket.push(last);
  }
  const ls = summary(lastSocket);
  return {
    phase,
    probes: PROBES,
    deliveries: ackToSeen.length,
    missed,
    ackToSeenMs: summary(ackToSeen),
    sendToSeenMs: summary(sendToSeen),
    lastSocketMs: { p50: ls.p50, p95: ls.p95 },
    backgroundGradesPerSec: background ? Math.round(background.perSec()) : null,
  };
}

/** Ingests `perSec` grades a second into other courses, in batches of 100, until stopped. */
function startBackground(url: string, token: string, perSec: number) {
  let stop = false;
  let sentRecords = 0;
  const started = performance.now();
  const courses = ['SO1', 'SO2', 'BD1', 'BD2', 'LFP', 'SA', 'AYD1', 'IPC1'];
  const batch = 100;
  const intervalMs = (1000 * batch) / perSec;
  let k = 0;
  const loop = (async () => {
    let next = performance.now();
    while (!stop) {
      const records = Array.from({ length: batch }, () => {
        const i = k++;
        return {
          student_code: `BG${String(i % 50_000).padStart(6, '0')}`,
          student_name: `Background ${i % 50_000}`,
          course_code: courses[i % courses.length],
          semester: 1,
          year: 2025,
          score: i % 101,
        };
      });
      void fetch(`${url}/api/v1/grades`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(records),
      }).then(
        (r) => {
          if (r.status === 201) sentRecords += batch;
          return r.arrayBuffer();
        },
        () => {},
      );
      next += intervalMs;
      await sleep(Math.max(0, next - performance.now()));
    }
  })();
  return {
    perSec: () => (sentRecords * 1000) / (performance.now() - started),
    stop: async () => {
      stop = true;
      await loop;
    },
  };
}

const servers: RunningAula[] = [];
try {
  log(`starting the server${values.redis ? 's (two instances, Redis)' : ''}…`);
  const env = values.redis ? { REDIS_URL } : {};
  const a = await startAula({ env: { ...env, LOG_LEVEL: 'warn' } });
  servers.push(a);
  let b = a;
  if (values.redis) {
    b = await startAula({
      env: { REDIS_URL, LOG_LEVEL: 'warn', DATABASE_URL: `sqlite:${a.dataDir}/aula.db` },
      adminPassword: a.adminPassword,
    });
    servers.push(b);
  }
  const { read, write } = await tokens(a);
  log(`opening ${SOCKETS} sockets on ${b.url}…`);
  const sockets = await openSockets(b.url, read, SOCKETS);
  log(`${sockets.length} sockets joined "grades"`);

  const results: PhaseResult[] = [];
  log(`phase 1: ${PROBES} probes, no other traffic`);
  // Course codes unique to this run: Redis counters outlive a run's throwaway database.
  const run = Date.now().toString(36).toUpperCase();
  results.push(await runProbes('quiet', a.url, write, sockets, `LQ${run}`, null));
  if (LOAD > 0) {
    log(`phase 2: ${PROBES} probes while ingesting ${LOAD} grades/s`);
    const bg = startBackground(a.url, write, LOAD);
    await sleep(1000);
    try {
      results.push(
        await runProbes(`under ${LOAD.toLocaleString('en-US')} grades/s`, a.url, write, sockets, `LL${run}`, bg),
      );
    } finally {
      await bg.stop();
    }
  }
  for (const s of sockets) s.close();

  if (values.json) console.log(JSON.stringify({ sockets: SOCKETS, redis: values.redis, results }, null, 2));
  console.log(
    `\nLive path, ${SOCKETS.toLocaleString('en-US')} sockets${values.redis ? ', two instances over Redis' : ', one instance'}; ` +
      'milliseconds from the grade being acknowledged (committed) to a socket receiving the update:\n',
  );
  console.log(
    '| phase | deliveries | missed | p50 | p95 | p99 | max | last socket p95 | send → seen p95 | background grades/s |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    console.log(
      `| ${r.phase} | ${r.deliveries.toLocaleString('en-US')} | ${r.missed} | ${r.ackToSeenMs.p50} | ${r.ackToSeenMs.p95} | ${r.ackToSeenMs.p99} | ${r.ackToSeenMs.max} | ${r.lastSocketMs.p95} | ${r.sendToSeenMs.p95} | ${r.backgroundGradesPerSec ?? '-'} |`,
    );
  }
} finally {
  for (const s of servers.reverse()) await s.stop();
}
