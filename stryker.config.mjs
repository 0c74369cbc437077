// @ts-check
// Mutation testing of the access code (npm run mutate; not part of npm test): each mutant of the one
// check and of what cuts lists, audit views and API calls by it must fail some test. The tests run
// are vitest.mutate.config.mts's; the README's "Mutation testing" section has the latest score.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutate.config.mts', related: false },
  mutate: [
    'lib/auth/authorize.ts',
    'lib/auth/grants.ts',
    'lib/auth/path-glob.ts',
    'lib/auth/roles.ts',
    'lib/auth/effective-grants.ts',
    'lib/cloudtrail/event-scope.ts',
    'lib/http/item-request.ts',
    'lib/actions/authed-action.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 95, low: 90, break: null },
  ignorePatterns: ['.next', 'data', 'test-results', 'playwright-report', 'e2e', 'docs', 'public', 'deploy', 'reports'],
  tempDirName: '.stryker-tmp',
};
