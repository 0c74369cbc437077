// A dashboard in-process for the findings entry points: a temp DATA_DIR with the demo data set, one
// owner-less item inside the scoped auditor's grant and one outside it (a sentinel whose name must
// never reach them), an admin, an auditor held to /prod/payments/** by CONFIG_FILE and a viewer on
// everything; a token and a session cookie each. Findings are evaluated once, then route handlers
// and pages are called directly.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { resetGrantRules } from '@/lib/auth/effective-grants';
import { closeFindingsDb, evaluateFindings } from '@/lib/findings/findings';
import type { EmbeddedStore } from '@/lib/stores/embedded/store';
import { getStore } from '@/lib/stores/registry';
import { bearer, credentialsFor } from '../support/subject-credentials';
import { makeTempDir } from '../support/temp-dir';

export const SCOPE = '/prod/payments/';
/** Inside the auditor's grant, without an owner tag: a no-owner finding they may suppress. */
export const INSIDE = '/prod/payments/zz-findings-inside-k2m';
/** Outside the auditor's grant, without an owner tag: must never reach them, not even its name. */
export const SENTINEL_OUTSIDE = '/prod/web/zz-findings-sentinel-q7v';

const CONFIG = `
stores:
  - id: local
    kind: local
grants:
  - user: auditor@example.com
    role: auditor
    paths: [${SCOPE}**]
`;

export const SUBJECTS = ['admin', 'auditor', 'viewer'] as const;
export type Subject = (typeof SUBJECTS)[number];

export interface FindingsHarness {
  tokens: Record<Subject, string>;
  cookies: Record<Subject, string>;
  store: EmbeddedStore;
  cleanup: () => Promise<void>;
}

export async function startFindingsHarness(): Promise<FindingsHarness> {
  const temp = makeTempDir('secrets-findings-ui-');
  const configFile = path.join(temp.dir, 'dashboard.yaml');
  writeFileSync(configFile, CONFIG);
  delete process.env.MASTER_KEY;
  delete process.env.DATABASE_URL;
  delete process.env.METRICS_TOKEN;
  Object.assign(process.env, { DATA_DIR: path.join(temp.dir, 'data'), CONFIG_FILE: configFile, DEMO_DATA: '1', LOG_LEVEL: 'silent' });
  delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
  resetGrantRules();

  const store = (await getStore('local')) as EmbeddedStore;
  for (const name of [INSIDE, SENTINEL_OUTSIDE])
    await store.putValue({ name, value: `value-of-${name}-never-shown`, kind: 'SecureString', description: null, tags: {}, actor: 'test', labels: [], at: new Date(Date.now() - 400 * 86_400_000) });
  await evaluateFindings({ force: true });

  const { tokens, cookies } = await credentialsFor(SUBJECTS, (subject) => (subject === 'admin' ? 'admin' : 'viewer'));
  return {
    tokens,
    cookies,
    store,
    cleanup: async () => {
      await closeFindingsDb();
      temp.cleanup();
    },
  };
}

export { bearer };

export const url = (p: string) => `http://dashboard.test${p}`;
