import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncFreshnessColumns } from '@/lib/freshness/columns';
import { globsPattern, nameRanges, namePatternRegExp } from '@/lib/auth/path-glob';
import { policySet, resolvePolicy, type FreshnessPolicySet } from '@/lib/freshness/policies';
import { freshnessSchedule, itemFreshness, type FreshnessSubject } from '@/lib/freshness/status';
import { FRESHNESS_STATUSES, type FreshnessStatus } from '@/lib/freshness/types';
import { AGE_BUCKETS, compareWorst, STATUS_RANK, type WorstKey } from '@/lib/freshness/worst-order';
import { InventoryDb, INVENTORY_DB_FILE } from '@/lib/inventory/inventory-db';
import { CursorError } from '@/lib/inventory/inventory-index';
import { ROW_COLUMNS, toInventoryRow, type InventoryExtra, type InventoryRecord } from '@/lib/inventory/records';
import { DATABASES } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { inventoryPlace, type InventoryPlace } from '../inventory/open-inventory';
import { seededRandom } from '@/lib/random/seeded-random';

// The inventory's freshness queries against a brute-force computation (the pure status function
// over every record) on a few thousand generated items in two stores: counts by status and the age
// histogram (all names, and cut to a grant pattern), worst-first pages that visit every item once
// in the expected order, status filters on worst pages and folder pages, recomputation when the
// policies change (on SQLite and PostgreSQL), and SQLite files from before the freshness columns.

const NOW = new Date('2026-06-01T12:00:00.000Z');
const DAY = 86_400_000;
const STORES = ['params', 'secrets'] as const;
const PER_STORE = 1800;

const POLICIES_A = policySet([
  { path: '/prod/', maxAgeDays: 30, warnBeforeDays: 7 },
  { path: '/prod/payments/', maxAgeDays: 14, warnBeforeDays: 3, stores: ['secrets'] },
  { path: '/dev/', maxAgeDays: 180, warnBeforeDays: 30 },
]);
const POLICIES_B = policySet([{ path: '/', maxAgeDays: 365, warnBeforeDays: 60 }]);

const mulberry32 = seededRandom;

const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();

function generate(storeId: (typeof STORES)[number], seed: number): InventoryRecord[] {
  const rand = mulberry32(seed);
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  return Array.from({ length: PER_STORE }, (_, i) => {
    const folder = `/${pick(['prod', 'staging', 'dev'])}/${pick(['payments', 'web', 'auth'])}/`;
    const name = `${folder}item-${String(i).padStart(5, '0')}`;
    // Whole days often, so many items share a due date and the name breaks ties.
    const changedAgo = rand() < 0.5 ? Math.floor(rand() * 500) * DAY : Math.floor(rand() * 500 * DAY);
    const extra: InventoryExtra = {};
    let version = rand() < 0.2 ? '1' : String(2 + Math.floor(rand() * 20));
    if (storeId === 'secrets') {
      const rotated = rand() < 0.4 ? at(-changedAgo + Math.floor(rand() * 20) * DAY) : null;
      extra.rotation = {
        enabled: rand() < 0.5,
        schedule: 'rate(30 days)',
        lastRotatedAt: rotated && rotated < NOW.toISOString() ? rotated : null,
        nextRotationAt: rand() < 0.7 ? at(Math.floor((rand() - 0.5) * 60) * DAY) : null,
        lastAccessedAt: null,
        lambdaArn: null,
      };
      extra.stagedVersions = 1 + Math.floor(rand() * 3);
      version = `uuid-${i}`;
      // Some rotations under way (minutes ago), some stuck (hours or days ago).
      if (rand() < 0.04) extra.pendingVersion = `pending-${i}`;
    } else {
      const r = rand();
      if (r < 0.05) extra.policies = [{ type: 'Expiration', status: 'Pending', text: JSON.stringify({ Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: at(Math.floor((rand() - 0.3) * 40) * DAY) } }) }];
      else if (r < 0.1) extra.policies = [{ type: 'NoChangeNotification', status: 'Pending', text: JSON.stringify({ Type: 'NoChangeNotification', Version: '1.0', Attributes: { After: String(1 + Math.floor(rand() * 60)), Unit: 'Days' } }) }];
      if (rand() < 0.02) extra.rotationFailure = { at: at(-Math.floor(rand() * 10 * DAY)), message: 'rotation failed' };
    }
    const pendingSoon = extra.pendingVersion && rand() < 0.3;
    return {
      name,
      folder,
      kind: storeId === 'secrets' ? 'secret' : 'SecureString',
      description: null,
      tags: rand() < 0.5 ? { owner: pick(['alice', 'bob']) } : rand() < 0.5 ? { team: 'payments' } : {},
      kmsKeyId: null,
      lastChangedAt: at(pendingSoon ? -Math.floor(rand() * 14 * 60_000) : -changedAgo),
      lastChangedBy: null,
      currentVersion: version,
      labels: [],
      extra,
    } as InventoryRecord;
  });
}

const RECORDS: Record<string, InventoryRecord[]> = { params: generate('params', 1), secrets: generate('secrets', 2) };

interface Expected {
  name: string;
  status: FreshnessStatus;
  key: WorstKey;
  ageDays: number;
}

function expected(storeId: string, policies: FreshnessPolicySet, now = NOW): Expected[] {
  return RECORDS[storeId]!.map((r) => {
    const subject: FreshnessSubject = { storeId, name: r.name, lastChangedAt: r.lastChangedAt, version: r.currentVersion, extra: r.extra };
    const f = itemFreshness(subject, policies, now);
    const s = freshnessSchedule(subject, resolvePolicy(policies, storeId, r.name));
    const rank = STATUS_RANK[f.status];
    return {
      name: r.name,
      status: f.status,
      key: { rank, time: rank === 0 ? s.failingAt! : s.dueAt, storeId, name: r.name },
      ageDays: Math.floor((now.getTime() - Date.parse(s.ageFrom)) / DAY),
    };
  });
}

function countsOf(rows: Expected[]) {
  const counts = Object.fromEntries(FRESHNESS_STATUSES.map((s) => [s, 0])) as Record<FreshnessStatus, number>;
  for (const r of rows) counts[r.status]++;
  return counts;
}

function agesOf(rows: Expected[]) {
  return AGE_BUCKETS.map((b) => rows.filter((r) => r.ageDays >= b.minDays && (b.maxDays === null || r.ageDays < b.maxDays)).length);
}

const PATTERN = globsPattern(['/prod/**', '/dev/auth/**']);
const inPattern = (name: string) => new RegExp(PATTERN).test(name);

async function fill(target: InventoryDb) {
  for (const storeId of STORES) {
    await target.beginWalk(storeId);
    const rows = RECORDS[storeId]!.map((r) => toInventoryRow(storeId, r));
    for (let i = 0; i < rows.length; i += 100) await target.stage(rows.slice(i, i + 100));
    await target.applyWalk(storeId, { items: rows.length, pages: 1, durationMs: 1, calls: {}, throttled: 0, unreadableItems: 0 }, false);
  }
}

async function walkWorst(target: InventoryDb, storeId: string, limit: number, options: { statuses?: FreshnessStatus[]; namePattern?: string | null } = {}) {
  const names: string[] = [];
  const statuses: FreshnessStatus[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await target.index.worstPage({ storeId, namePattern: options.namePattern ?? null, statuses: options.statuses, cursor, limit, now: NOW });
    names.push(...page.items.map((i) => i.name));
    statuses.push(...page.items.map((i) => i.freshness.status));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return { names, statuses };
}

describe.each(DATABASES)('freshness in the inventory (%s)', (kind) => {
  let place: InventoryPlace;
  let db: InventoryDb;

  beforeAll(async () => {
    place = await inventoryPlace(kind);
    db = await place.open(POLICIES_A);
    await fill(db);
  });
  afterAll(async () => {
    await db.close();
    await place.cleanup();
  });

  describe.each(STORES)('store %s', (storeId) => {
    it('reaches every status in the generated data', () => {
      const counts = countsOf(expected(storeId, POLICIES_A));
      for (const status of FRESHNESS_STATUSES) expect(counts[status], status).toBeGreaterThan(0);
    });

    it('counts by status and ages exactly as the brute force, for every name and cut to a pattern', async () => {
      const all = expected(storeId, POLICIES_A);
      const summary = await db.index.freshnessSummary(storeId, null, NOW);
      expect(summary.total).toBe(PER_STORE);
      expect(summary.counts).toEqual(countsOf(all));
      expect(summary.ages.map((a) => a.count)).toEqual(agesOf(all));
      expect(summary.ages.map((a) => a.label)).toEqual(['< 30 d', '30–90 d', '90–180 d', '180–365 d', '> 1 y']);

      const cut = all.filter((r) => inPattern(r.name));
      const scoped = await db.index.freshnessSummary(storeId, PATTERN, NOW);
      expect(scoped.total).toBe(cut.length);
      expect(scoped.total).toBeLessThan(PER_STORE);
      expect(scoped.counts).toEqual(countsOf(cut));
      expect(scoped.ages.map((a) => a.count)).toEqual(agesOf(cut));
    });

    it('pages worst first, every item once, in the expected order, the SQL status agreeing with the pure one', async () => {
      const all = expected(storeId, POLICIES_A).sort((a, b) => compareWorst(a.key, b.key));
      const { names, statuses } = await walkWorst(db, storeId, 97);
      expect(names).toEqual(all.map((r) => r.name));
      expect(statuses).toEqual(all.map((r) => r.status));
    });

    it('filters worst pages by status and by pattern', async () => {
      const wanted: FreshnessStatus[] = ['never-rotated', 'due-soon', 'rotation-failing'];
      const all = expected(storeId, POLICIES_A)
        .filter((r) => wanted.includes(r.status) && inPattern(r.name))
        .sort((a, b) => compareWorst(a.key, b.key));
      const { names } = await walkWorst(db, storeId, 13, { statuses: wanted, namePattern: PATTERN });
      expect(names).toEqual(all.map((r) => r.name));
      for (const status of FRESHNESS_STATUSES) {
        const only = await walkWorst(db, storeId, 500, { statuses: [status] });
        expect(only.names.length, status).toBe(countsOf(expected(storeId, POLICIES_A))[status]);
        expect(new Set(only.statuses)).toEqual(new Set(only.names.length ? [status] : []));
      }
    });

    it('filters folder pages and their counts by status', async () => {
      const wanted: FreshnessStatus[] = ['overdue', 'fresh'];
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await db.index.folderPage({ storeId, folder: '/prod/', recursive: true, statuses: wanted, now: NOW, namePattern: null, limit: 50, cursor, sort: 'changed', dir: 'desc' });
        names.push(...page.items.map((i) => i.name));
        expect(page.items.every((i) => wanted.includes(i.freshness.status))).toBe(true);
        cursor = page.nextCursor;
      } while (cursor);
      const expectedNames = expected(storeId, POLICIES_A).filter((r) => r.name.startsWith('/prod/') && wanted.includes(r.status)).map((r) => r.name);
      expect([...names].sort()).toEqual([...expectedNames].sort());
      expect(await db.index.countItems({ storeId, folder: '/prod/', recursive: true, statuses: wanted, now: NOW, namePattern: null })).toBe(expectedNames.length);
    });
  });

  describe('name ranges', () => {
    const names = ['/prod', '/prod/', '/prod/a', '/prod/payments', '/prod/payments/x', '/prod/paymentsX/y', '/prodx/a', '/dev/auth/k', '/dev/auth', '/dev/other/k', '/staging/prod/a', '/prod/payments/db/password'];
    const inRanges = (r: NonNullable<ReturnType<typeof nameRanges>>, n: string) => r.names.includes(n) || r.prefixes.some((p) => n.startsWith(p));
    it.each([
      [['/prod/**'], true],
      [['/prod/payments/**', '/dev/auth/k'], true],
      [['/prod/**', '/prod/payments/**'], true],
      // "pay*" then "**" is every name beginning /prod/pay: exact.
      [['/prod/pay*/**'], true],
      [['/dev/{auth,other}/**'], true],
      [['/dev/{auth,ot*}/**'], true],
      [['/dev/{auth,ot*}/k'], false],
    ])('%j cover exactly (or at least) the names the globs match', (globs, exact) => {
      const ranges = nameRanges(globs)!;
      const re = namePatternRegExp(globsPattern(globs));
      expect(ranges.exact).toBe(exact);
      for (const n of names) {
        if (re.test(n)) expect(inRanges(ranges, n), n).toBe(true);
        else if (exact) expect(inRanges(ranges, n), n).toBe(false);
      }
    });
    it('gives up on a glob that may match anything', () => {
      expect(nameRanges(['/*/auth/**'])).toBeNull();
    });
    it('cuts summaries and worst pages exactly like the pattern alone', async () => {
      // Overlapping grants (a folder inside another, a name inside a folder) are counted once.
      for (const globs of [['/prod/**', '/dev/auth/**'], ['/prod/w*/**'], ['/staging/payments/item-00001'], ['/prod/**', '/prod/payments/**', '/prod/payments/db/password', '/dev/auth/**']]) {
        const pattern = globsPattern(globs);
        const ranges = nameRanges(globs);
        expect(await db.index.freshnessSummary('secrets', pattern, NOW, ranges)).toEqual(await db.index.freshnessSummary('secrets', pattern, NOW));
        const a = await db.index.worstPage({ storeId: 'params', namePattern: pattern, nameRanges: ranges, limit: 3000, now: NOW });
        const b = await db.index.worstPage({ storeId: 'params', namePattern: pattern, limit: 3000, now: NOW });
        expect(a.items.map((i) => i.name)).toEqual(b.items.map((i) => i.name));
      }
    });
  });

  describe('cursors', () => {
    it('pin the time: later pages keep the first page’s now', async () => {
      const first = await db.index.worstPage({ storeId: 'params', namePattern: null, limit: 10, now: NOW });
      const later = await db.index.worstPage({ storeId: 'params', namePattern: null, limit: 10, now: new Date(NOW.getTime() + 400 * DAY), cursor: first.nextCursor });
      expect(later.now.toISOString()).toBe(NOW.toISOString());
      const all = expected('params', POLICIES_A).sort((a, b) => compareWorst(a.key, b.key));
      expect(later.items.map((i) => i.name)).toEqual(all.slice(10, 20).map((r) => r.name));
    });

    it('refuse anything that is not one of theirs', async () => {
      for (const cursor of ['nonsense', Buffer.from('["w1","not a date",0,"","params","/a"]').toString('base64url'), Buffer.from('["name","asc","x","y"]').toString('base64url')]) {
        await expect(db.index.worstPage({ storeId: 'params', namePattern: null, limit: 10, now: NOW, cursor })).rejects.toBeInstanceOf(CursorError);
      }
    });
  });

  describe('policy changes', () => {
    it('recompute every row once when the policies differ, and not when they are the same', async () => {
      const other = await inventoryPlace(kind);
      try {
        const first = await other.open(POLICIES_A);
        await fill(first);
        await first.close();

        const reopened = await other.open(POLICIES_B);
        const summary = await reopened.index.freshnessSummary('secrets', null, NOW);
        expect(summary.counts).toEqual(countsOf(expected('secrets', POLICIES_B)));
        expect(summary.counts).not.toEqual(countsOf(expected('secrets', POLICIES_A)));
        const { names } = await walkWorst(reopened, 'params', 250);
        expect(names).toEqual(expected('params', POLICIES_B).sort((a, b) => compareWorst(a.key, b.key)).map((r) => r.name));
        await reopened.close();

        const raw = other.raw();
        try {
          expect(await syncFreshnessColumns(raw.db, POLICIES_B)).toBe(0);
          expect(await syncFreshnessColumns(raw.db, POLICIES_A)).toBe(2 * PER_STORE);
        } finally {
          await raw.done();
        }
      } finally {
        await other.cleanup();
      }
    });
  });
});

describe('an inventory.db from before the freshness columns (SQLite)', () => {
  it('gets the columns, keeping its rows', async () => {
    const temp = makeTempDir('secrets-freshness-old-');
    const dir = path.join(temp.dir, 'old');
    mkdirSync(dir, { recursive: true });
    const conn = new Database(path.join(dir, INVENTORY_DB_FILE));
    // The schema as it was: no fresh_* columns, no inv_meta, no migrations table.
    conn.exec(PRE_FRESHNESS_SCHEMA_SQL);
    expect((conn.prepare('PRAGMA table_info(inv_items)').all() as { name: string }[]).some((c) => c.name.startsWith('fresh_'))).toBe(false);
    const record = RECORDS.params![0]!;
    conn.prepare(`INSERT INTO inv_items (${ROW_COLUMNS.join(', ')}) VALUES (${ROW_COLUMNS.map((c) => `@${c}`).join(', ')})`).run(toInventoryRow('params', record));
    conn.prepare(`INSERT INTO inv_staging (${ROW_COLUMNS.join(', ')}) VALUES (${ROW_COLUMNS.map((c) => `@${c}`).join(', ')})`).run(toInventoryRow('params', record));
    const insertFolder = conn.prepare('INSERT INTO inv_folders (store_id, path, parent, direct_items, total_items) VALUES (?, ?, ?, ?, ?)');
    insertFolder.run('params', '/', '', 0, 1);
    conn.close();

    const opened = await InventoryDb.open(dir, POLICIES_A);
    try {
      const item = await opened.index.getItem('params', record.name, NOW);
      expect(item?.freshness.status).toBe(expected('params', POLICIES_A)[0]!.status);
      const summary = await opened.index.freshnessSummary('params', null, NOW);
      expect(summary.total).toBe(1);
      expect(summary.counts[expected('params', POLICIES_A)[0]!.status]).toBe(1);
      // The old search index is kept and still found.
      expect((await opened.index.search([{ storeId: 'params', namePattern: null }], record.name.slice(-8), 5)).map((h) => h.name)).toEqual([record.name]);
      // Staging got the columns too, so a walk goes on as before.
      await opened.beginWalk('params');
      await opened.stage([toInventoryRow('params', record)]);
      expect(await opened.applyWalk('params', { items: 1, pages: 1, durationMs: 1, calls: {}, throttled: 0, unreadableItems: 0 }, false)).toEqual({ added: 0, changed: 0, deleted: 0 });
    } finally {
      await opened.close();
      temp.cleanup();
    }
  });
});

/** inventory.db as versions before the freshness columns made it. */
const PRE_FRESHNESS_SCHEMA_SQL = `
CREATE TABLE inv_items (
  id INTEGER PRIMARY KEY,
  store_id TEXT NOT NULL, name TEXT NOT NULL, folder TEXT NOT NULL, leaf TEXT NOT NULL, kind TEXT NOT NULL, description TEXT,
  tags TEXT NOT NULL DEFAULT '{}', tag_text TEXT NOT NULL DEFAULT '', kms_key_id TEXT, last_changed_at TEXT NOT NULL, last_changed_by TEXT,
  version TEXT NOT NULL, version_key TEXT NOT NULL, labels TEXT NOT NULL DEFAULT '[]', extra TEXT NOT NULL DEFAULT '{}', fingerprint TEXT NOT NULL,
  tags_synced_at TEXT,
  UNIQUE (store_id, name)
);
CREATE INDEX inv_items_folder_name ON inv_items (store_id, folder, name);
CREATE VIRTUAL TABLE inv_search USING fts5(name, description, tag_text, content='inv_items', content_rowid='id', tokenize='trigram');
CREATE TRIGGER inv_items_ai AFTER INSERT ON inv_items BEGIN
  INSERT INTO inv_search (rowid, name, description, tag_text) VALUES (new.id, new.name, new.description, new.tag_text);
END;
CREATE TRIGGER inv_items_ad AFTER DELETE ON inv_items BEGIN
  INSERT INTO inv_search (inv_search, rowid, name, description, tag_text) VALUES ('delete', old.id, old.name, old.description, old.tag_text);
END;
CREATE TRIGGER inv_items_au AFTER UPDATE OF name, description, tag_text ON inv_items BEGIN
  INSERT INTO inv_search (inv_search, rowid, name, description, tag_text) VALUES ('delete', old.id, old.name, old.description, old.tag_text);
  INSERT INTO inv_search (rowid, name, description, tag_text) VALUES (new.id, new.name, new.description, new.tag_text);
END;
CREATE TABLE inv_folders (store_id TEXT NOT NULL, path TEXT NOT NULL, parent TEXT NOT NULL, direct_items INTEGER NOT NULL, total_items INTEGER NOT NULL, PRIMARY KEY (store_id, path));
CREATE TABLE inv_sync (
  store_id TEXT PRIMARY KEY, synced_at TEXT, items INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0, duration_ms INTEGER NOT NULL DEFAULT 0,
  calls TEXT NOT NULL DEFAULT '{}', throttled INTEGER NOT NULL DEFAULT 0, unreadable_items INTEGER NOT NULL DEFAULT 0, unreadable_tags INTEGER NOT NULL DEFAULT 0,
  error_code TEXT, error_message TEXT, error_at TEXT
);
CREATE TABLE inv_staging (
  store_id TEXT NOT NULL, name TEXT NOT NULL, folder TEXT NOT NULL, leaf TEXT NOT NULL, kind TEXT NOT NULL, description TEXT,
  tags TEXT NOT NULL DEFAULT '{}', tag_text TEXT NOT NULL DEFAULT '', kms_key_id TEXT, last_changed_at TEXT NOT NULL, last_changed_by TEXT,
  version TEXT NOT NULL, version_key TEXT NOT NULL, labels TEXT NOT NULL DEFAULT '[]', extra TEXT NOT NULL DEFAULT '{}', fingerprint TEXT NOT NULL,
  PRIMARY KEY (store_id, name)
);
`;
