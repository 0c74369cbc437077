import { test as base } from '@playwright/test';
import { ADMIN } from './accounts';
import { signInState } from './sign-in';

// Every spec imports test and expect from here. Tests run signed in as the first admin unless a
// spec overrides storageState (for example with { cookies: [], origins: [] } to be signed out).
type WorkerFixtures = { adminState: Awaited<ReturnType<typeof signInState>> };

export const test = base.extend<object, WorkerFixtures>({
  adminState: [
    async ({}, use, workerInfo) => {
      const baseURL = workerInfo.project.use.baseURL!;
      await use(await signInState(baseURL, ADMIN.email, ADMIN.password));
    },
    { scope: 'worker' },
  ],
  storageState: async ({ adminState }, use) => {
    await use(adminState);
  },
});

export { expect } from '@playwright/test';
