import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../config.ts';
import { createContext } from '../context.ts';
import { SYSTEM_ACTOR } from '../modules/identity/actor.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function aula(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('aula roster import', () => {
  let dir: string;
  let env: Record<string, string>;
  let offeringId: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aula-roster-cli-'));
    env = {
      DATABASE_URL: `sqlite:${path.join(dir, 'aula.db')}`,
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      SEED_DEMO: 'false',
    };
    const ctx = await createContext(testConfig(env));
    try {
      const course = await ctx.academics.createCourse(SYSTEM_ACTOR, { code: 'LFP', name: 'Lenguajes Formales' });
      const semester = await ctx.academics.createSemester(SYSTEM_ACTOR, {
        year: 2030,
        term: 1,
        startsOn: '2030-01-01',
        endsOn: '2030-06-30',
      });
      offeringId = (await ctx.academics.createOffering(SYSTEM_ACTOR, { courseId: course.id, semesterId: semester.id }))
        .id;
    } finally {
      await ctx.close();
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const enrolled = async () => {
    const ctx = await createContext(testConfig(env));
    try {
      return (await ctx.academics.listEnrolledStudents(offeringId)).map((s) => s.student_code);
    } finally {
      await ctx.close();
    }
  };

  it('prints every bad line, exits with 1 and imports nothing', async () => {
    const file = path.join(dir, 'bad.csv');
    fs.writeFileSync(
      file,
      'student_code,full_name,email\n202200001,Ana Ajú,ana@example.test\n202200002,Bruno,not-mail\n,Carla,c@example.test\n',
    );
    const r = await aula(['roster', 'import', file, '--offering', offeringId], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('line 3: email "not-mail" is not a valid address');
    expect(r.stderr).toContain('line 4: student_code is empty');
    expect(r.stderr).toContain('2 bad line(s); nothing was imported');
    expect(await enrolled()).toEqual([]);
  });

  it('imports a valid file and prints the counts', async () => {
    const file = path.join(dir, 'good.csv');
    fs.writeFileSync(
      file,
      '\uFEFFstudent_code;full_name;email\r\n202200001;Ana Ajú;ana@example.test\r\n202200002;Bruno Say;bruno@example.test\r\n',
    );
    const r = await aula(['roster', 'import', file, '--offering', offeringId], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('rows: 2, students created: 2, enrolled: 2, already enrolled: 0');
    expect((await enrolled()).sort()).toEqual(['202200001', '202200002']);

    const again = await aula(['roster', 'import', file, '--offering', offeringId], env);
    expect(again.stdout.trim()).toBe('rows: 2, students created: 0, enrolled: 0, already enrolled: 2');
  });

  it('fails clearly for an unknown offering or a missing file', async () => {
    const file = path.join(dir, 'good.csv');
    const r = await aula(['roster', 'import', file, '--offering', '01zzzzzzzzzzzzzzzzzzzzzzzz'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Offering not found');
    const missing = await aula(['roster', 'import', path.join(dir, 'nope.csv'), '--offering', offeringId], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No file at');
  });
});
