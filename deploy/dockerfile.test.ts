import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envSchema, loadConfig } from '../server/src/config.ts';
import { dockerignoreMatcher, parseDockerfile, shellCommands, shellWords, type Instruction } from './lib/dockerfile.ts';

// No Docker engine runs on the build machines, so the image is linted, not built: the rules below
// are hadolint's (numbers in the test names) plus the ones this project relies on.

const ROOT = path.resolve(import.meta.dirname, '..');
const text = fs.readFileSync(path.join(ROOT, 'deploy/docker/Dockerfile'), 'utf8');
const df = parseDockerfile(text);
const ignored = dockerignoreMatcher(fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8'));
const stageNames = new Set(df.stages.map((s) => s.name));
const runtime = df.stages[df.stages.length - 1];
const all = (keyword: string): Instruction[] => df.instructions.filter((i) => i.keyword === keyword);
const inRuntime = (keyword: string): Instruction[] => runtime.instructions.filter((i) => i.keyword === keyword);
const runScript = (i: Instruction): string => (i.exec ? i.exec.join(' ') : i.args);

describe('Dockerfile reader', () => {
  it('joins continuations, drops comments inside them, and reads flags and exec form', () => {
    const parsed = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'FROM node:20 AS a',
        'RUN echo one \\',
        '# a comment inside',
        ' && echo two',
        'COPY --from=a --chown=1:1 /x /y',
        'CMD ["node", "x.js"]',
      ].join('\n'),
    );
    expect(parsed.directives).toEqual({ syntax: 'docker/dockerfile:1' });
    const [from, run, copy, cmd] = parsed.instructions;
    expect(from).toMatchObject({ keyword: 'FROM', args: 'node:20 AS a', stage: 0 });
    expect(run.args).toBe('echo one \n && echo two');
    expect(shellCommands(run.args)).toEqual(['echo one', 'echo two']);
    expect(copy).toMatchObject({ flags: { from: 'a', chown: '1:1' }, args: '/x /y' });
    expect(cmd.exec).toEqual(['node', 'x.js']);
    expect(parsed.stages[0]).toMatchObject({ from: 'node:20', name: 'a' });
  });

  it('matches .dockerignore patterns as the builder does', () => {
    const m = dockerignoreMatcher('**/node_modules\ndata\n*.md\n!README.md\nweb/dist');
    expect(m('node_modules')).toBe(true);
    expect(m('server/node_modules/x/index.js')).toBe(true);
    expect(m('data/aula.db')).toBe(true);
    expect(m('server/data.ts')).toBe(false);
    expect(m('NOTES.md')).toBe(true);
    expect(m('docs/NOTES.md')).toBe(false);
    expect(m('README.md')).toBe(false);
    expect(m('web/dist/index.html')).toBe(true);
    expect(m('web/src/main.tsx')).toBe(false);
  });
});

describe('deploy/docker/Dockerfile', () => {
  it('is multi-stage with a name for every stage (DL3024)', () => {
    expect(df.stages.length).toBeGreaterThanOrEqual(3);
    for (const s of df.stages) expect(s.name, `stage ${s.index} from ${s.from}`).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(stageNames.size).toBe(df.stages.length);
    expect(runtime.name).toBe('runtime');
  });

  it('pins its base image to a Node 20 bookworm-slim tag, never latest (DL3006, DL3007)', () => {
    const external = df.stages.filter((s) => !stageNames.has(s.from.toLowerCase()));
    expect(external.length).toBeGreaterThan(0);
    for (const s of external) {
      const tag = /:([^/@]+)$/.exec(s.from.split('@')[0])?.[1];
      expect(tag, s.from).toBeDefined();
      expect(tag).not.toBe('latest');
      expect(s.from).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
    }
  });

  it('builds on earlier stages only by name (DL3022)', () => {
    for (const s of df.stages) {
      const earlier = new Set(df.stages.slice(0, s.index).map((x) => x.name));
      if (stageNames.has(s.from.toLowerCase())) expect(earlier.has(s.from.toLowerCase()), s.from).toBe(true);
      for (const c of s.instructions.filter((i) => i.keyword === 'COPY' && i.flags.from)) {
        expect(earlier.has(c.flags.from), `line ${c.line}: --from=${c.flags.from}`).toBe(true);
      }
    }
  });

  it('installs apt packages without recommends, cleaning the lists in the same RUN (DL3009, DL3015, DL3027)', () => {
    const installs = all('RUN').filter((r) => /apt(-get)? install/.test(runScript(r)));
    expect(installs.length).toBeGreaterThan(0);
    for (const r of all('RUN')) {
      const cmds = shellCommands(runScript(r));
      expect(
        cmds.some((c) => /^apt\s/.test(c)),
        `line ${r.line} uses apt, not apt-get`,
      ).toBe(false);
      const install = cmds.filter((c) => /^apt-get\s+install\b/.test(c));
      if (install.length === 0) continue;
      for (const c of install) {
        expect(c, `line ${r.line}`).toMatch(/\s--no-install-recommends\b/);
        expect(c, `line ${r.line}`).toMatch(/\s(-y|--yes|-qq)\b/);
      }
      expect(
        cmds.some((c) => /^apt-get\s+update\b/.test(c)),
        `line ${r.line} updates in the same RUN`,
      ).toBe(true);
      expect(
        cmds.some((c) => c === 'rm -rf /var/lib/apt/lists/*'),
        `line ${r.line} cleans the lists`,
      ).toBe(true);
    }
  });

  it('ships ffmpeg and apertium with the Spanish–English pair in the runtime stage', () => {
    const packages = inRuntime('RUN')
      .flatMap((r) => shellCommands(runScript(r)))
      .filter((c) => /^apt-get\s+install\b/.test(c))
      .flatMap((c) => shellWords(c).filter((w) => !w.startsWith('-') && !['apt-get', 'install'].includes(w)));
    expect(packages).toEqual(expect.arrayContaining(['ffmpeg', 'apertium', 'apertium-eng-spa']));
    // Compilers stay in the build stages.
    expect(packages).not.toEqual(expect.arrayContaining(['g++']));
  });

  it('never uses sudo, cd, ADD or MAINTAINER (DL3004, DL3003, DL3020, DL4000)', () => {
    for (const r of all('RUN')) {
      const cmds = shellCommands(runScript(r));
      expect(
        cmds.some((c) => /(^|\s)sudo\s/.test(c)),
        `line ${r.line}`,
      ).toBe(false);
      expect(
        cmds.some((c) => /^cd\s/.test(c)),
        `line ${r.line}: use WORKDIR`,
      ).toBe(false);
      expect(/(^|[^|])\|([^|]|$)/.test(runScript(r)), `line ${r.line}: a pipe needs SHELL with pipefail`).toBe(false);
    }
    expect(all('ADD')).toEqual([]);
    expect(all('MAINTAINER')).toEqual([]);
  });

  it('installs node dependencies from the lockfile with npm ci, never npm install (DL3016)', () => {
    const npm = all('RUN')
      .flatMap((r) => shellCommands(runScript(r)))
      .filter((c) => /^npm\s/.test(c));
    expect(npm.some((c) => /^npm ci\b/.test(c))).toBe(true);
    expect(npm.some((c) => /^npm (i|install)\b/.test(c))).toBe(false);
    // The runtime stage takes only the server's production dependencies, tsx among them.
    expect(npm).toContainEqual(expect.stringMatching(/^npm ci --omit=dev --workspace=server\b/));
    const serverPkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'server/package.json'), 'utf8'));
    expect(serverPkg.dependencies.tsx).toBeDefined();
    expect(npm).toContainEqual(expect.stringMatching(/^npm run build -w web$/));
  });

  it('uses absolute WORKDIRs, set before any relative COPY (DL3000, DL3045)', () => {
    for (const w of all('WORKDIR')) expect(w.args, `line ${w.line}`).toMatch(/^\//);
    // A stage built on an earlier one inherits its WORKDIR.
    const inherits = (from: string): boolean => {
      const parent = df.stages.find((x) => x.name === from.toLowerCase());
      return parent ? parent.instructions.some((i) => i.keyword === 'WORKDIR') || inherits(parent.from) : false;
    };
    for (const s of df.stages) {
      let workdir = inherits(s.from);
      for (const i of s.instructions) {
        if (i.keyword === 'WORKDIR') workdir = true;
        if (i.keyword === 'COPY') {
          const dest = shellWords(i.args).at(-1)!;
          if (!dest.startsWith('/')) expect(workdir, `line ${i.line}: COPY to ${dest} before WORKDIR`).toBe(true);
        }
      }
    }
    expect(inRuntime('WORKDIR').map((w) => w.args)).toEqual(['/app']);
  });

  it('copies only files that exist in the repository and that .dockerignore lets through', () => {
    const copies = all('COPY').filter((c) => !c.flags.from);
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      const sources = (c.exec ?? shellWords(c.args)).slice(0, -1);
      for (const src of sources) {
        const rel = src.replace(/\/$/, '');
        expect(fs.existsSync(path.join(ROOT, rel)), `line ${c.line}: ${src} is missing`).toBe(true);
        expect(ignored(rel), `line ${c.line}: ${src} is excluded by .dockerignore`).toBe(false);
      }
    }
    // Everything the server and web build need is inside the copied folders and not ignored.
    for (const f of [
      'server/bin/aula.mjs',
      'server/src/main.ts',
      'server/src/config.ts',
      'proto/grades.proto',
      'web/index.html',
    ]) {
      expect(ignored(f), f).toBe(false);
    }
  });

  it('keeps local state, dependencies and secrets of the work tree out of the build context', () => {
    for (const p of [
      'node_modules',
      'server/node_modules/x',
      'web/node_modules/x',
      '.git',
      'data',
      '.reports',
      'web/dist',
      'docs/screenshots/a.png',
    ]) {
      expect(ignored(p), p).toBe(true);
    }
    expect(ignored('server/src/modules/identity/identity.test.ts')).toBe(true);
  });

  it('runs as the non-root user 10001 with one writable volume, /app/data (DL3002)', () => {
    const users = inRuntime('USER');
    expect(users.length).toBeGreaterThan(0);
    const entry = inRuntime('ENTRYPOINT')[0];
    const lastUser = users.filter((u) => u.line < entry.line).at(-1)!;
    expect(lastUser.args.split(':')[0]).toBe('10001');
    const create = inRuntime('RUN').map(runScript).join('\n');
    expect(create).toMatch(/useradd[^\n]*--uid 10001/);
    expect(create).toMatch(/chown aula:aula \/app\/data/);
    expect(inRuntime('VOLUME').map((v) => v.exec ?? shellWords(v.args))).toEqual([['/app/data']]);
  });

  it('sets only environment variables the server declares, matching its defaults where it has them', () => {
    const keys = new Set(Object.keys(envSchema.shape));
    const env: Record<string, string> = {};
    for (const e of inRuntime('ENV')) {
      for (const m of e.args.matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
    }
    for (const k of Object.keys(env)) expect(keys.has(k), k).toBe(true);
    const config = loadConfig(env);
    expect(config).toMatchObject({ nodeEnv: 'production', dataDir: '/app/data', port: 8000, grpcPort: 50051 });
    // Without WEB_DIST the server finds the web app at web/dist beside server/, where the image puts it.
    expect(config.webDist).toBe(path.join(ROOT, 'web/dist'));
    expect(inRuntime('COPY').some((c) => c.flags.from === 'web-build' && /\.\/web\/dist\/?$/.test(c.args))).toBe(true);
  });

  it('exposes the HTTP and gRPC ports and checks health with node, since slim images have no curl', () => {
    expect(
      inRuntime('EXPOSE')
        .flatMap((e) => e.args.split(/\s+/))
        .sort(),
    ).toEqual(['50051', '8000']);
    const hc = inRuntime('HEALTHCHECK');
    expect(hc.length).toBe(1);
    expect(hc[0].args.startsWith('CMD ')).toBe(true);
    const cmd = JSON.parse(hc[0].args.slice(4)) as string[];
    expect(cmd.slice(0, 2)).toEqual(['node', '-e']);
    expect(cmd[2]).toContain('/health/live');
    for (const i of df.instructions) expect(i.raw, `line ${i.line}`).not.toMatch(/\bcurl\b|\bwget\b/);
  });

  it('starts the package bin in exec form, `start` by default (DL3025)', () => {
    const entry = inRuntime('ENTRYPOINT');
    const cmd = inRuntime('CMD');
    expect(entry.map((e) => e.exec)).toEqual([['node', 'server/bin/aula.mjs']]);
    expect(cmd.map((c) => c.exec)).toEqual([['start']]);
    expect(df.instructions.at(-1)!.keyword).toBe('CMD');
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'server/package.json'), 'utf8'));
    expect(`server/${pkg.bin.aula}`).toBe('server/bin/aula.mjs');
    expect(fs.existsSync(path.join(ROOT, 'server/bin/aula.mjs'))).toBe(true);
  });
});
