// A dashboard in-process for authorization tests: a temp DATA_DIR holding FIXTURE, a CONFIG_FILE
// with path-scoped grants, one account and one API token per role, and session cookies as
// next-auth would issue them. Route handlers and server actions are then called directly.
// `database: 'postgres'` puts the app's data (app, built-in store, inventory) in a fresh PostgreSQL
// database instead of SQLite under DATA_DIR.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { resetGrantRules } from '@/lib/auth/effective-grants';
import type { EmbeddedStore } from '@/lib/stores/embedded/store';
import { getStore } from '@/lib/stores/registry';
import { useDatabase, type DatabaseKind } from '../support/databases';
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
  /** Drops the PostgreSQL database (ending the pools), removes the temp folder and restores the environment. */
  cleanup: () => Promise<void>;
}

/** What the harness sets in process.env, restored by cleanup. */
const ENV_KEYS = ['DATA_DIR', 'CONFIG_FILE', 'ALLOW_REVEAL', 'DEMO_DATA', 'MASTER_KEY', 'NEXTAUTH_SECRET'] as const;

/** Forgets the process's opened stores and grant rules, so the next use opens them on the current env. */
function resetProcessCaches(): void {
  delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
  resetGrantRules();
}

/** `extraStores`: more YAML entries under `stores:` (e.g. AWS stores on a fake AWS), indented as list items. */
export async function startHarness(options: { extraStores?: string; database?: DatabaseKind } = {}): Promise<Harness> {
  const savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  const temp = makeTempDir('secrets-auth-');
  const configFile = path.join(temp.dir, 'dashboard.yaml');
  writeFileSync(configFile, options.extraStores ? CONFIG.replace('grants:', `${options.extraStores.trimEnd()}\ngrants:`) : CONFIG);
  Object.assign(process.env, { DATA_DIR: path.join(temp.dir, 'data'), CONFIG_FILE: configFile, ALLOW_REVEAL: '1', DEMO_DATA: '0' });
  // Replicas share no DATA_DIR, so on PostgreSQL both keys must come from the environment.
  if (options.database === 'postgres')
    Object.assign(process.env, { MASTER_KEY: randomBytes(32).toString('base64'), NEXTAUTH_SECRET: randomBytes(32).toString('base64') });
  const database = await useDatabase(options.database ?? 'sqlite');
  // appDb, the inventory and the CloudTrail index are keyed by DATABASE_URL or DATA_DIR; the store
  // registry and grant rules are not.
  resetProcessCaches();

  const store = (await getStore('local')) as EmbeddedStore;
  await loadFixture(store);

  // Grants naming a user replace their own role, so only 'admin' (named by no grant) keeps a role on
  // every path; everyone else is held to /prod/payments/** by CONFIG_FILE.
  const { tokens, userIds, cookies } = await credentialsFor(SUBJECTS, (subject) => (subject === 'admin' ? 'admin' : 'viewer'));
  const dataDir = process.env.DATA_DIR!;
  const cleanup = async () => {
    // On PostgreSQL nothing may fall back to a SQLite file (or a key file) under DATA_DIR.
    const leftInDataDir = options.database === 'postgres' && existsSync(dataDir) ? readdirSync(dataDir) : [];
    resetProcessCaches();
    await database.cleanup();
    temp.cleanup();
    for (const key of ENV_KEYS) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
    if (leftInDataDir.length) throw new Error(`on PostgreSQL the dashboard wrote under DATA_DIR: ${leftInDataDir.join(', ')}`);
  };
  return { tokens, userIds, cookies, store, cleanup };
}

/** The AWS SDK's default credential chain on the fake AWS's test keys (it checks none), and no profile or instance metadata. */
export function useFakeAwsCredentials(): void {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIAFAKETEST00000000',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
}

/** A CONFIG_FILE entry for an AWS store on `endpoint`, indented as an item of `stores:` (startHarness's extraStores). */
export function awsStoreYaml(id: string, kind: 'ssm' | 'secretsmanager', endpoint: string, writable = false): string {
  return `  - id: ${id}\n    kind: ${kind}\n    region: us-east-1\n    endpoint: ${endpoint}\n${writable ? '    writable: true\n' : ''}`;
}

export { bearer };
