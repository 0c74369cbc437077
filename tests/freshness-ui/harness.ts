// A dashboard in-process for the freshness entry points: a temp DATA_DIR with the demo data set and
// one sentinel item outside the scoped viewer's grants (old, so every "worst first" list would put it
// near the top), an admin and a viewer held to /prod/payments/** by CONFIG_FILE, a token and a session
// cookie each. Route handlers are then called directly; the report CLI is run against the same files.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { resetGrantRules } from '@/lib/auth/effective-grants';
import type { EmbeddedStore } from '@/lib/stores/embedded/store';
import { getStore } from '@/lib/stores/registry';
import { bearer, credentialsFor } from '../support/subject-credentials';
import { makeTempDir } from '../support/temp-dir';

export const SCOPE = '/prod/payments/';
/** Outside the viewer's grants; must never reach them, not even its name. */
export const SENTINEL_OUTSIDE = '/prod/web/zz-freshness-sentinel-q9x';

const CONFIG = `
stores:
  - id: local
    kind: local
grants:
  - user: viewer@example.com
    role: viewer
    paths: [${SCOPE}**]
`;

export const SUBJECTS = ['admin', 'viewer'] as const;
export type Subject = (typeof SUBJECTS)[number];

export interface FreshnessHarness {
  dataDir: string;
  configFile: string;
  tokens: Record<Subject, string>;
  cookies: Record<Subject, string>;
  store: EmbeddedStore;
  cleanup: () => void;
}

export async function startFreshnessHarness(): Promise<FreshnessHarness> {
  const temp = makeTempDir('secrets-freshness-');
  const configFile = path.join(temp.dir, 'dashboard.yaml');
  const dataDir = path.join(temp.dir, 'data');
  writeFileSync(configFile, CONFIG);
  delete process.env.MASTER_KEY;
  delete process.env.METRICS_TOKEN;
  delete process.env.METRICS_MAX_ITEM_SERIES;
  Object.assign(process.env, { DATA_DIR: dataDir, CONFIG_FILE: configFile, DEMO_DATA: '1', LOG_LEVEL: 'silent' });
  delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
  resetGrantRules();

  const store = (await getStore('local')) as EmbeddedStore;
  await store.putValue({
    name: SENTINEL_OUTSIDE,
    value: 'sentinel-value-never-shown',
    kind: 'SecureString',
    description: 'outside the scoped viewer',
    tags: { owner: 'sentinel-owner' },
    actor: 'test',
    labels: [],
    at: new Date(Date.now() - 400 * 86_400_000),
  });

  const { tokens, cookies } = await credentialsFor(SUBJECTS, (subject) => subject);
  return { dataDir, configFile, tokens, cookies, store, cleanup: temp.cleanup };
}

export { bearer };

export const url = (p: string) => `http://dashboard.test${p}`;
