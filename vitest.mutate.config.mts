import { defineConfig } from 'vitest/config';
import base from './vitest.config.mts';

// The tests `npm run mutate` (stryker.config.mjs) runs against each mutant of the access code: the
// fast unit and property tests of the one check, on SQLite only (no PostgreSQL global setup), with
// fast-check held to a fixed seed and fewer runs so every mutant meets the same cases.
export default defineConfig({
  resolve: base.resolve,
  test: {
    ...base.test,
    include: [
      'tests/auth/path-glob.property.test.ts',
      'tests/auth/grants.test.ts',
      'tests/auth/*.unit.test.ts',
      'tests/cloudtrail/*.unit.test.ts',
    ],
    globalSetup: [],
    env: { FC_SEED: '20260601', FC_RUNS: '100' },
  },
});
