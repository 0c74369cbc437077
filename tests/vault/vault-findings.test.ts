import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// The logger reads LOG_LEVEL when first imported.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});
// Pages read the session through next/headers; the mock hands them the caller's cookie.
vi.mock('next/headers', () => import('../support/next-headers-mock'));
vi.mock('next/navigation', async (original) => ({ ...(await original<object>()), useRouter: () => ({ refresh: () => undefined, push: () => undefined }) }));

import FindingsPage from '@/app/(dashboard)/findings/page';
import ItemPage from '@/app/(dashboard)/items/[store]/[...name]/page';
import { GET as findingsRoute } from '@/app/api/v1/findings/route';
import { resetGrantRules } from '@/lib/auth/effective-grants';
import type { Principal } from '@/lib/auth/principal';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { loadCloudTrailSources } from '@/lib/cloudtrail/sources-config';
import { CloudTrailSync } from '@/lib/cloudtrail/sync';
import { VaultFileSource } from '@/lib/cloudtrail/vault-file-source';
import { listFindings } from '@/lib/data/findings';
import { closeFindingsDb, evaluateFindings } from '@/lib/findings/findings';
import type { FindingDto } from '@/lib/findings/queries';
import { FINDING_STATUSES } from '@/lib/findings/types';
import { closeInventoryDb, inventoryDb, inventorySync, startInventorySync } from '@/lib/inventory/inventory';
import { startSimulatedVault, type SimulatedVault } from '@/simulator/vault/simulated-vault';
import { sessionJar } from '../support/next-headers-mock';
import { bearer, credentialsFor } from '../support/subject-credentials';
import { makeTempDir } from '../support/temp-dir';
import { vaultHttp } from '../vault-sim/vault-http';
import { tokenFor } from './support';

// Findings for Vault stores, end to end: secrets written to the Vault simulator (whose file audit
// device records every call), synced into the inventory, their audit log read into the event index,
// and the findings evaluated ~196 days later on the simulator's clock. The same mount is two stores:
// `vault-kv`, whose audit source stays configured, and `vault-dark`, whose audit source is removed
// half way: its reads are then unknown, so the controls that rest on reads resolve there, and only
// there. Then /findings, the item page and the exports, per caller (allowed and denied).

const DAY = 86_400_000;
const temp = makeTempDir('vault-findings-');
const SAVED = Object.fromEntries(['DATA_DIR', 'CONFIG_FILE', 'DATABASE_URL', 'DEMO_DATA', 'MASTER_KEY', 'VAULT_FINDINGS_TOKEN'].map((k) => [k, process.env[k]]));
/** Planted in every secret's data; never to be found in a finding, a page or an export. */
const VALUE = 'vault-findings-value-5b2e';
/** A custom_metadata entry besides the owner: shown as a tag on the item page, never in a finding. */
const TAG_NOTE = 'vault-findings-tag-note-8d1f';
/** Outside the scoped auditor's paths, without an owner: its name must never reach them. */
const SENTINEL_OUTSIDE = '/web/zz-vault-outside-q7v';

let sim: SimulatedVault;
let configFile: string;
let evaluatedAt: Date;
let cookies: Record<Subject, string>;
let tokens: Record<Subject, string>;

const SUBJECTS = ['admin', 'auditor', 'local-auditor', 'viewer'] as const;
type Subject = (typeof SUBJECTS)[number];

const config = (darkAudited: boolean) =>
  [
    'stores:',
    '  - id: local',
    '    kind: local',
    ...['vault-kv', 'vault-dark'].map((id) => `  - { id: ${id}, kind: vault, address: "${sim.url}", auth: { method: token, tokenEnv: VAULT_FINDINGS_TOKEN }, rate: 500 }`),
    'audit:',
    '  - { id: vault-kv-audit, kind: vault-file, store: vault-kv, path: vault/vault_audit.log }',
    ...(darkAudited ? ['  - { id: vault-dark-audit, kind: vault-file, store: vault-dark, path: vault/vault_audit.log }'] : []),
    'grants:',
    // Held to /app/** of every store.
    '  - { user: auditor@example.com, role: auditor, paths: ["/app/**"] }',
    // Every path, but of the built-in store only: no Vault store at all.
    '  - { user: local-auditor@example.com, role: auditor, stores: [local], paths: ["/**"] }',
    '  - { user: viewer@example.com, role: viewer, paths: ["/**"] }',
    '',
  ].join('\n');

const principal = (role: Principal['grants'][number]['role'], paths: string[], stores: string[] | null = null): Principal => ({
  via: 'session',
  userId: `u-${role}`,
  email: `${role}@example.com`,
  name: null,
  role: null,
  grants: [{ role, stores, paths }],
});
const ADMIN = principal('admin', ['/**']);

async function findingsOf(storeId: string, statuses = [...FINDING_STATUSES]): Promise<FindingDto[]> {
  return (await listFindings(ADMIN, { storeIds: [storeId], statuses, limit: 500 }, evaluatedAt)).items;
}
/** "item control" of the open findings. */
const open = (list: FindingDto[]) => list.filter((f) => f.status === 'open').map((f) => `${f.itemName} ${f.control}`).sort();

async function readAuditLog(): Promise<void> {
  const { vaultSources, stores } = loadCloudTrailSources();
  const sync = new CloudTrailSync(await auditEventIndex(), vaultSources.map((c) => new VaultFileSource(c)), { intervalMs: 3_600_000, stores });
  for (const result of (await sync.runOnce()).values()) expect(result.error).toBeNull();
  await sync.stop();
}

beforeAll(async () => {
  sim = await startSimulatedVault({
    latencyMs: 0,
    policies: [
      { name: 'browse', paths: { 'secret/metadata/*': ['read', 'list'] } },
      { name: 'reader', paths: { 'secret/data/*': ['read'] } },
    ],
    audit: { path: join(temp.dir, 'vault', 'vault_audit.log'), salt: 'vault-findings-salt' },
  });
  const root = vaultHttp(sim.url, { token: sim.rootToken });
  const reader = (name: string) => vaultHttp(sim.url, { token: tokenFor(sim, ['reader'], { ttl: 0, displayName: name }) });
  const [api, etl, report] = [reader('api'), reader('etl'), reader('report')];
  const put = async (path: string, owner: string | null) => {
    expect((await root.post(`secret/data/${path}`, { data: { password: VALUE } })).status).toBe(200);
    if (owner) expect((await root.post(`secret/metadata/${path}`, { custom_metadata: { owner, note: TAG_NOTE } })).status).toBe(204);
  };
  const read = async (client: typeof api, path: string) => expect((await client.get(`secret/data/${path}`)).status).toBe(200);

  // Day 0: everything written and read once by `api`.
  for (const path of ['app/db', 'app/api-key', 'app/rotated', 'app/retired', 'web/owned']) await put(path, 'payments@example.com');
  await put('app/orphan', null);
  await put(SENTINEL_OUTSIDE.slice(1), null);
  await put('app/rotated', null); // version 2 (custom_metadata stays)
  for (const path of ['app/db', 'app/api-key', 'app/rotated', 'app/orphan', 'app/retired', 'web/owned', SENTINEL_OUTSIDE.slice(1)]) await read(api, path);
  // The current version of app/retired deleted (vault kv delete): a read answers nothing.
  expect((await root.del('secret/data/app/retired')).status).toBe(204);

  // Day 195: a new reader, a reader of the old version, and two secrets written again.
  sim.control({ advanceClockMs: 195 * DAY });
  await read(etl, 'app/api-key');
  expect((await report.get('secret/data/app/rotated?version=1')).status).toBe(200);
  for (const path of ['app/api-key', 'web/owned']) await put(path, 'payments@example.com');
  // A day after the simulator's clock (195 days ahead of this one).
  evaluatedAt = new Date(Date.now() + 196 * DAY);

  configFile = join(temp.dir, 'dashboard.yaml');
  writeFileSync(configFile, config(true));
  delete process.env.MASTER_KEY;
  delete process.env.DATABASE_URL;
  Object.assign(process.env, { DATA_DIR: join(temp.dir, 'data'), CONFIG_FILE: configFile, DEMO_DATA: '0', VAULT_FINDINGS_TOKEN: tokenFor(sim, ['browse'], { ttl: 0, displayName: 'dashboard' }) });
  delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
  resetGrantRules();

  await startInventorySync();
  for (let i = 0; i < 100 && !inventorySync(); i++) await new Promise((r) => setTimeout(r, 50));
  for (const id of ['vault-kv', 'vault-dark']) await inventorySync()!.idle(id);
  expect(await (await inventoryDb()).index.syncRecord('vault-kv')).toMatchObject({ items: 7, error_code: null });
  await readAuditLog();
  await evaluateFindings({ force: true, now: evaluatedAt });
  ({ cookies, tokens } = await credentialsFor(SUBJECTS, (subject) => (subject === 'admin' ? 'admin' : 'viewer')));
});

afterAll(async () => {
  await closeFindingsDb();
  await closeInventoryDb();
  await (await auditEventIndex()).close();
  sim.close();
  delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
  resetGrantRules();
  for (const [key, value] of Object.entries(SAVED)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  temp.cleanup();
});

beforeEach(() => {
  sessionJar.cookie = null;
});

/** What both stores raise whatever their audit: no owner, overdue (196 days > 90), the deleted current version. */
const WITHOUT_READS = [
  '/app/db not-rotated-within-policy',
  '/app/orphan no-owner',
  '/app/orphan not-rotated-within-policy',
  '/app/retired not-rotated-within-policy',
  '/app/retired vault-current-version-deleted',
  '/app/rotated not-rotated-within-policy',
  `${SENTINEL_OUTSIDE} no-owner`,
  `${SENTINEL_OUTSIDE} not-rotated-within-policy`,
];
/** What the audit log adds: unread for 196 days, a new reader, an old version read after the change. */
const FROM_READS = [
  '/app/api-key new-reader',
  '/app/db not-read-recently',
  '/app/orphan not-read-recently',
  '/app/retired not-read-recently',
  '/app/rotated new-reader',
  '/app/rotated old-version-read-after-rotation',
  `${SENTINEL_OUTSIDE} not-read-recently`,
];

describe('evaluated from the inventory and the audit log', () => {
  it('raises each control that applies to Vault on the secrets that fail it, and nothing on the clean ones', async () => {
    const kv = await findingsOf('vault-kv');
    expect(open(kv)).toEqual([...WITHOUT_READS, ...FROM_READS].sort());
    // Written again on day 195, owned, read: clean (not read recently would need 90 days since the write).
    expect(kv.filter((f) => f.itemName === '/web/owned')).toEqual([]);
    // /app/rotated was read on day 195 only by version number, and /app/api-key was written again then.
    expect(kv.some((f) => f.itemName === '/app/api-key' && f.control === 'not-read-recently')).toBe(false);
  });

  it('names the evidence: the audit log as the source, the new reader, the old version, the deleted version', async () => {
    const kv = await findingsOf('vault-kv');
    const of = (item: string, control: string) => kv.find((f) => f.itemName === item && f.control === control)!;
    // Its one read (day 0) lies before the reads gathered (the window and the new-reader look-back).
    expect(of('/app/db', 'not-read-recently').evidence.summary).toMatch(/^No read in Vault's audit log since \d{4}-\d\d-\d\d; the limit is 90 days\.$/);
    expect(of('/app/db', 'not-read-recently').evidence.facts).toEqual({ limitDays: 90 });
    expect(of('/app/api-key', 'new-reader').evidence.principals!.map((p) => p.principal)).toEqual([expect.stringContaining('etl')]);
    // `api` read it on day 0 too: not new.
    expect(of('/app/rotated', 'new-reader').evidence.principals!.map((p) => p.principal)).toEqual([expect.stringContaining('report')]);
    expect(of('/app/rotated', 'old-version-read-after-rotation').evidence.facts).toMatchObject({ versions: 'version 1', readers: 1 });
    expect(of('/app/rotated', 'old-version-read-after-rotation').evidence.principals!.map((p) => p.principal)).toEqual([expect.stringContaining('report')]);
    expect(of('/app/retired', 'vault-current-version-deleted').evidence.summary).toMatch(/^Version 1, the current one, is deleted or destroyed in Vault/);
    expect(of('/app/orphan', 'no-owner')).toMatchObject({ owner: null, arn: null, account: null, kind: 'secret' });
    expect(of('/app/db', 'not-rotated-within-policy').owner).toBe('payments@example.com');
    expect(JSON.stringify(kv)).not.toContain(VALUE);
    expect(JSON.stringify(kv)).not.toContain(TAG_NOTE);
  });

  it('asks the read controls only while an audit source covers the store: removed, they resolve there and nowhere else', async () => {
    expect(open(await findingsOf('vault-dark'))).toEqual([...WITHOUT_READS, ...FROM_READS].sort());
    writeFileSync(configFile, config(false));
    await evaluateFindings({ force: true, now: evaluatedAt });
    const dark = await findingsOf('vault-dark');
    expect(open(dark)).toEqual(WITHOUT_READS);
    expect(dark.filter((f) => f.status === 'resolved').map((f) => `${f.itemName} ${f.control}`).sort()).toEqual(FROM_READS);
    expect(open(await findingsOf('vault-kv'))).toEqual([...WITHOUT_READS, ...FROM_READS].sort());
  });
});

const render = async (page: Promise<React.ReactNode>) => renderToStaticMarkup(await page);
const findingsHtml = (query: Record<string, string> = {}) => render(FindingsPage({ searchParams: Promise.resolve({ store: 'vault-kv', ...query }) }));
const itemHtml = (name: string) => render(ItemPage({ params: Promise.resolve({ store: 'vault-kv', name: name.split('/').slice(1) }) }));
const itemLinks = (html: string) => [...html.matchAll(/data-testid="finding-item"[^>]*>([^<]+)</g)].map((m) => m[1]!);
const isNotFound = (error: unknown) => String((error as { digest?: string }).digest ?? '').includes('404');

/** Who sees what of the Vault store's findings: its list on /findings, and the item page's panel. */
const SEES: Record<Subject, { list: 'all' | 'app' | 'none' | 404; panel: boolean }> = {
  admin: { list: 'all', panel: true },
  auditor: { list: 'app', panel: true },
  'local-auditor': { list: 'none', panel: false },
  viewer: { list: 404, panel: false },
};

describe.each(SUBJECTS.map((subject) => ({ subject, ...SEES[subject] })))('$subject on the pages', ({ subject, list, panel }) => {
  it(`/findings shows ${list === 404 ? 'nothing (404)' : `${list} of the Vault store's findings`}`, async () => {
    sessionJar.cookie = cookies[subject];
    if (list === 404) return expect(findingsHtml()).rejects.toSatisfy(isNotFound);
    const html = await findingsHtml();
    const links = itemLinks(html);
    if (list === 'none') expect(links).toEqual([]);
    else {
      expect(links).toEqual(expect.arrayContaining(['/app/retired', '/app/orphan']));
      expect(html).toContain('data-control="vault-current-version-deleted"');
    }
    if (list === 'all') expect(links).toContain(SENTINEL_OUTSIDE);
    else expect(html).not.toContain('zz-vault-outside');
    expect(html).not.toContain(VALUE);
  });

  it(`the item page ${panel ? 'has' : 'has no'} Findings panel for /app/retired`, async () => {
    sessionJar.cookie = cookies[subject];
    if (subject === 'local-auditor') {
      // No grant on the Vault store at all: not even the item page.
      return expect(itemHtml('/app/retired')).rejects.toSatisfy(isNotFound);
    }
    const html = await itemHtml('/app/retired');
    expect(html).toContain('/app/retired');
    if (panel) {
      expect(html).toContain('data-testid="findings-panel"');
      expect(html).toMatch(/data-control="vault-current-version-deleted"/);
      expect(html).toMatch(/data-control="not-read-recently"/);
    } else {
      expect(html).not.toContain('findings-panel');
      expect(html).not.toContain('<h3>The current version is deleted</h3>');
    }
    expect(html).not.toContain(VALUE);
  });
});

describe('exports of a Vault store’s findings', () => {
  const exported = async (subject: Subject, format: 'csv' | 'asff') =>
    findingsRoute(new Request(`http://dashboard.test/api/v1/findings?store=vault-kv&format=${format}&limit=500`, bearer(tokens[subject])));

  it('ASFF names the item by store and name with its KV v2 paths, never an ARN, on the placeholder account', async () => {
    const res = await exported('admin', 'asff');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(VALUE);
    expect(text).not.toMatch(/arn:aws:(ssm|secretsmanager)/);
    const { Findings } = JSON.parse(text) as { Findings: { Resources: { Type: string; Id: string; Details?: { Other: Record<string, string> } }[]; AwsAccountId: string; ProductFields: Record<string, string>; GeneratorId: string }[] };
    const retired = Findings.find((f) => f.GeneratorId === 'vault-current-version-deleted')!;
    expect(retired.AwsAccountId).toBe('000000000000');
    expect(retired.Resources).toEqual([
      { Type: 'Other', Id: 'vault-kv:/app/retired', Details: { Other: { VaultMount: 'secret', VaultDataPath: 'secret/data/app/retired', VaultMetadataPath: 'secret/metadata/app/retired' } } },
    ]);
  });

  it.each([
    ['admin', 200, true],
    ['auditor', 200, false],
    ['local-auditor', 200, false],
    ['viewer', 403, false],
  ] as const)('CSV for %s: %s, the outside item %s', async (subject, status, outside) => {
    const res = await exported(subject, 'csv');
    expect(res.status).toBe(status);
    const text = await res.text();
    expect(text.includes('zz-vault-outside')).toBe(outside);
    if (subject === 'local-auditor') expect(text.split('\r\n').filter(Boolean)).toHaveLength(1); // the header alone
    if (subject !== 'viewer' && subject !== 'local-auditor') expect(text).toMatch(/\r\nlow,vault-current-version-deleted,The current version is deleted,open,vault-kv,\/app\/retired,,payments@example.com,/);
    expect(text).not.toContain(VALUE);
  });
});
