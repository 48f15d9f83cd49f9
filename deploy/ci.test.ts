import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from './lib/dockerfile.ts';

// Both pipelines must run what every CI run runs (.ci/run), against the databases the test helpers
// expect, and build the image from deploy/docker/Dockerfile only for version tags.

const ROOT = path.resolve(import.meta.dirname, '..');
type Obj = Record<string, any>;
const github = parse(fs.readFileSync(path.join(ROOT, '.github/workflows/ci.yml'), 'utf8')) as Obj;
const gitlab = parse(fs.readFileSync(path.join(ROOT, '.gitlab-ci.yml'), 'utf8')) as Obj;
const testHelpers = fs.readFileSync(path.join(ROOT, 'server/src/test/databases.ts'), 'utf8');
const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const runtimeBase = parseDockerfile(fs.readFileSync(path.join(ROOT, 'deploy/docker/Dockerfile'), 'utf8')).stages[0]
  .from;

/** The variables the test helpers read for their database and Redis addresses. */
const helperVariables = [...testHelpers.matchAll(/env\.(TEST_[A-Z_]+_URL)/g)].map((m) => m[1]).sort();

function checkTestUrls(vars: Record<string, string>, services: string[]) {
  expect(
    Object.keys(vars)
      .filter((k) => k.startsWith('TEST_'))
      .sort(),
  ).toEqual(helperVariables);
  for (const v of helperVariables) {
    const host = new URL(vars[v]).hostname;
    expect(services, `${v} points at ${host}`).toContain(host);
  }
}

describe('.ci/run', () => {
  it('is the one entry point: lockfile install, the full test command, and a pass/fail count', () => {
    const run = fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    expect(run).toMatch(/npm ci\b/);
    expect(run).toMatch(/npm test\b/);
    expect(rootPkg.scripts.lint).toBeDefined();
  });
});

describe('.github/workflows/ci.yml', () => {
  const jobs = github.jobs as Obj;

  it('has the test, lint and image jobs', () => {
    expect(Object.keys(jobs).sort()).toEqual(['image', 'lint', 'test']);
    expect(github.on.push.tags).toEqual(['v*']);
  });

  it('tests through .ci/run on Debian with MariaDB, PostgreSQL and Redis', () => {
    const t = jobs.test;
    expect(t.steps.map((s: Obj) => s.run).filter(Boolean)).toEqual(['bash .ci/run']);
    expect(Object.keys(t.services).sort()).toEqual(['mariadb', 'postgres', 'redis']);
    expect(t.services.mariadb.env.MARIADB_ALLOW_EMPTY_ROOT_PASSWORD).toBe('1');
    expect(t.services.postgres.env.POSTGRES_HOST_AUTH_METHOD).toBe('trust');
    for (const s of Object.values<Obj>(t.services)) expect(s.options).toMatch(/--health-cmd/);
    // The same Node release as the image, on the full image (compilers for native addons).
    expect(t.container).toBe(runtimeBase.replace('-slim', ''));
    checkTestUrls(t.env, Object.keys(t.services));
    expect(t['timeout-minutes']).toBeLessThanOrEqual(90);
  });

  it('lints with npm ci and npm run lint', () => {
    expect(jobs.lint.steps.map((s: Obj) => s.run).filter(Boolean)).toEqual([
      'npm ci --no-audit --no-fund && npm run lint',
    ]);
  });

  it('builds and pushes the image with build-push-action only for v* tags, after tests and lint pass', () => {
    const img = jobs.image;
    expect(img.if).toBe("startsWith(github.ref, 'refs/tags/v')");
    expect(img.needs).toEqual(['test', 'lint']);
    expect(img.permissions.packages).toBe('write');
    const build = img.steps.find((s: Obj) => String(s.uses).startsWith('docker/build-push-action@'));
    expect(build.with).toMatchObject({ context: '.', file: 'deploy/docker/Dockerfile', push: true });
    expect(fs.existsSync(path.join(ROOT, build.with.file))).toBe(true);
  });

  it('pins every action to a released major version', () => {
    const uses = Object.values<Obj>(jobs).flatMap((j) => (j.steps ?? []).map((s: Obj) => s.uses).filter(Boolean));
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) expect(u, u).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
  });
});

describe('.gitlab-ci.yml', () => {
  it('has the same stages, test running .ci/run with the same services', () => {
    expect(gitlab.stages).toEqual(['test', 'lint', 'image']);
    const t = gitlab.test;
    expect(t.stage).toBe('test');
    expect(t.script).toEqual(['bash .ci/run']);
    const aliases = t.services.map((s: Obj) => s.alias).sort();
    expect(aliases).toEqual(['mariadb', 'postgres', 'redis']);
    const byAlias = Object.fromEntries(t.services.map((s: Obj) => [s.alias, s]));
    expect(byAlias.mariadb.variables.MARIADB_ALLOW_EMPTY_ROOT_PASSWORD).toBe('1');
    expect(byAlias.postgres.variables.POSTGRES_HOST_AUTH_METHOD).toBe('trust');
    // Same service images as the GitHub workflow.
    const gh = Object.fromEntries(Object.entries<Obj>(github.jobs.test.services).map(([k, s]) => [k, s.image]));
    expect(Object.fromEntries(t.services.map((s: Obj) => [s.alias, s.name]))).toEqual(gh);
    checkTestUrls(t.variables, aliases);
    expect(gitlab.default.image).toBe(github.jobs.test.container);
  });

  it('lints with npm ci and npm run lint', () => {
    expect(gitlab.lint.stage).toBe('lint');
    expect(gitlab.lint.script).toEqual(['npm ci --no-audit --no-fund', 'npm run lint']);
  });

  it('builds the image from deploy/docker/Dockerfile only for v* tags', () => {
    const img = gitlab.image;
    expect(img.stage).toBe('image');
    expect(img.rules).toEqual([{ if: '$CI_COMMIT_TAG =~ /^v/' }]);
    expect(img.script.some((l: string) => l.startsWith('docker build -f deploy/docker/Dockerfile '))).toBe(true);
    expect(img.script.some((l: string) => l.startsWith('docker push '))).toBe(true);
  });
});
