import type { TestProject } from 'vitest/node';
import { startThrowawayPostgres, type ThrowawayPostgres } from '@/scripts/throwaway-postgres';

// One throwaway PostgreSQL for the whole vitest run (each suite makes databases of its own in it).
// TEST_DATABASE_URL points the tests at an existing server instead (a superuser's URL).
// Every project of vitest.config.mts runs this set-up: the first starts the server, the last
// teardown stops it.
const shared = globalThis as { __testPostgres?: { server: Promise<ThrowawayPostgres>; projects: number } };

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  if (process.env.TEST_DATABASE_URL) {
    project.provide('postgresAdminUrl', process.env.TEST_DATABASE_URL);
    return undefined;
  }
  const entry = (shared.__testPostgres ??= { server: startThrowawayPostgres(), projects: 0 });
  entry.projects++;
  const server = await entry.server;
  project.provide('postgresAdminUrl', server.adminUrl);
  return () => {
    if (--entry.projects > 0) return;
    delete shared.__testPostgres;
    server.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}
