import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The logger reads LOG_LEVEL when it is first imported.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import { createSilence, liftSilence, listSilences } from '@/lib/alerts/admin';
import { resetAlertsConfig } from '@/lib/alerts/alerts-config';
import { alertsDb, closeAlertsDb, recordConditions } from '@/lib/alerts/alerts';
import { AlertsDb, type StoredSilence } from '@/lib/alerts/alerts-db';
import { BACKUP_MAGIC, readContainerHeader, type BackupManifest } from '@/lib/backup/container';
import { isExpectedRestoreError, restoreExitCode } from '@/lib/backup/exit-codes';
import { restoreBackup, type RestoreResult } from '@/lib/backup/restore-backup';
import { takeBackup } from '@/lib/backup/take-backup';
import { readEnv } from '@/lib/config/env';
import type { Principal } from '@/lib/auth/principal';
import { closeKeyrings } from '@/lib/crypto/keyring';
import type { EmbeddedStore } from '@/lib/stores/embedded/store';
import { getStore } from '@/lib/stores/registry';
import { openInventoryDashboard } from '../support/inventory-dashboard';
import { makeTempDir } from '../support/temp-dir';
import { listing, repackBackup, runCli } from './support/backup-helpers';

// A backup carries the alert silences admins set (alerts.db holding those alone) and a restore brings
// them back, each checked against the backup's audit log (verified under the audit chain key), as it
// does the findings' suppressions: the same ids, rules and items, reasons, expiries, authors and
// lifts. The open alerts, the delivery queue and the digests are not carried (the next evaluation
// raises what still holds). A silences part altered (damaged bytes, or rows edited and re-packed with
// fresh checksums) is refused with nothing written; a silence the audit log never recorded is left
// out and named.

const DAY = 86_400_000;
const CONFIG = `
stores:
  - id: local
    kind: local
alerts:
  channels:
    - { id: hook, kind: webhook, urlEnv: BACKUP_TEST_HOOK_URL, secretEnv: BACKUP_TEST_HOOK_SECRET }
  rules:
    - { id: prod-overdue, events: [overdue], channel: hook }
    - { id: prod-due-soon, events: [due-soon], channel: hook }
`;
const A = '/prod/payments/db-password';
const B = '/prod/web/session-key';
const ADMIN: Principal = { via: 'session', userId: 'u-admin', email: 'admin@example.com', name: null, role: 'admin', grants: [{ role: 'admin', stores: null, paths: ['/**'] }] };
const OTHER: Principal = { ...ADMIN, userId: 'u-other', email: 'second-admin@example.com' };

const temp = makeTempDir('secrets-backup-silences-');
const dataDir = path.join(temp.dir, 'data');
const keyFile = path.join(dataDir, 'master.key');
const good = path.join(temp.dir, 'with-silences.backup');
const savedEnv = { ...process.env };
/** The silences as the live deployment lists them (id order). */
let before: Awaited<ReturnType<typeof listSilences>>;

const byId = <T extends { id: number }>(rows: T[]) => [...rows].sort((a, b) => a.id - b.id);
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();
const fields = (s: StoredSilence) => ({
  id: s.id,
  ruleId: s.ruleId,
  storeId: s.storeId,
  itemName: s.itemName,
  reason: s.reason,
  expiresAt: s.expiresAt,
  createdBy: s.createdBy,
  createdAt: s.createdAt,
  liftedAt: s.liftedAt,
  liftedBy: s.liftedBy,
});

/** The restored deployment's silences, as its alerts store lists them to the /alerts page. */
async function listedIn(restored: string) {
  const store = await AlertsDb.open(restored);
  try {
    return byId(await store.silences(500));
  } finally {
    await store.close();
  }
}

function editAlerts(dir: string, edit: (conn: Database.Database) => void): void {
  const conn = new Database(path.join(dir, 'alerts.db'));
  try {
    edit(conn);
  } finally {
    conn.close();
  }
}

/** The good backup with its manifest edited and every checksum made anew (writeContainer would refuse the manifest). */
function rewriteManifest(out: string, edit: (manifest: BackupManifest) => void): void {
  const bytes = readFileSync(good);
  const { manifest, bodyOffset } = readContainerHeader(good);
  edit(manifest);
  const json = Buffer.from(JSON.stringify(manifest), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  const body = Buffer.concat([BACKUP_MAGIC, length, json, bytes.subarray(bodyOffset, bytes.length - 32)]);
  writeFileSync(out, Buffer.concat([body, createHash('sha256').update(body).digest()]));
}

async function restoreInProcess(file: string, target: string, lines: string[] = []): Promise<RestoreResult> {
  return restoreBackup({ file, dataDir: target, keyFile, env: readEnv({ ...process.env, MASTER_KEY: '' }), say: (line) => lines.push(line) });
}

beforeAll(async () => {
  process.env.BACKUP_TEST_HOOK_URL = 'http://127.0.0.1:9/hook';
  process.env.BACKUP_TEST_HOOK_SECRET = 'webhook-secret-for-the-backup-tests-0123456789';
  const dashboard = await openInventoryDashboard(temp.dir, CONFIG, 'sqlite');
  resetAlertsConfig();
  try {
    const store = (await getStore('local')) as EmbeddedStore;
    for (const name of [A, B]) await store.putValue({ name, value: `value of ${name}`, kind: 'SecureString', description: null, tags: {}, actor: 'test', labels: [], at: new Date() });
    // State the next evaluation rebuilds: an open alert and its trigger waiting in the queue (no worker runs here).
    await recordConditions({ rule: 'prod-overdue', event: 'overdue', subjects: [{ storeId: 'local', name: B, url: 'https://dash.example.com/x', status: 'overdue' }] });
    const reason = 'The payments team rotates these on Monday; paging now wakes nobody useful. '.repeat(4); // over the 200 characters the audit entry keeps
    await createSilence(ADMIN, { ruleId: 'prod-overdue', reason, expiresAt: inDays(30) });
    await createSilence(OTHER, { storeId: 'local', itemName: A, reason: 'Being decommissioned this week.', expiresAt: inDays(90) });
    const lifted = await createSilence(ADMIN, { ruleId: 'prod-due-soon', storeId: 'local', itemName: B, reason: 'Rotation is scheduled.', expiresAt: inDays(10) });
    await liftSilence(OTHER, { id: lifted.id });
    before = byId(await listSilences(ADMIN));
    expect(before.map((s) => [s.id, s.state, s.liftedBy])).toEqual([
      [1, 'active', null],
      [2, 'active', null],
      [3, 'lifted', 'second-admin@example.com'],
    ]);
    const live = await alertsDb();
    expect((await live.alerts({ limit: 10 })).length).toBe(1);
    await takeBackup({ dataDir, file: good });
  } finally {
    await closeAlertsDb();
    await dashboard.close();
    await closeKeyrings();
  }
}, 60_000);

afterAll(() => {
  process.env = { ...savedEnv };
  resetAlertsConfig();
  temp.cleanup();
});

describe('a backup carries the alert silences', () => {
  it('counts them in the manifest (format version 3), with alerts.db holding the silences alone', async () => {
    const { manifest } = readContainerHeader(good);
    expect(manifest.version).toBe(3);
    expect(manifest.files.map((f) => f.name)).toEqual(['secrets.db', 'app.db', 'alerts.db']);
    expect(manifest.counts).toMatchObject({ items: 2, silences: 3 });
    expect(manifest.counts.suppressions).toBeUndefined();
  });

  it('says so when taken from the command line', async () => {
    const run = await runCli('backup', [path.join(temp.dir, 'cli.backup')], { DATA_DIR: dataDir, MASTER_KEY: undefined, LOG_LEVEL: 'silent' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/: secrets\.db, app\.db, alerts\.db$/m);
    expect(run.stdout).toContain('  3 alert silences (open alerts and deliveries are raised again by the next evaluation after a restore)');
    expect(run.stdout).toContain('  No findings store yet: no suppressions to carry.');
  }, 30_000);

  it('restores them into a fresh DATA_DIR: the same ids, rules and items, reasons, expiries, authors and lifts (CLI)', async () => {
    const restored = path.join(temp.dir, 'restored');
    const run = await runCli('restore', [good, '--key-file', keyFile], { DATA_DIR: restored, MASTER_KEY: undefined, LOG_LEVEL: 'silent' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Backup of \S+: secrets\.db, app\.db, alerts\.db; 2 items, 2 versions, \d+ audit entries, 3 alert silences\.$/m);
    expect(run.stdout).toContain('Silences: 3 restored, each as the audit log records it (open alerts, deliveries and digests are rebuilt by the next evaluation).');
    expect(run.stdout).toContain('This backup holds no findings store');
    expect(listing(restored).map((l) => l.split(' ')[0])).toEqual(['alerts.db', 'app.db', 'secrets.db']);
    expect(statSync(path.join(restored, 'alerts.db')).mode & 0o777).toBe(0o600);
    const after = await listedIn(restored);
    expect(after.map(fields)).toEqual(before.map(fields));
    expect(after[0]!.reason.length).toBeGreaterThan(200);
    // Nothing but the silences: the open alert and its queued trigger are raised again by the next evaluation.
    const conn = new Database(path.join(restored, 'alerts.db'), { readonly: true });
    try {
      for (const table of ['alerts', 'alert_deliveries', 'alert_digest_runs'])
        expect([table, (conn.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n]).toEqual([table, 0]);
    } finally {
      conn.close();
    }
    // The restored store goes on numbering after the restored ids.
    const store = await AlertsDb.open(restored);
    try {
      expect(await store.addSilence({ ruleId: 'prod-overdue', storeId: null, itemName: null, reason: 'next', expiresAt: inDays(1), createdBy: 'x', createdAt: new Date().toISOString() })).toBe(4);
    } finally {
      await store.close();
    }
  }, 30_000);
});

interface Tampering {
  name: string;
  make: (out: string) => void;
  message: RegExp;
}

const edited = (sql: string, ...params: unknown[]) => (out: string) => repackBackup(good, out, (dir) => editAlerts(dir, (c) => c.prepare(sql).run(...params)));

const TAMPERINGS: Tampering[] = [
  {
    name: 'a byte of alerts.db flipped (checksums kept)',
    make: (out) => {
      const bytes = readFileSync(good);
      const { manifest, bodyOffset } = readContainerHeader(good);
      const at = bodyOffset + manifest.files.filter((f) => f.name !== 'alerts.db').reduce((n, f) => n + f.bytes, 0) + 200;
      bytes[at] = bytes[at]! ^ 0xff;
      writeFileSync(out, bytes);
    },
    message: /the checksum of alerts\.db does not match its manifest/,
  },
  {
    name: 'an expiry pushed out a year',
    make: edited('UPDATE alert_silences SET expires_at = ? WHERE id = 1', inDays(365)),
    message: /The backup's silence #1's expiry differs from what audit entry #\d+ records: it was altered\. Nothing was restored/,
  },
  { name: 'a reason rewritten', make: edited("UPDATE alert_silences SET reason = 'Accepted by the CISO.' WHERE id = 2"), message: /silence #2's reason differs from what audit entry #\d+ records/ },
  { name: 'the author changed', make: edited("UPDATE alert_silences SET created_by = 'ciso@example.com' WHERE id = 2"), message: /silence #2's author differs/ },
  { name: 'a silence widened to another rule', make: edited("UPDATE alert_silences SET rule_id = 'prod-due-soon' WHERE id = 1"), message: /silence #1's rule or item differs/ },
  { name: 'an item silence widened to a whole rule', make: edited("UPDATE alert_silences SET rule_id = 'prod-overdue' WHERE id = 2"), message: /silence #2's rule differs/ },
  { name: 'a silence moved to another item', make: edited('UPDATE alert_silences SET item_name = ? WHERE id = 2', B), message: /silence #2's rule or item differs/ },
  {
    name: 'a lift undone',
    make: edited('UPDATE alert_silences SET lifted_at = NULL, lifted_by = NULL WHERE id = 3'),
    message: /silence #3 is in force, but audit entry #\d+ records that second-admin@example\.com lifted it/,
  },
  { name: 'a silence removed (the manifest still counting it)', make: edited('DELETE FROM alert_silences WHERE id = 2'), message: /The backup's silences do not match its manifest: 2 found, 3 listed/ },
  {
    name: 'a row that is not a silence (an expiry that is not a date)',
    make: edited("UPDATE alert_silences SET expires_at = 'never' WHERE id = 1"),
    message: /In alerts\.db in the backup, silence #1 is not a valid silence \(expires_at: /,
  },
  {
    name: 'a row that is not a silence (neither rule nor item)',
    make: edited('UPDATE alert_silences SET rule_id = NULL WHERE id = 1'),
    message: /In alerts\.db in the backup, silence #1 is not a valid silence \(row: a silence names a rule, an item, or both\)/,
  },
  {
    name: 'alerts.db that is not an alerts store',
    make: (out) => repackBackup(good, out, (dir) => editAlerts(dir, (c) => c.exec('DROP TABLE alert_silences'))),
    message: /alerts\.db in the backup has no alert_silences table; it is not the dashboard's alerts store/,
  },
  {
    name: 'alerts.db without its count in the manifest',
    make: (out) =>
      rewriteManifest(out, (manifest) => {
        delete manifest.counts.silences;
      }),
    message: /its manifest is not valid \(counts\.silences: must be counted exactly when alerts\.db is in the backup\)/,
  },
  {
    name: 'alerts.db in a version 2 manifest',
    make: (out) =>
      rewriteManifest(out, (manifest) => {
        manifest.version = 2;
      }),
    message: /its manifest is not valid \(files: alerts\.db is carried from backup format version 3 on\)/,
  },
];

describe('a tampered silences part is refused, nothing written', () => {
  it.each(TAMPERINGS)('$name', async ({ name, make, message }) => {
    const file = path.join(temp.dir, `tampered-${name.replace(/[^a-z]+/g, '-')}.backup`);
    make(file);
    const place = path.join(temp.dir, `place-${name.replace(/[^a-z]+/g, '-')}`);
    const error = await restoreInProcess(file, path.join(place, 'data')).catch((e: unknown) => e);
    expect(isExpectedRestoreError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect(restoreExitCode(error)).toBe(1);
    expect(listing(place)).toEqual(['(absent)']);
    expect(listing(temp.dir).filter((l) => l.includes('.restore-'))).toEqual([]);
  }, 20_000);
});

describe('what the audit log does not vouch for', () => {
  it('leaves out a silence no audit entry records (added to the file), naming it', async () => {
    const file = path.join(temp.dir, 'unaudited.backup');
    repackBackup(good, file, (dir, manifest) => {
      editAlerts(dir, (c) =>
        c
          .prepare('INSERT INTO alert_silences (id, rule_id, store_id, item_name, reason, expires_at, created_by, created_at) VALUES (4, ?, ?, ?, ?, ?, ?, ?)')
          .run('prod-overdue', 'local', A, 'Planted.', inDays(80), 'admin@example.com', new Date().toISOString()),
      );
      manifest.counts.silences = 4;
      return manifest;
    });
    const restored = path.join(temp.dir, 'unaudited-restored');
    const lines: string[] = [];
    const result = await restoreInProcess(file, restored, lines);
    expect(result.silences?.unaudited.map((s) => s.id)).toEqual([4]);
    expect(lines).toContain('Silences: 3 restored, each as the audit log records it (open alerts, deliveries and digests are rebuilt by the next evaluation).');
    expect(lines).toContain(
      "  silence #4 (rule prod-overdue on local:/prod/payments/db-password) is not in the backup's audit log (made while the backup ran, or added to the file since): not restored.",
    );
    expect((await listedIn(restored)).map((s) => s.id)).toEqual([1, 2, 3]);
  }, 20_000);

  it('restores a lift the audit log does not record (it silences less), and says so', async () => {
    const file = path.join(temp.dir, 'lift-unaudited.backup');
    repackBackup(good, file, (dir) =>
      editAlerts(dir, (c) => c.prepare("UPDATE alert_silences SET lifted_at = ?, lifted_by = 'admin@example.com' WHERE id = 2").run(new Date().toISOString())),
    );
    const restored = path.join(temp.dir, 'lift-unaudited-restored');
    const lines: string[] = [];
    await restoreInProcess(file, restored, lines);
    expect(lines).toContain("  silence #2 is restored lifted, though the backup's audit log does not record the lift (lifted while the backup ran).");
    expect((await listedIn(restored)).map((s) => [s.id, s.liftedBy])).toEqual([
      [1, null],
      [2, 'admin@example.com'],
      [3, 'second-admin@example.com'],
    ]);
  }, 20_000);

  it('names a silence in force that the audit log records and the alerts store does not hold', async () => {
    const file = path.join(temp.dir, 'missing.backup');
    repackBackup(good, file, (dir, manifest) => {
      editAlerts(dir, (c) => c.prepare('DELETE FROM alert_silences WHERE id = 1').run());
      manifest.counts.silences = 2;
      return manifest;
    });
    const lines: string[] = [];
    const result = await restoreInProcess(file, path.join(temp.dir, 'missing-restored'), lines);
    expect(result.silences?.missing).toEqual([1]);
    expect(lines).toContain(
      "  the audit log records 1 silence(s) in force that the backup's alerts store does not hold (#1): silence those alerts again if they still apply.",
    );
  }, 20_000);
});
