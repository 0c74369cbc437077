// npm run screenshots: the README's pictures, taken from the running demo.
//
// Starts the demo as the README's first command does (`DEMO_DATA=1`, production build, the simulated AWS
// organisation) on a fresh data folder and a free port, waits until every simulated store has synced and the
// audit timeline has its CloudTrail history, signs in as the demo admin, and saves one PNG per view under
// docs/screenshots/. `--url URL --email E --password P` uses a demo that is already running instead.
//
// Only pages are captured, never a revealed value: the admin's session reveals nothing unless ALLOW_REVEAL
// is on, which this script never sets.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, request, type Page } from '@playwright/test';
import { freePort } from './free-port';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT_DIR = path.join(ROOT, 'docs', 'screenshots');
const VIEWPORT = { width: 1400, height: 900 };
const READY_TIMEOUT_MS = 6 * 60_000;

/** The views, in the README's order: the overview first. */
export const VIEWS = [
  { file: 'overview.png', path: '/', caption: 'Overview: every store by freshness, the ages chart and what needs attention first' },
  { file: 'folder.png', path: '/browse/sim-prod-ssm/payments/api', caption: 'A folder of the simulated production Parameter Store' },
  { file: 'item.png', path: '/items/sim-prod-secrets/prod/payments/db-password', caption: 'A secret: rotation state, versions and the Access panel from CloudTrail', fullPage: true },
  { file: 'audit.png', path: '/audit?store=sim-prod-secrets&event=GetSecretValue', caption: 'The audit timeline filtered to reads of production secrets' },
  { file: 'freshness.png', path: '/freshness?status=overdue', caption: 'The overdue list, worst first' },
  { file: 'findings.png', path: '/findings', caption: "Findings: Prowler's and Security Hub's secrets controls and their Parameter Store counterparts, on the live inventory" },
  { file: 'alerts.png', path: '/alerts', caption: "Alerts: the rules, what is open, worst first, and what reached on-call's channel" },
] as const;

interface Target {
  url: string;
  email: string;
  password: string;
  stop: () => void;
}

async function startDemo(): Promise<Target> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'secrets-dashboard-screenshots-'));
  const email = 'admin@dashboard.local';
  const password = 'screenshots-demo-admin-password';
  const child: ChildProcess = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    // Alerts evaluated every 10 s rather than every minute, so the alerts page has its deliveries sooner.
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, DEMO_DATA: '1', ADMIN_EMAIL: email, ADMIN_PASSWORD: password, LOG_LEVEL: 'warn', ALERTS_EVALUATE_SECONDS: '10' },
  });
  const stop = () => {
    child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('exit', () => child.kill('SIGTERM'));
  return { url: `http://127.0.0.1:${port}`, email, password, stop };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, deadline: number): Promise<T> {
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' } } });
  const target: Target = values.url
    ? { url: values.url, email: values.email ?? 'admin@dashboard.local', password: values.password ?? process.env.ADMIN_PASSWORD ?? '', stop: () => {} }
    : await startDemo();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    await waitFor('the server', async () => ((await fetch(`${target.url}/api/health`)).ok ? true : undefined), deadline);

    const api = await request.newContext({ baseURL: target.url });
    const { csrfToken } = (await (await api.get('/api/auth/csrf')).json()) as { csrfToken: string };
    await api.post('/api/auth/callback/credentials', { form: { csrfToken, email: target.email, password: target.password, json: 'true' }, maxRedirects: 0 });
    const state = await api.storageState();
    if (!state.cookies.some((c) => c.name.endsWith('next-auth.session-token'))) throw new Error(`Signing in as ${target.email} failed.`);

    // Every AWS store synced once, and CloudTrail in the timeline.
    await waitFor(
      'every simulated store to sync',
      async () => {
        const { stores } = (await (await api.get('/api/v1/inventory')).json()) as { stores: { live: boolean; syncedAt: string | null }[] };
        return stores.some((s) => !s.live) && stores.every((s) => s.live || s.syncedAt) ? true : undefined;
      },
      deadline,
    );
    // CloudTrail's 90 days in the timeline: a day every ten days back to the horizon holds reads (the trail
    // bucket's older files and the LookupEvents walk arrive separately, so one day proves nothing).
    const days = Array.from({ length: 9 }, (_, i) => new Date(Date.now() - (5 + i * 10) * 86_400_000).toISOString().slice(0, 10));
    await waitFor(
      "CloudTrail's 90 days in the audit timeline",
      async () => {
        for (const day of days) {
          const body = (await (await api.get(`/api/v1/audit?event=GetSecretValue&from=${day}&to=${day}`)).json()) as { entries?: unknown[] };
          if ((body.entries?.length ?? 0) === 0) return undefined;
        }
        return true;
      },
      deadline,
    );

    // The findings evaluated on the synced stores, and the demo's alerts delivered.
    await waitFor(
      'the findings of the simulated stores',
      async () => {
        const body = (await (await api.get('/api/v1/findings?control=new-reader')).json()) as { items?: unknown[] };
        return (body.items?.length ?? 0) > 0 ? true : undefined;
      },
      deadline,
    );
    await waitFor(
      "the demo's alerts delivered",
      async () => {
        const body = (await (await api.get('/api/v1/alerts')).json()) as { deliveries?: { status: string }[] };
        return (body.deliveries ?? []).filter((d) => d.status === 'delivered').length >= 3 ? true : undefined;
      },
      deadline,
    );

    mkdirSync(OUT_DIR, { recursive: true });
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const context = await browser.newContext({ baseURL: target.url, viewport: VIEWPORT, storageState: state, colorScheme: 'light' });
      const page: Page = await context.newPage();
      for (const view of VIEWS) {
        const response = await page.goto(view.path, { waitUntil: 'networkidle' });
        if (!response?.ok()) throw new Error(`${view.path} answered HTTP ${response?.status() ?? '(none)'}`);
        await page.screenshot({ path: path.join(OUT_DIR, view.file), fullPage: 'fullPage' in view && view.fullPage });
        console.log(`docs/screenshots/${view.file}  ${view.caption}`);
      }
    } finally {
      await browser.close();
      await api.dispose();
    }
  } finally {
    target.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`screenshots: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
