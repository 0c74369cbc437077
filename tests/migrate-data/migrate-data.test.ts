import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, listAudit } from '@/lib/audit/audit-log';
import { flushAnchors } from '@/lib/audit/anchors';
import { createLocalUser } from '@/lib/auth/users';
import { appDb, APP_DB_FILE } from '@/lib/db/app-db';
import { closePostgres } from '@/lib/db/postgres';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { buildDemoItems } from '@/lib/demo/demo-data';
import { seedDemoData } from '@/lib/demo/seed';
import { EventIndex } from '@/lib/cloudtrail/event-index';
import { FULL_SCOPE } from '@/lib/cloudtrail/event-scope';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { toInventoryRow } from '@/lib/inventory/records';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { seedRecords, STORES as CLOUDTRAIL_STORES, WHERE as CLOUDTRAIL_WHERE } from '../cloudtrail/index-fixtures';
import { createTestDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { writeLegacyLog } from '../audit/support/chain-db';

// `npm run migrate-data`: a SQLite deployment made by the app's own code, copied into a fresh
// PostgreSQL database by the command as an operator runs it; counts and the audit chain compared.

const temp = makeTempDir('secrets-migrate-data-');
const saved = { ...process.env };
const databases: { drop: () => Promise<void> }[] = [];

afterAll(async () => {
  process.env = { ...saved };
  await closePostgres();
  for (const db of databases) await db.drop();
  temp.cleanup();
});

let dirs = 0;

const DEMO = buildDemoItems();
const DEMO_VERSIONS = DEMO.reduce((n, item) => n + item.versions.length, 0);
const A_DEMO_ITEM = DEMO.find((item) => item.versions.length > 2)!;

const AWS_STORE = 'prod-params';
const CLOUDTRAIL_EVENTS = 300;

/** An AWS store's inventory as a walk leaves it: the demo items' metadata under another store id. */
async function writeAwsInventory(dataDir: string): Promise<void> {
  const inventory = await InventoryDb.open(dataDir);
  try {
    await inventory.beginWalk(AWS_STORE);
    await inventory.stage(
      DEMO.map((item, i) =>
        toInventoryRow(AWS_STORE, {
          name: item.name,
          folder: item.name.slice(0, item.name.lastIndexOf('/') + 1),
          kind: item.kind,
          description: item.description,
          tags: item.tags,
          kmsKeyId: null,
          lastChangedAt: item.versions.at(-1)!.at.toISOString(),
          lastChangedBy: item.versions.at(-1)!.actor,
          currentVersion: String(item.versions.length),
          labels: item.versions.at(-1)!.labels,
          extra: { tier: i % 5 ? 'Standard' : 'Advanced' },
        }),
      ),
    );
    await inventory.applyWalk(AWS_STORE, { items: DEMO.length, pages: 2, durationMs: 120, calls: { DescribeParameters: 2 }, throttled: 0, unreadableItems: 0 }, false);
  } finally {
    await inventory.close();
  }
}

async function writeCloudTrailIndex(dataDir: string): Promise<void> {
  const index = await EventIndex.open(dataDir, { retentionDays: 3650 });
  try {
    await index.ingest('le-eu', 'lookup-events', CLOUDTRAIL_WHERE, seedRecords(CLOUDTRAIL_EVENTS), { cursor: { startTime: 'x' } }, CLOUDTRAIL_STORES);
  } finally {
    await index.close();
  }
}

/**
 * A SQLite DATA_DIR written through the app: the built-in store with the demo data (its key in
 * DATA_DIR/master.key) and its inventory, an AWS store's inventory, a CloudTrail index, two users,
 * an audit log of `entries` entries.
 */
async function sqliteDeployment(entries = 5): Promise<{ dataDir: string; head: string }> {
  const dataDir = path.join(temp.dir, `data-${++dirs}`);
  delete process.env.DATABASE_URL;
  process.env.DATA_DIR = dataDir;
  const { store } = await EmbeddedStore.open('local', 'Built-in', { dataDir });
  await seedDemoData(store);
  await store.close();
  await writeAwsInventory(dataDir);
  await writeCloudTrailIndex(dataDir);
  await createLocalUser({ email: 'alice@example.com', role: 'admin', password: 'correct horse battery' });
  await createLocalUser({ email: 'bob@example.com', role: 'viewer', password: 'correct horse battery' });
  process.env.AUDIT_ANCHOR_EVERY = '2'; // anchors (audit_anchors rows) are copied like any table
  for (let i = 0; i < entries; i++) {
    await appendAudit({ actor: 'alice@example.com', action: i % 2 ? 'reveal' : 'rotate', target: `local:/prod/item-${i}`, outcome: 'success', details: { n: i } });
  }
  await flushAnchors();
  delete process.env.AUDIT_ANCHOR_EVERY;
  const [newest] = await listAudit(1);
  // Closed as a stopped server leaves it (the copy reads a file nobody writes).
  await (await appDb()).destroy();
  delete (globalThis as { __appDb?: unknown }).__appDb;
  return { dataDir, head: newest!.hash };
}

async function freshDatabase(): Promise<string> {
  const db = await createTestDatabase();
  databases.push(db);
  return db.url;
}

function migrateData(...args: string[]) {
  return migrateDataWith({}, ...args);
}

function migrateDataWith(extraEnv: Record<string, string>, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  if (!extraEnv.DATABASE_URL) delete env.DATABASE_URL;
  return spawnSync(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'scripts/migrate-data.ts', ...args], {
    cwd: process.cwd(),
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

async function postgresRows(url: string, query: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(query)).rows;
  } finally {
    await client.end();
  }
}

/** The printed table's line for a table: area, table, rows in SQLite, rows in PostgreSQL. */
function countLine(stdout: string, area: string, table: string): string[] | undefined {
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((cells) => cells[0] === area && cells[1] === table);
}

describe('npm run migrate-data', () => {
  let dataDir: string;
  let head: string;
  let url: string;
  let first: ReturnType<typeof migrateData>;

  beforeAll(async () => {
    ({ dataDir, head } = await sqliteDeployment(5));
    url = await freshDatabase();
    first = migrateData('--from', dataDir, '--to', url);
  }, 180_000);

  it('copies every table, prints equal counts and the same audit chain, exits 0', async () => {
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(countLine(first.stdout, 'app', 'users')).toEqual(['app', 'users', '2', '2']);
    expect(countLine(first.stdout, 'app', 'audit_log')).toEqual(['app', 'audit_log', '5', '5']);
    expect(countLine(first.stdout, 'app', 'audit_anchors')).toEqual(['app', 'audit_anchors', '2', '2']);
    expect(countLine(first.stdout, 'app', 'audit_chain_meta')).toEqual(['app', 'audit_chain_meta', '0', '0']);
    const items = String(DEMO.length);
    const versions = String(DEMO_VERSIONS);
    expect(countLine(first.stdout, 'builtin', 'items')).toEqual(['builtin', 'items', items, items]);
    expect(countLine(first.stdout, 'builtin', 'versions')).toEqual(['builtin', 'versions', versions, versions]);
    expect(countLine(first.stdout, 'builtin', 'inv_items')).toEqual(['builtin', 'inv_items', items, items]);
    expect(countLine(first.stdout, 'inventory', 'inv_items')).toEqual(['inventory', 'inv_items', items, items]);
    const events = String(CLOUDTRAIL_EVENTS);
    expect(countLine(first.stdout, 'cloudtrail', 'ct_events')).toEqual(['cloudtrail', 'ct_events', events, events]);
    expect(Number(countLine(first.stdout, 'cloudtrail', 'ct_entries')![2])).toBeGreaterThan(CLOUDTRAIL_EVENTS);
    // Every table of the printed list, equal on both sides; the search index and staging are named as left out.
    const tableLines = first.stdout.split('\n').filter((l) => /^(app|builtin|inventory|cloudtrail) /.test(l));
    expect(tableLines.length).toBeGreaterThanOrEqual(20);
    for (const line of tableLines) expect(line).toMatch(/^\w+ +\w+ +(\d+) +\1$/);
    expect(first.stdout).toContain('note: secrets.db inv_search not copied: full-text index');
    expect(first.stdout).toContain('note: secrets.db inv_staging not copied');
    expect(first.stdout).toContain('note: inventory.db inv_search not copied: full-text index');
    expect(first.stdout).toContain(`Audit chain on SQLite:     intact, 5 entries, head ${head}`);
    expect(first.stdout).toContain(`Audit chain on PostgreSQL: intact, 5 entries, head ${head}`);
    expect(first.stdout).toMatch(/Done: every table's rows and the audit chain match/);
    // The key file is named, never shown.
    const keyFile = path.join(dataDir, 'master.key');
    expect(first.stdout).toContain(`MASTER_KEY      the built-in store's values were copied sealed`);
    expect(first.stdout).toContain(`the content of ${keyFile}`);
    expect(first.stdout).not.toContain(readFileSync(keyFile, 'utf8').trim());

    const users = await postgresRows(url, 'SELECT email, role FROM app.users ORDER BY email');
    expect(users).toEqual([
      { email: 'alice@example.com', role: 'admin' },
      { email: 'bob@example.com', role: 'viewer' },
    ]);
    const audit = await postgresRows(url, 'SELECT seq, target, hash FROM app.audit_log ORDER BY seq');
    expect(audit.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(audit.at(-1)!.hash).toBe(head);
  });

  it("opens the built-in store on the copy with the key file's content as MASTER_KEY: the same values", async () => {
    const masterKeyBase64 = readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim();
    const { store: onSqlite } = await EmbeddedStore.open('local', 'Built-in', { dataDir, masterKeyBase64 });
    const { store: onPostgres } = await EmbeddedStore.open('local', 'Built-in', { dataDir: path.join(temp.dir, 'unused'), masterKeyBase64, databaseUrl: url });
    try {
      expect(await onPostgres.count()).toBe(DEMO.length);
      expect(await onPostgres.readValue(A_DEMO_ITEM.name)).toBe(A_DEMO_ITEM.versions.at(-1)!.value);
      expect(await onPostgres.readValue(A_DEMO_ITEM.name, '1')).toBe(await onSqlite.readValue(A_DEMO_ITEM.name, '1'));
      // The identity sequence moved past the copied ids: a new item gets an id of its own.
      await onPostgres.putValue({ name: '/prod/after-the-copy', value: 'new-value', actor: 'alice@example.com' });
      expect(await onPostgres.readValue('/prod/after-the-copy')).toBe('new-value');
    } finally {
      await onSqlite.close();
      await onPostgres.close();
      await closePostgres();
    }
  });

  it('answers searches and timelines on the copy as on SQLite (search indexes built from the copied rows)', async () => {
    const onSqlite = { inventory: await InventoryDb.open(dataDir), events: await EventIndex.open(dataDir, { retentionDays: 3650 }) };
    const onPostgres = { inventory: await InventoryDb.openPostgres(url), events: await EventIndex.openPostgres(url, { retentionDays: 3650 }) };
    try {
      const scopes = [{ storeId: AWS_STORE, namePattern: null }];
      for (const query of ['payments', 'DB', 'team platform']) {
        const names = async (db: InventoryDb) => (await db.index.search(scopes, query, 50)).map((hit) => `${hit.name} ${hit.matchedIn}`);
        const expected = await names(onSqlite.inventory);
        expect(expected.length).toBeGreaterThan(0);
        expect(await names(onPostgres.inventory)).toEqual(expected);
      }
      const timeline = async (index: EventIndex) => (await index.queries.timeline({}, FULL_SCOPE, { limit: 500 })).entries.map((e) => JSON.stringify(e));
      const entries = await timeline(onSqlite.events);
      expect(entries.length).toBeGreaterThan(CLOUDTRAIL_EVENTS);
      expect(await timeline(onPostgres.events)).toEqual(entries);
    } finally {
      await onSqlite.inventory.close();
      await onSqlite.events.close();
      await onPostgres.inventory.close();
      await closePostgres();
    }
  });

  it('runs the app on the copy: sign-in data and the audit log carry on from where SQLite stopped', async () => {
    process.env.DATABASE_URL = url;
    // As the copy tells the operator: the key file's content becomes MASTER_KEY (the audit chain key is sealed under it).
    process.env.MASTER_KEY = readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim();
    try {
      const { verifyLocalPassword } = await import('@/lib/auth/users');
      expect((await verifyLocalPassword('alice@example.com', 'correct horse battery'))?.role).toBe('admin');
      await appendAudit({ actor: 'alice@example.com', action: 'sign-in', target: 'dashboard', outcome: 'success' });
      const { verifyAuditChain } = await import('@/lib/audit/audit-log');
      expect(await verifyAuditChain()).toMatchObject({ intact: true, entries: 6 });
    } finally {
      delete process.env.DATABASE_URL;
      if (saved.MASTER_KEY === undefined) delete process.env.MASTER_KEY;
      else process.env.MASTER_KEY = saved.MASTER_KEY;
      delete (globalThis as { __appDb?: unknown }).__appDb;
      await closeKeyrings();
      await closePostgres();
    }
  });

  it('refuses a target that already holds data, naming the table, and writes nothing (exit 2)', async () => {
    const before = await postgresRows(url, 'SELECT count(*)::int AS n FROM app.audit_log');
    const again = migrateData('--from', dataDir, '--to', url);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/PostgreSQL already holds data in app\.\w+; migrate-data copies into an empty database only\. Nothing was written\./);
    expect(await postgresRows(url, 'SELECT count(*)::int AS n FROM app.audit_log')).toEqual(before);
    expect(await postgresRows(url, 'SELECT count(*)::int AS n FROM app.users')).toEqual([{ n: 2 }]);
  });

  it('exits 1 naming the entry when the SQLite audit chain was tampered with', async () => {
    const tampered = await sqliteDeployment(5);
    const conn = new Database(path.join(tampered.dataDir, APP_DB_FILE));
    conn.prepare(`UPDATE audit_log SET target = 'local:/prod/other' WHERE seq = 3`).run();
    conn.close();
    const run = migrateData('--from', tampered.dataDir, '--to', await freshDatabase());
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/Audit chain on SQLite: +BROKEN at entry #3 \(\d{4}-\d\d-\d\dT[\d:.]+Z, rotate\): hash mismatch/);
    expect(run.stdout).toMatch(/Audit chain on PostgreSQL: BROKEN at entry #3 \(.+, rotate\): hash mismatch/);
    expect(run.stderr).toMatch(/The audit chain on SQLite does not verify/);
    expect(countLine(run.stdout, 'app', 'audit_log')).toEqual(['app', 'audit_log', '5', '5']);
  });

  it('copies a log from before the keyed chain with its marker: both sides verify, keyed from the same entry', async () => {
    const dataDir = path.join(temp.dir, `data-${++dirs}`);
    delete process.env.DATABASE_URL;
    process.env.DATA_DIR = dataDir;
    await writeLegacyLog(3);
    for (let i = 0; i < 2; i++) await appendAudit({ actor: 'alice@example.com', action: 'reveal', target: `local:/prod/${i}`, outcome: 'success' });
    const [newest] = await listAudit(1);
    await (await appDb()).destroy();
    delete (globalThis as { __appDb?: unknown }).__appDb;
    await closeKeyrings();
    const target = await freshDatabase();
    const run = migrateData('--from', dataDir, '--to', target);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Audit chain on PostgreSQL: intact, 5 entries, head ${newest!.hash}`);
    expect(await postgresRows(target, "SELECT value FROM app.audit_chain_meta WHERE name = 'keyed_from_seq'")).toEqual([{ value: '4' }]);
  });

  it('refuses to copy a log it cannot check (no keyring beside it), writing nothing (exit 2)', async () => {
    const keyless = await sqliteDeployment(2);
    await closeKeyrings();
    renameSync(path.join(keyless.dataDir, 'secrets.db'), path.join(temp.dir, `secrets-${dirs}.db`));
    const target = await freshDatabase();
    const run = migrateData('--from', keyless.dataDir, '--to', target);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/The audit log cannot be checked without its key: .* has no secrets\.db, where the audit chain key is kept .* Nothing was written\./);
    expect(await postgresRows(target, "SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name IN ('app', 'builtin', 'inventory', 'cloudtrail')")).toEqual([{ n: 0 }]);
  });

  it('refuses SQLite files from an older version (a migration not applied), writing nothing (exit 2)', async () => {
    const old = await sqliteDeployment(1);
    const conn = new Database(path.join(old.dataDir, APP_DB_FILE));
    conn.prepare(`DELETE FROM migrations_app WHERE name = '0002-coordination'`).run();
    conn.close();
    const target = await freshDatabase();
    const run = migrateData('--from', old.dataDir, '--to', target);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/app\.db lacks this version's migration 0002-coordination of app\. Start this version of the dashboard on the SQLite data once/);
    expect(await postgresRows(target, `SELECT schema_name FROM information_schema.schemata WHERE schema_name IN ('app', 'builtin')`)).toEqual([]);
  });

  it('exits 2 naming authentication on a wrong password, never printing it', async () => {
    const wrong = new URL(await freshDatabase());
    wrong.password = 'not-the-password-0451';
    const run = migrateData('--from', dataDir, '--to', wrong.toString());
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/refused user "postgres" \(authentication failed\)/);
    expect(run.stdout + run.stderr).not.toContain('not-the-password-0451');
    expect(run.stdout).toContain('postgres://postgres:***@127.0.0.1');
  });

  it.each([
    [['--to', 'postgres://u:secret-pw@127.0.0.1:1/db'], /--from is required/],
    [['--from', '/nonexistent/dir', '--to', 'postgres://u:secret-pw@127.0.0.1:1/db'], /--from: \/nonexistent\/dir is not a directory/],
    [['--from', '.'], /--to \(or DATABASE_URL\) is required/],
    [['--from', '.', '--to', 'mysql://u:secret-pw@h/db'], /--from: .+ holds neither app\.db nor secrets\.db[^]*--to must be a PostgreSQL URL/],
    [['--from', '.', 'postgres://u:secret-pw@h/db'], /Unexpected argument 'postgres:\/\/u:\*\*\*@h\/db'/],
  ])('exits 2 on bad arguments %j without echoing a password', (args, message) => {
    const run = migrateData(...args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('usage: npm run migrate-data');
    expect(run.stdout + run.stderr).not.toContain('secret-pw');
  });

  it('takes the target from DATABASE_URL when --to is not given (the password stays out of the process list)', async () => {
    const deployment = await sqliteDeployment(2);
    const target = await freshDatabase();
    const run = migrateDataWith({ DATABASE_URL: target }, '--from', deployment.dataDir);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(countLine(run.stdout, 'app', 'audit_log')).toEqual(['app', 'audit_log', '2', '2']);
    expect(run.stdout).not.toContain(new URL(target).password);
  });

  it('--help prints the usage', () => {
    const run = migrateData('--help');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run migrate-data -- --from DATA_DIR --to postgres:/);
  });
});
