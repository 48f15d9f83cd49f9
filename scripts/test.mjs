#!/usr/bin/env node
// `npm test`: installs missing system packages, builds the web app for the browser tests, then
// runs the whole suite once. Extra arguments go to vitest (`npm test -- server/src/modules/grades`).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;

if (run('bash', ['scripts/setup-system.sh', '--quiet']) !== 0) process.exit(1);
if (run('npm', ['run', 'build', '--workspace', 'web', '--silent']) !== 0) process.exit(1);

fs.mkdirSync(path.join(root, '.reports'), { recursive: true });
const status = run(process.execPath, [
  path.join(root, 'node_modules/vitest/vitest.mjs'),
  'run',
  '--reporter=default',
  '--reporter=json',
  '--outputFile.json=.reports/vitest.json',
  ...process.argv.slice(2),
]);
process.exit(status);
