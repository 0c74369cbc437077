import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import base from './vitest.config.mts';

// The tests `npm run mutate` (stryker.config.mjs) runs against each mutant of the access code: the
// fast unit and property tests of the one check, on SQLite only, with fast-check held to one seed
// and fewer runs so every mutant meets the same cases. Not part of `npm test`.

const DATABASES_MODULE = fileURLToPath(new URL('./tests/support/databases.ts', import.meta.url));
const SQLITE_ONLY = '\0mutate:sqlite-only-databases';

/**
 * Suites written `describe.each(DATABASES)` run on SQLite only here: PostgreSQL doubles the time of
 * every mutant and the access code is the same on both (the dialect's part, lib/db/dialect.ts, is
 * not mutated). The rest of tests/support/databases.ts is passed through as it is.
 */
const sqliteOnly: Plugin = {
  name: 'mutate-sqlite-only',
  enforce: 'pre',
  resolveId(source, importer) {
    if (!importer || importer === SQLITE_ONLY || !source.startsWith('.')) return null;
    const target = path.resolve(path.dirname(importer), source);
    return target === DATABASES_MODULE || `${target}.ts` === DATABASES_MODULE ? SQLITE_ONLY : null;
  },
  load(id) {
    if (id !== SQLITE_ONLY) return null;
    return `export * from ${JSON.stringify(DATABASES_MODULE)};\nexport const DATABASES = ['sqlite'];\n`;
  },
};

export default defineConfig({
  plugins: [sqliteOnly],
  resolve: base.resolve,
  test: {
    ...base.test,
    // One project of its own: not vitest.config.mts's two (the rate-measuring files are not run here).
    projects: undefined,
    include: [
      'tests/auth/*.unit.test.ts',
      'tests/cloudtrail/*.unit.test.ts',
      'tests/auth/grants.test.ts',
      'tests/auth/path-glob.property.test.ts',
      'tests/cloudtrail/event-redaction.test.ts',
      // Every listing surface against can(), item by item, over a real inventory (SQLite).
      'tests/auth/access-surfaces.property.test.ts',
      'tests/auth/folder-view-cuts.test.ts',
    ],
    // No PostgreSQL server: nothing here runs on it.
    globalSetup: [],
    env: { FC_SEED: '20260601', FC_RUNS: '100', LOG_LEVEL: 'silent' },
  },
});
