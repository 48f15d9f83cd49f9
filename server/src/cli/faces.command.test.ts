import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const DATA = path.resolve(ROOT, '../shared/data/faces');

function aula(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'silent', WORKERS: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('aula faces eval', () => {
  it('identifies every known face of the shared set and rejects every unknown one', async () => {
    const r = await aula([
      'faces',
      'eval',
      '--gallery',
      path.join(DATA, 'gallery'),
      '--probes',
      path.join(DATA, 'probes'),
      '--labels',
      path.join(DATA, 'labels.json'),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]) as Record<string, number>;
    expect(Object.keys(report).sort()).toEqual(
      ['falseAccepts', 'knownFaces', 'msPerImage', 'top1', 'unknownFaces', 'unknownRejected'].sort(),
    );
    expect(report.top1).toBe(1);
    expect(report.knownFaces).toBe(26);
    expect(report.unknownFaces).toBe(2);
    expect(report.unknownRejected).toBe(report.unknownFaces);
    expect(report.falseAccepts).toBe(0);
    expect(report.msPerImage).toBeGreaterThan(0);
  }, 240_000);

  it('explains bad arguments instead of crashing', async () => {
    const r = await aula(['faces', 'eval', '--gallery', '/nonexistent', '--probes', DATA, '--labels', 'x.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No folder at /nonexistent');
    const bad = await aula([
      'faces',
      'eval',
      '--gallery',
      DATA,
      '--probes',
      DATA,
      '--labels',
      'x',
      '--threshold',
      'abc',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/threshold/);
  }, 60_000);
});
