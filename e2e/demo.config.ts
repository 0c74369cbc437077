import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { ADMIN } from './support/accounts';

// The demo as the README's first command starts it: `DEMO_DATA=1 npm start` on a fresh data
// directory, which runs the simulated AWS organisation beside the server (scripts/demo-aws.mjs).
// Run with `npx playwright test -c e2e/demo.config.ts` against a production build; the lead folds
// this project into playwright.config.ts.
process.env.E2E_DEMO_DIR ??= mkdtempSync(path.join(tmpdir(), 'secrets-dashboard-e2e-demo-'));
const port = Number(process.env.E2E_DEMO_PORT ?? 3216);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: '.',
  testMatch: /(^|[\\/])demo-[^\\/]*\.spec\.ts$/,
  workers: 1,
  retries: 0,
  timeout: 240_000,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    acceptDownloads: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  projects: [{ name: 'demo', use: { browserName: 'chromium' } }],
  webServer: {
    command: 'node scripts/start.mjs',
    // The repository, not this file's folder.
    cwd: path.join(__dirname, '..'),
    url: `${baseURL}/api/health`,
    reuseExistingServer: false,
    timeout: 240_000,
    stdout: 'pipe',
    env: {
      PORT: String(port),
      DATA_DIR: path.join(process.env.E2E_DEMO_DIR, 'data'),
      DEMO_DATA: '1',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      NEXT_TELEMETRY_DISABLED: '1',
      LOG_LEVEL: 'warn',
      // Nothing may reach real AWS: no instance metadata, and no user's AWS files (the demo brings its own).
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: path.join(process.env.E2E_DEMO_DIR, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(process.env.E2E_DEMO_DIR, 'no-aws-credentials'),
    },
  },
});
