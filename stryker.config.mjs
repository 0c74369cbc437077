// @ts-check
// Mutation testing of the access code (npm run mutate; not part of npm test or CI): each mutant of
// the one check, and of what cuts lists, audit views and API calls by it, must fail some test. The
// tests run are vitest.mutate.config.mts's (unit and property tests, SQLite only); the README's
// "Mutation testing" section has the latest score and the mutants left alive, each one equivalent.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutate.config.mts', related: false },
  mutate: [
    // The one check and the matcher behind it.
    'lib/auth/authorize.ts',
    'lib/auth/grants.ts',
    'lib/auth/path-glob.ts',
    'lib/auth/roles.ts',
    'lib/auth/effective-grants.ts',
    // Who sees which CloudTrail rows, and what of a raw event.
    'lib/cloudtrail/event-scope.ts',
    'lib/cloudtrail/event-redaction.ts',
    // The API's and the server actions' permission checks.
    'lib/http/item-request.ts',
    'lib/actions/authed-action.ts',
    // The grant cuts of the data layer only (line ranges: move them with the code): the stores a
    // caller sees, folderVisible and visibleChildFolders, the checks opening a folder page, the
    // items API, the inventory statuses and an item's page and freshness.
    'lib/data/browse.ts:60-66',
    'lib/data/browse.ts:91-104',
    'lib/data/browse.ts:128-130',
    'lib/data/browse.ts:138-138',
    'lib/data/browse.ts:144-144',
    'lib/data/browse.ts:189-190',
    'lib/data/browse.ts:226-226',
    'lib/data/browse.ts:238-238',
    'lib/data/browse.ts:265-265',
    // Which entries of the app's own audit log a caller reads, and who sees the chain's status.
    'lib/data/audit.ts:9-34',
    'lib/data/audit.ts:54-54',
  ],
  // Each mutant runs only the tests that reach it.
  coverageAnalysis: 'perTest',
  // The machine this runs on has two cores.
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // Reported, not enforced: npm run mutate is a tool to run by hand, not a gate.
  thresholds: { high: 95, low: 90, break: null },
  // Anchored (.gitignore syntax): a bare 'data' would also leave out lib/data.
  ignorePatterns: ['/.next', '/data', '/test-results', '/playwright-report', '/e2e', '/docs', '/public', '/deploy', '/reports'],
  tempDirName: '.stryker-tmp',
};
