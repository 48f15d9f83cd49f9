import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// `npm run test:reliability`: the long run of the crash, outage and fuzz tests. The same files run
// as a fast sample in `npm test`; here they get the long sizes. RELIABILITY_SCALE=fast runs just
// the sample, RELIABILITY_CASES overrides the cases per fuzz family.
const scale = process.env.RELIABILITY_SCALE === 'fast' ? 'fast' : 'long';
const cases = Number(process.env.RELIABILITY_CASES ?? '') || 10_000;

export default defineConfig({
  test: {
    ...base.test,
    include: [
      'server/src/**/*.reliability.test.ts',
      'server/src/modules/grades/grades.crash.test.ts',
      'server/src/modules/attendance/attendance.db.test.ts',
    ],
    // The long run is hours of work on a small machine; a single case never legitimately takes this long.
    testTimeout: scale === 'long' ? 4 * 60 * 60_000 : 600_000,
    hookTimeout: 300_000,
    maxWorkers: 1,
    fileParallelism: false,
    provide: { reliabilityScale: scale, reliabilityCases: cases },
  },
});
