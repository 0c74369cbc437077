import type { TestProject } from 'vitest/node';
import { startThrowawayPostgres } from '@/scripts/throwaway-postgres';

// One throwaway PostgreSQL for the whole vitest run (each suite makes databases of its own in it).
// TEST_DATABASE_URL points the tests at an existing server instead (a superuser's URL).
export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  if (process.env.TEST_DATABASE_URL) {
    project.provide('postgresAdminUrl', process.env.TEST_DATABASE_URL);
    return undefined;
  }
  const server = await startThrowawayPostgres();
  project.provide('postgresAdminUrl', server.adminUrl);
  return () => server.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}
