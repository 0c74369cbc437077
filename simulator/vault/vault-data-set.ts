import { createHash } from 'node:crypto';
import type { KvEntry } from './vault-kv';

// The simulated Vault's data sets: a generated tree of secrets (100,000 for the benchmark: folders
// teams/<team>/<service>/<env>/, custom_metadata owner and team, one to five versions, some deleted
// or destroyed), made lazily from a hash of each path (only the paths are held until a secret is
// touched), and the demo's small set (a few hundred secrets under team folders). Every value holds
// VALUE_SENTINEL, so a test can prove that no value reached a page, a log or a database.

export const VALUE_SENTINEL = 'VAULTSIM-VALUE-SENTINEL';

export interface GeneratedSet {
  /** 'generated': count paths under teams/; 'demo': the demo's few hundred. */
  kind: 'generated' | 'demo';
  count?: number;
  /** Mixed into every generated field (default 1). */
  seed?: number;
  /** Folder the set lives under, e.g. 'apps/' (default none). */
  prefix?: string;
}

const TEAMS = ['payments', 'identity', 'platform', 'data', 'search', 'mobile', 'web', 'billing', 'growth', 'security', 'infra', 'ml', 'support', 'ledger', 'risk', 'notify', 'catalog', 'orders', 'media', 'edge'];
const ENVS = ['prod', 'staging', 'dev'];
const DEMO_APPS: Record<string, string[]> = {
  payments: ['checkout-api', 'card-vault', 'payouts', 'refunds', 'fraud-scorer'],
  identity: ['login', 'sso-bridge', 'mfa', 'directory-sync', 'session-store'],
  platform: ['ci-runner', 'artifact-cache', 'service-mesh', 'ingress', 'observability'],
  data: ['warehouse-loader', 'etl-nightly', 'kafka-connect', 'bi-dashboards', 'feature-store'],
  search: ['indexer', 'query-api', 'ranking', 'crawler', 'synonyms'],
  mobile: ['push-gateway', 'app-config', 'crash-reports', 'store-connect', 'deep-links'],
};
const DEMO_NAMES = ['db-password', 'api-key', 'oauth-client-secret', 'signing-key', 'webhook-secret', 'smtp-password', 'redis-password', 'tls-private-key', 'encryption-key', 'service-token'];
const OWNERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];

/** The paths of a set, in no particular order. */
export function dataSetPaths(set: GeneratedSet): string[] {
  const prefix = set.prefix ?? '';
  if (set.kind === 'demo') {
    const paths: string[] = [];
    for (const [team, apps] of Object.entries(DEMO_APPS)) for (const app of apps) for (const name of DEMO_NAMES) paths.push(`${prefix}${team}/${app}/${name}`);
    return paths;
  }
  const count = set.count ?? 1000;
  return Array.from({ length: count }, (_, i) => {
    const team = TEAMS[i % TEAMS.length]!;
    const service = Math.floor(i / TEAMS.length) % 50;
    const env = ENVS[Math.floor(i / (TEAMS.length * 50)) % ENVS.length]!;
    const n = Math.floor(i / (TEAMS.length * 50 * ENVS.length));
    return `${prefix}teams/${team}/svc-${String(service).padStart(2, '0')}/${env}/secret-${String(n).padStart(3, '0')}`;
  });
}

/**
 * Any value a generated entry holds (a password carries VALUE_SENTINEL, a username is svc-<team>), for
 * tests that must recognise every value the simulator holds without reading them all.
 */
export const GENERATED_VALUE = new RegExp(`${VALUE_SENTINEL}|\\bsvc-(?:${[...new Set([...TEAMS, ...Object.keys(DEMO_APPS)])].join('|')})\\b`);

const DAY = 86_400_000;

/** One generated secret, derived from its path and the seed alone (the same every time it is asked for). */
export function generatedEntry(path: string, seed: number, now: number): KvEntry {
  const h = createHash('sha256').update(`${seed}:${path}`).digest();
  const parts = path.split('/');
  const team = parts[0] === 'teams' ? parts[1]! : parts[0]!;
  const versionCount = 1 + (h[0]! % 5);
  const span = (h.readUInt32BE(1) % 700) * DAY;
  let at = now - span - DAY;
  const versions = new Map<number, KvEntry['versions'] extends Map<number, infer V> ? V : never>();
  for (let v = 1; v <= versionCount; v++) {
    const hex = createHash('sha256').update(`${seed}:${path}:${v}`).digest('hex').slice(0, 16);
    versions.set(v, { created: at, deleted: null, destroyed: false, data: { username: `svc-${team}`, password: `${VALUE_SENTINEL}-${hex}` } });
    at += Math.max(1, Math.floor(span / versionCount));
  }
  // About one in ten has its latest version deleted; one in twenty its first destroyed.
  if (h[5]! % 10 === 0) versions.get(versionCount)!.deleted = Math.min(now, versions.get(versionCount)!.created + DAY);
  if (versionCount > 1 && h[6]! % 20 === 0) Object.assign(versions.get(1)!, { destroyed: true, data: null });
  return {
    created: versions.get(1)!.created,
    updated: versions.get(versionCount)!.created,
    current: versionCount,
    oldest: 0,
    maxVersions: 0,
    casRequired: false,
    deleteVersionAfterMs: 0,
    custom: { owner: `${OWNERS[h[7]! % OWNERS.length]!}@example.com`, team },
    versions,
  };
}
