/**
 * The naive baseline: the same JSON grade, validated by the same schema, stored with one
 * autocommit INSERT per request (WAL, synchronous=FULL, so one fsync each) and acknowledged.
 * No group commit, no summaries, no auth. Prints {"port": n} once listening.
 */
import Fastify from 'fastify';
import { newId } from '../../server/src/platform/ids.ts';
import { openSqlite } from '../../server/src/platform/db/database.ts';
import { gradeInput } from '../../server/src/modules/grades/grades.schemas.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: naive-server.ts <sqlite file>');
const db = openSqlite(file);
db.exec(`create table if not exists naive_grades (
  id varchar(26) primary key, student_code varchar(32) not null, student_name varchar(200) not null,
  course_code varchar(32) not null, year integer not null, semester integer not null, score_x100 integer not null,
  idempotency_key varchar(128) unique, received_at bigint not null)`);
const insert = db.prepare(
  `insert into naive_grades (id, student_code, student_name, course_code, year, semester, score_x100, idempotency_key, received_at)
   values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (idempotency_key) do nothing`,
);

const app = Fastify({ logger: false });
app.post('/api/v1/grades', async (req, reply) => {
  const r = gradeInput.safeParse(req.body);
  if (!r.success) return reply.status(400).send({ code: 'validation_failed' });
  const g = r.data;
  const info = insert.run(
    newId(),
    g.student_code,
    g.student_name,
    g.course_code,
    g.year,
    g.semester,
    Math.round(g.score * 100),
    g.idempotency_key ?? null,
    Date.now(),
  );
  return reply.status(201).send({ accepted: info.changes, duplicates: 1 - info.changes });
});
app.get('/hello', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
