import { defineConfig } from 'vitest/config';

// One runner for the whole repository: server unit and database tests, end-to-end browser tests.
export default defineConfig({
  test: {
    include: ['server/src/**/*.test.ts', 'e2e/**/*.test.ts', 'deploy/**/*.test.ts', 'bench/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ['default'],
    sequence: { hooks: 'stack' },
  },
});
