import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { SlowestFirstSequencer } from './tests/support/slowest-first-sequencer';

export default defineConfig({
  resolve: {
    alias: {
      '@': fileURLToPath(new URL('.', import.meta.url)),
      // 'server-only' throws outside React's server build; tests run server code directly.
      'server-only': fileURLToPath(new URL('./tests/support/server-only.ts', import.meta.url)),
    },
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // A throwaway PostgreSQL (Debian's package) for the suites that run on both dialects.
    globalSetup: ['tests/support/postgres-global-setup.ts'],
    environment: 'node',
    // A process per file: suites set process.env, open native SQLite handles and spawn the CLIs.
    pool: 'forks',
    // Vitest's default is one worker less than the cores: one file at a time on a 2-core machine,
    // which then sat 27 % idle (files wait on child processes, PostgreSQL and simulated AWS latency).
    // At least two files at a time keep both cores busy without starving the tests that measure
    // rates; bigger machines keep vitest's default.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Longest files first, so no worker is left alone with a long file at the end.
    sequence: { sequencer: SlowestFirstSequencer },
    testTimeout: 20_000,
    // A suite's setup makes a PostgreSQL database and migrates it: seconds when the machine is busy.
    hookTimeout: 30_000,
  },
});
