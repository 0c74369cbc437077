import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import { SlowestFirstSequencer } from './tests/support/slowest-first-sequencer';

/**
 * Files asserting that a simulated AWS never saw more than N calls in any second while the sync
 * runs at N a second. The simulator runs in the test's own process, so a core shared with another
 * file delays arrivals past the rate limiter's 25 ms margin and bunches them: 42 calls in a second
 * for a limit of 40 in 1 of 3 runs beside a CPU-bound file, none in runs alone. They run after the
 * rest, one at a time.
 */
export const RATE_MEASURING_FILES = ['tests/inventory/sync-rates.test.ts', 'tests/inventory/sync-secrets-manager.test.ts'];

export default defineConfig({
  resolve: {
    alias: {
      '@': fileURLToPath(new URL('.', import.meta.url)),
      // 'server-only' throws outside React's server build; tests run server code directly.
      'server-only': fileURLToPath(new URL('./tests/support/server-only.ts', import.meta.url)),
    },
  },
  test: {
    // Files come from the projects below (an include here would be added to each project's own).
    // Temporary folders in memory (tests/support/ram-temp-dir.ts), first so the throwaway PostgreSQL's is too;
    // a throwaway PostgreSQL (Debian's package) for the suites that run on both dialects.
    globalSetup: ['tests/support/ram-temp-dir.ts', 'tests/support/postgres-global-setup.ts'],
    environment: 'node',
    // A process per file: suites set process.env, open native SQLite handles and spawn the CLIs.
    pool: 'forks',
    // Vitest's default is one worker less than the cores: one file at a time on a 2-core machine,
    // which then sat 27 % idle (files wait on child processes, PostgreSQL and simulated AWS latency).
    // At least two files at a time keep both cores busy; bigger machines keep vitest's default.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Longest files first, so no worker is left alone with a long file at the end.
    sequence: { sequencer: SlowestFirstSequencer },
    testTimeout: 20_000,
    // A suite's setup makes a PostgreSQL database and migrates it: seconds when the machine is busy.
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'tests', include: ['tests/**/*.test.ts'], exclude: [...configDefaults.exclude, ...RATE_MEASURING_FILES] } },
      { extends: true, test: { name: 'rates', include: RATE_MEASURING_FILES, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
