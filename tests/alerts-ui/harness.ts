// A dashboard in-process for the /alerts page and its actions: a temp DATA_DIR (or a fresh
// PostgreSQL database), a CONFIG_FILE with a webhook channel (its URL and secret in the
// environment, both sentinels that must never reach a page) and two rules, an auditor and an
// admin held to /prod/payments/** by grants, and an admin, an operator and a viewer on everything;
// a session cookie and an API token each. The alerts store is seeded through lib/alerts as the conditions and the
// delivery worker would write it: overdue alerts inside and outside the auditor's grant (one
// delivered, one dead with its cause, one silenced, one resolved), a store's failing sync and a
// broken audit chain, and silences of an item and of a whole rule.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createSilence } from '@/lib/alerts/admin';
import { resetAlertsConfig } from '@/lib/alerts/alerts-config';
import { alertsDb, closeAlertsDb, recordConditions } from '@/lib/alerts/alerts';
import type { ConditionSubject } from '@/lib/alerts/messages';
import { resetGrantRules } from '@/lib/auth/effective-grants';
import type { Principal } from '@/lib/auth/principal';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { useDatabase, type DatabaseKind } from '../support/databases';
import { credentialsFor } from '../support/subject-credentials';
import { makeTempDir } from '../support/temp-dir';

export const SCOPE = '/prod/payments/';
/** Inside the scoped auditor's grant: delivered. */
export const INSIDE = '/prod/payments/zz-alert-inside-k2m';
/** Inside: its delivery answered 404, so dead with that cause. */
export const INSIDE_DEAD = '/prod/payments/zz-alert-dead-r4p';
/** Inside: silenced before it opened, so never sent. */
export const INSIDE_SILENCED = '/prod/payments/zz-alert-silenced-b3c';
/** Inside: opened, then its condition cleared. */
export const INSIDE_RESOLVED = '/prod/payments/zz-alert-resolved-w8n';
/** Outside the scoped auditor's grant: must never reach them, not even its name. */
export const SENTINEL_OUTSIDE = '/prod/web/zz-alert-sentinel-q7v';
/** A silence of a whole rule: its reason must not reach the scoped auditor either. */
export const RULE_SILENCE_REASON = 'zz-rule-silence-sentinel: storage migration window';
/** The webhook channel's URL and secret (in the environment): never on a page. */
export const HOOK_URL = 'http://127.0.0.1:9/hooks/zz-hook-url-token-5t1';
export const HOOK_SECRET = 'zz-hook-secret-0123456789abcdef0123456789abcdef';
export const DEAD_CAUSE = 'The webhook answered 404';

const CONFIG = `
stores:
  - id: local
    kind: local
grants:
  - user: auditor@example.com
    role: auditor
    paths: [${SCOPE}**]
  - user: scoped-admin@example.com
    role: admin
    paths: [${SCOPE}**]
alerts:
  channels:
    - { id: hook, kind: webhook, urlEnv: ALERTS_UI_HOOK_URL, secretEnv: ALERTS_UI_HOOK_SECRET }
  rules:
    - id: prod-overdue
      description: Overdue secrets, straight to the webhook
      events: [overdue]
      channel: hook
    - id: ops
      events: [sync-failing, audit-chain]
      channel: hook
`;

export const SUBJECTS = ['admin', 'scoped-admin', 'auditor', 'operator', 'viewer'] as const;
export type Subject = (typeof SUBJECTS)[number];

export interface AlertsHarness {
  cookies: Record<Subject, string>;
  tokens: Record<Subject, string>;
  cleanup: () => Promise<void>;
}

const ENV_KEYS = ['DATA_DIR', 'CONFIG_FILE', 'DEMO_DATA', 'MASTER_KEY', 'NEXTAUTH_SECRET', 'ALERTS_UI_HOOK_URL', 'ALERTS_UI_HOOK_SECRET'] as const;

const item = (name: string): ConditionSubject => ({ storeId: 'local', name, url: `http://dashboard.test/items/local${name}`, status: 'overdue' });
const SEEDER: Principal = { via: 'session', userId: 'u-seed', email: 'seed-admin@example.com', name: null, role: 'admin', grants: [{ role: 'admin', stores: null, paths: ['/**'] }] };

function resetProcessCaches(): void {
  delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
  resetGrantRules();
  resetAlertsConfig();
}

/** Sends what is queued as a delivery worker would, answering 404 for INSIDE_DEAD and 200 for the rest. */
async function deliverQueued(now: Date): Promise<void> {
  const db = await alertsDb();
  for (;;) {
    const claim = await db.claimNext('hook', now, 60_000, `seed-${randomBytes(4).toString('hex')}`);
    if (claim === 'none') return;
    if (!claim) continue;
    const dead = claim.message.subjects[0]?.name === INSIDE_DEAD;
    await db.recordOutcome(claim, dead ? { status: 'dead', cause: DEAD_CAUSE } : { status: 'delivered' }, now);
  }
}

export async function startAlertsHarness(database: DatabaseKind): Promise<AlertsHarness> {
  const savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  const temp = makeTempDir('secrets-alerts-ui-');
  const configFile = path.join(temp.dir, 'dashboard.yaml');
  writeFileSync(configFile, CONFIG);
  Object.assign(process.env, {
    DATA_DIR: path.join(temp.dir, 'data'),
    CONFIG_FILE: configFile,
    DEMO_DATA: '0',
    LOG_LEVEL: 'silent',
    ALERTS_UI_HOOK_URL: HOOK_URL,
    ALERTS_UI_HOOK_SECRET: HOOK_SECRET,
  });
  if (database === 'postgres') Object.assign(process.env, { MASTER_KEY: randomBytes(32).toString('base64'), NEXTAUTH_SECRET: randomBytes(32).toString('base64') });
  const db = await useDatabase(database);
  resetProcessCaches();

  // Grants naming a user replace their own role: auditor and scoped-admin are held to SCOPE, the rest keep their role everywhere.
  const { cookies, tokens } = await credentialsFor(SUBJECTS, (subject) => (subject === 'admin' || subject === 'scoped-admin' ? 'admin' : subject === 'operator' ? 'operator' : 'viewer'));

  const start = new Date(Date.now() - 3_600_000);
  await createSilence(SEEDER, { storeId: 'local', itemName: INSIDE_SILENCED, reason: 'Rotation planned with the payments team.', expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString() }, start);
  await recordConditions({ rule: 'prod-overdue', event: 'overdue', subjects: [INSIDE, INSIDE_DEAD, INSIDE_SILENCED, INSIDE_RESOLVED, SENTINEL_OUTSIDE].map(item), now: start });
  await recordConditions({ rule: 'ops', event: 'sync-failing', subjects: [{ storeId: 'local', name: 'local', url: 'http://dashboard.test/browse/local', status: 'sync failing for 2 hours' }], now: start });
  await recordConditions({ rule: 'ops', event: 'audit-chain', subjects: [{ storeId: 'audit-log', name: 'audit chain', url: 'http://dashboard.test/audit', status: 'does not verify: entry #12 altered' }], now: start });
  const later = new Date(start.getTime() + 600_000);
  // INSIDE_RESOLVED's condition cleared: it resolves (and its resolve is queued).
  await recordConditions({ rule: 'prod-overdue', event: 'overdue', subjects: [INSIDE, INSIDE_DEAD, INSIDE_SILENCED, SENTINEL_OUTSIDE].map(item), now: later });
  await deliverQueued(later);
  // Silences the scoped auditor must not see: an item outside their grant, a whole rule.
  await createSilence(SEEDER, { storeId: 'local', itemName: SENTINEL_OUTSIDE, reason: 'Web team owns this one.', expiresAt: new Date(Date.now() + 3 * 86_400_000).toISOString() });
  await createSilence(SEEDER, { ruleId: 'ops', reason: RULE_SILENCE_REASON, expiresAt: new Date(Date.now() + 86_400_000).toISOString() });

  return {
    cookies,
    tokens,
    cleanup: async () => {
      await closeAlertsDb();
      await closeKeyrings();
      resetProcessCaches();
      await db.cleanup();
      temp.cleanup();
      for (const key of ENV_KEYS) {
        if (savedEnv[key] === undefined) delete process.env[key];
        else process.env[key] = savedEnv[key];
      }
      resetAlertsConfig();
    },
  };
}
