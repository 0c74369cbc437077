// A dashboard in-process for authorization tests: a temp DATA_DIR holding FIXTURE, a CONFIG_FILE
// with path-scoped grants, one account and one API token per role, and session cookies as
// next-auth would issue them. Route handlers and server actions are then called directly.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { resetGrantRules } from '@/lib/auth/effective-grants';
import type { EmbeddedStore } from '@/lib/stores/embedded/store';
import { getStore } from '@/lib/stores/registry';
import { loadFixture } from '../support/load-fixture';
import { bearer, credentialsFor } from '../support/subject-credentials';
import { makeTempDir } from '../support/temp-dir';

export const SUBJECTS = ['viewer', 'auditor', 'operator', 'admin', 'scoped-admin'] as const;
export type Subject = (typeof SUBJECTS)[number];

/** `written` is the item rotate and generate change, so the others keep their fixture values. */
export const INSIDE = { folder: '/prod/payments/', name: '/prod/payments/stripe-key', written: '/prod/payments/db/host' };
export const OUTSIDE = { folder: '/prod/web/', name: '/prod/web/allowed-origins', written: '/prod/web/allowed-origins' };

const CONFIG = `
stores:
  - id: local
    kind: local
grants:
  - user: viewer@example.com
    role: viewer
    paths: [/prod/payments/**]
  - user: auditor@example.com
    role: auditor
    paths: [/prod/payments/**]
  - user: operator@example.com
    role: operator
    paths: [/prod/payments/**]
  - user: scoped-admin@example.com
    role: admin
    paths: [/prod/payments/**]
`;

export interface Harness {
  tokens: Record<Subject, string>;
  userIds: Record<Subject, string>;
  cookies: Record<Subject, string>;
  store: EmbeddedStore;
  cleanup: () => void;
}

/** `extraStores`: more YAML entries under `stores:` (e.g. AWS stores on a fake AWS), indented as list items. */
export async function startHarness(options: { extraStores?: string } = {}): Promise<Harness> {
  const temp = makeTempDir('secrets-auth-');
  const configFile = path.join(temp.dir, 'dashboard.yaml');
  writeFileSync(configFile, options.extraStores ? CONFIG.replace('grants:', `${options.extraStores.trimEnd()}\ngrants:`) : CONFIG);
  Object.assign(process.env, { DATA_DIR: path.join(temp.dir, 'data'), CONFIG_FILE: configFile, ALLOW_REVEAL: '1', DEMO_DATA: '0' });
  delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
  resetGrantRules();

  const store = (await getStore('local')) as EmbeddedStore;
  await loadFixture(store);

  // Grants naming a user replace their own role, so only 'admin' (named by no grant) keeps a role on
  // every path; everyone else is held to /prod/payments/** by CONFIG_FILE.
  const { tokens, userIds, cookies } = await credentialsFor(SUBJECTS, (subject) => (subject === 'admin' ? 'admin' : 'viewer'));
  return { tokens, userIds, cookies, store, cleanup: temp.cleanup };
}

export { bearer };
