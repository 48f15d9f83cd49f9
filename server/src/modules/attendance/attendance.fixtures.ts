import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../../context.ts';
import type { PredictionOut } from '../analysis/analysis.schemas.ts';
import { toPredictionOut } from '../analysis/ledger.ts';
import type { FramePrediction } from './capture-ledger.ts';
import type { UserRow } from '../identity/identity.repository.ts';
import { SYSTEM_ACTOR } from '../identity/actor.ts';
import { buildUser, type BuiltUser } from '../../test/factories.ts';

/**
 * A class with real faces, for the attendance tests, the browser test and the benchmark: one
 * teacher, students enrolled with a face template each (from the test photos), and a session.
 */

export const DATA_DIR = path.resolve(import.meta.dirname, '../../../../../shared/data');
const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..');
export const dataFile = (rel: string) => fs.readFileSync(path.join(DATA_DIR, rel));

/** The people of the test photos: where each is enrolled from, and another photo of them. */
export const PEOPLE = {
  obama: { name: 'Barack Obama', enroll: 'faces/gallery/obama/1.jpg', probe: 'faces/probes/obama-test.jpg' },
  biden: { name: 'Joe Biden', enroll: 'faces/gallery/biden/1.jpg', probe: 'faces/gallery/biden/2.jpg' },
  kit_harington: {
    name: 'Kit Harington',
    enroll: 'faces/gallery/kit_harington/1.jpg',
    probe: 'faces/probes/kit_harington-test.jpg',
  },
  rose_leslie: {
    name: 'Rose Leslie',
    enroll: 'faces/gallery/rose_leslie/1.jpg',
    probe: 'faces/gallery/rose_leslie/2.jpg',
  },
  alex_lacamoire: {
    name: 'Alex Lacamoire',
    enroll: 'faces/gallery/alex_lacamoire/1.jpg',
    probe: 'faces/probes/alex_lacamoire-test.jpg',
  },
  model_a: { name: 'Model A', enroll: 'faces/gallery/model_a/1.jpg', probe: 'faces/probes/model_a-2.jpg' },
  model_b: { name: 'Model B', enroll: 'faces/gallery/model_b/1.jpg', probe: 'faces/probes/model_b-2.jpg' },
} as const;
export type Person = keyof typeof PEOPLE;

export interface ClassFixture {
  teacher: BuiltUser;
  students: Record<string, UserRow>;
  offeringId: string;
  sessionId: string;
  startsAt: number;
}

const uniq = () => randomBytes(3).toString('hex').toUpperCase();

/**
 * Creates the course, semester, offering, students (with face templates unless `enroll` is
 * false for them) and one session starting at `startsAt` (default: five minutes ago).
 */
export async function buildClass(
  ctx: AppContext,
  opts: {
    people: readonly Person[];
    /** People enrolled in the offering but without a face template. */
    noTemplate?: readonly Person[];
    startsAt?: number;
    durationMin?: number;
    lateAfterMinutes?: number;
  },
): Promise<ClassFixture> {
  const a = SYSTEM_ACTOR;
  const year = new Date().getFullYear();
  const sem = await ctx.academics.createSemester(a, {
    code: `T${uniq()}`,
    year,
    term: 1,
    startsOn: `${year - 1}-01-01`,
    endsOn: `${year + 1}-12-31`,
  });
  const course = await ctx.academics.createCourse(a, { code: `AT${uniq()}`, name: 'Attendance test' });
  const teacher = await buildUser(ctx, { role: 'teacher' });
  const offering = await ctx.academics.createOffering(a, {
    courseId: course.id,
    semesterId: sem.id,
    teacherId: teacher.user.id,
    lateAfterMinutes: opts.lateAfterMinutes ?? 10,
  });
  const students: Record<string, UserRow> = {};
  for (const p of opts.people) {
    const { user } = await buildUser(ctx, { role: 'student', fullName: PEOPLE[p].name });
    students[p] = user;
    await ctx.academics.enroll(a, offering.id, user.id);
    if (!opts.noTemplate?.includes(p)) await ctx.faces.enroll(a, user.id, dataFile(PEOPLE[p].enroll), 'upload');
  }
  const startsAt = opts.startsAt ?? Date.now() - 5 * 60_000;
  const session = await ctx.academics.sessions.create(a, offering.id, {
    startsAt: new Date(startsAt).toISOString(),
    endsAt: new Date(startsAt + (opts.durationMin ?? 90) * 60_000).toISOString(),
  });
  return { teacher, students, offeringId: offering.id, sessionId: session.id, startsAt };
}

/** A multipart body with files (field "file") after the given fields, for app.inject(). */
export function multipartBody(
  files: { data: Buffer; filename: string; type: string }[],
  fields: Record<string, string> = {},
): { headers: Record<string, string>; payload: Buffer } {
  const boundary = `aula${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = Object.entries(fields).map(([k, v]) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
  );
  for (const f of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${f.filename}"\r\nContent-Type: ${f.type}\r\n\r\n`,
      ),
      f.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: Buffer.concat(parts) };
}

export type FrameLedgerRow = Omit<PredictionOut, 'parameters' | 'output'> & {
  parameters: Record<string, unknown> & { capture: { id: string; kind: string; frame: number; offsetMs: number } };
  output: FramePrediction['output'];
};

/** The prediction ledger rows of a capture's job, as the ledger reads them, in frame order. */
export async function ledgerOfCapture(ctx: AppContext, captureId: string): Promise<FrameLedgerRow[]> {
  const rows = (await ctx.analysis.ledger.listOfJob(captureId)).map((r) => toPredictionOut(r) as FrameLedgerRow);
  return rows.sort((a, b) => a.parameters.capture.frame - b.parameters.capture.frame);
}

export const sha256Of = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Polls until every capture is finished (done or failed). */
export async function waitForCaptures(
  ctx: AppContext,
  ids: string[],
  timeoutMs = 120_000,
): Promise<{ id: string; status: string; error: string | null }[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const rows = await Promise.all(
      ids.map((id) => ctx.db.kysely.selectFrom('captures').selectAll().where('id', '=', id).executeTakeFirstOrThrow()),
    );
    if (rows.every((r) => r.status === 'done' || r.status === 'failed')) {
      return rows.map((r) => ({ id: r.id, status: r.status, error: r.error }));
    }
    if (Date.now() > end)
      throw new Error(`captures not finished: ${rows.map((r) => `${r.id}=${r.status}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the `aula` command in a process of its own, with a bare environment. */
export function aulaCommand(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
