import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The logger reads LOG_LEVEL when it is first imported.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import { BACKUP_MAGIC, readContainerHeader, type BackupManifest } from '@/lib/backup/container';
import { isExpectedRestoreError, restoreExitCode } from '@/lib/backup/exit-codes';
import { restoreBackup, type RestoreResult } from '@/lib/backup/restore-backup';
import { takeBackup } from '@/lib/backup/take-backup';
import { readEnv } from '@/lib/config/env';
import type { Principal } from '@/lib/auth/principal';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { createSuppression, liftSuppressionById, listSuppressions } from '@/lib/data/findings';
import { closeFindingsDb, evaluateFindings } from '@/lib/findings/findings';
import { FindingsDb } from '@/lib/findings/findings-db';
import type { EmbeddedStore } from '@/lib/stores/embedded/store';
import { getStore } from '@/lib/stores/registry';
import { openInventoryDashboard } from '../support/inventory-dashboard';
import { makeTempDir } from '../support/temp-dir';
import { listing, makeDeployment, newMasterKey, repackBackup, runCli } from './support/backup-helpers';

// A backup carries the suppressions reviewers wrote (findings.db holding those alone) and a restore
// brings them back, each checked against the backup's audit log (verified under the audit chain
// key): the same ids, reasons, expiries, authors and lifts, listed by the data layer of the restored
// deployment. The findings themselves are not carried (recomputed after the first sync). A backup
// without findings.db (an older backup) restores as before and says so. A findings part altered
// (damaged bytes, or rows edited and re-packed with fresh checksums) is refused with nothing written;
// a suppression the audit log never recorded is left out and named.

const DAY = 86_400_000;
const CONFIG = `
stores:
  - id: local
    kind: local
`;
const A = '/prod/payments/db-password';
const B = '/prod/web/session-key';
const ADMIN: Principal = { via: 'session', userId: 'u-admin', email: 'reviewer@example.com', name: null, role: 'admin', grants: [{ role: 'admin', stores: null, paths: ['/**'] }] };
const OTHER: Principal = { ...ADMIN, userId: 'u-other', email: 'second-reviewer@example.com' };

const temp = makeTempDir('secrets-backup-suppressions-');
const dataDir = path.join(temp.dir, 'data');
const keyFile = path.join(dataDir, 'master.key');
const good = path.join(temp.dir, 'with-suppressions.backup');
const savedEnv = { ...process.env };
/** The suppressions as the live deployment lists them (id order). */
let before: Awaited<ReturnType<typeof listSuppressions>>;

const byId = <T extends { id: number }>(rows: T[]) => [...rows].sort((a, b) => a.id - b.id);
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

/** The restored deployment's suppressions, as its findings store lists them to the /findings page. */
async function listedIn(restored: string) {
  const store = await FindingsDb.open(restored);
  try {
    return byId(await store.suppressions([{ storeId: 'local', namePattern: null }], 500));
  } finally {
    await store.close();
  }
}

function editFindings(dir: string, edit: (conn: Database.Database) => void): void {
  const conn = new Database(path.join(dir, 'findings.db'));
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
  const dashboard = await openInventoryDashboard(temp.dir, CONFIG, 'sqlite');
  try {
    const store = (await getStore('local')) as EmbeddedStore;
    const old = new Date(Date.now() - 400 * DAY);
    for (const name of [A, B]) await store.putValue({ name, value: `value of ${name}`, kind: 'SecureString', description: null, tags: {}, actor: 'test', labels: [], at: old });
    expect((await evaluateFindings({ force: true })).has('local')).toBe(true);
    const reason = 'Owned by the payments team; the tag comes with the migration. '.repeat(5); // over the 200 characters the audit entry keeps
    await createSuppression(ADMIN, { storeId: 'local', itemName: A, control: 'no-owner', reason, expiresAt: inDays(30) });
    await createSuppression(OTHER, { storeId: 'local', itemName: B, control: 'no-owner', reason: 'Session keys are rotated by the web team.', expiresAt: inDays(90) });
    const lifted = await createSuppression(ADMIN, { storeId: 'local', itemName: B, control: 'not-rotated-within-policy', reason: 'Rotation is scheduled.', expiresAt: inDays(10) });
    await liftSuppressionById(OTHER, { id: lifted.id });
    before = byId(await listSuppressions(ADMIN));
    expect(before.map((s) => [s.id, s.active, s.liftedBy])).toEqual([
      [1, true, null],
      [2, true, null],
      [3, false, 'second-reviewer@example.com'],
    ]);
    await takeBackup({ dataDir, file: good });
  } finally {
    await closeFindingsDb();
    await dashboard.close();
    await closeKeyrings();
  }
}, 60_000);

afterAll(() => {
  process.env = { ...savedEnv };
  temp.cleanup();
});

describe('a backup carries the suppressions', () => {
  it('counts them in the manifest (format version 2), with findings.db holding the suppressions alone', async () => {
    const { manifest } = readContainerHeader(good);
    expect(manifest.version).toBe(2);
    expect(manifest.files.map((f) => f.name)).toEqual(['secrets.db', 'app.db', 'findings.db']);
    expect(manifest.counts.suppressions).toBe(3);
  });

  it('restores them into a fresh DATA_DIR: the same ids, reasons, expiries, authors and lifts (CLI)', async () => {
    const restored = path.join(temp.dir, 'restored');
    const run = await runCli('restore', [good, '--key-file', keyFile], { DATA_DIR: restored, MASTER_KEY: undefined, LOG_LEVEL: 'silent' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Suppressions: 3 restored, each as the audit log records it (the findings themselves are recomputed after the first sync).');
    expect(run.stdout).toMatch(/^Backup of \S+: secrets\.db, app\.db, findings\.db; 2 items, 2 versions, \d+ audit entries, 3 finding suppressions\.$/m);
    // A version-2 backup (no alerts.db) restores as before, and says it brings no silences.
    expect(run.stdout).toContain(
      'This backup holds no alerts store (it was taken by an older version, or before alerts were first used): open alerts are raised again by the next evaluation, and no silences are restored.',
    );
    expect(listing(restored).map((l) => l.split(' ')[0])).toEqual(['app.db', 'findings.db', 'secrets.db']);
    expect(statSync(path.join(restored, 'findings.db')).mode & 0o777).toBe(0o600);
    const after = await listedIn(restored);
    const fields = (s: Omit<(typeof before)[number], 'active'>) => ({ id: s.id, storeId: s.storeId, itemName: s.itemName, control: s.control, reason: s.reason, expiresAt: s.expiresAt, createdBy: s.createdBy, createdAt: s.createdAt, liftedAt: s.liftedAt, liftedBy: s.liftedBy });
    expect(after.map(fields)).toEqual(before.map(fields));
    expect(after[0]!.reason.length).toBeGreaterThan(200);
    // Nothing but the suppressions: the findings, runs and caches are recomputed.
    const conn = new Database(path.join(restored, 'findings.db'), { readonly: true });
    try {
      for (const table of ['findings', 'finding_runs', 'resource_policies', 'consumer_references', 'plain_sight', 'consumer_scans'])
        expect([table, (conn.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n]).toEqual([table, 0]);
    } finally {
      conn.close();
    }
    // The restored store goes on numbering after the restored ids.
    const store = await FindingsDb.open(restored);
    try {
      expect(await store.addSuppression({ storeId: 'local', itemName: A, control: 'no-owner', reason: 'next', expiresAt: inDays(1), createdBy: 'x', createdAt: new Date().toISOString() })).toBe(4);
    } finally {
      await store.close();
    }
  }, 30_000);
});

describe('a backup without findings.db (an older backup, or no findings yet)', () => {
  it('restores as before, and says the findings are recomputed and there are no suppressions', async () => {
    const plainData = path.join(temp.dir, 'plain-data');
    const key = newMasterKey();
    await makeDeployment(plainData, { MASTER_KEY: key }, 2, 1);
    const file = path.join(temp.dir, 'plain.backup');
    await takeBackup({ dataDir: plainData, file });
    const { manifest } = readContainerHeader(file);
    expect(manifest.version).toBe(1);
    expect(manifest.files.map((f) => f.name)).toEqual(['secrets.db', 'app.db']);
    expect(manifest.counts).toEqual({ items: 2, versions: 2, auditEntries: 2 });
    const restored = path.join(temp.dir, 'plain-restored');
    const lines: string[] = [];
    const result = await restoreBackup({ file, dataDir: restored, env: readEnv({ ...process.env, MASTER_KEY: key }), say: (line) => lines.push(line) });
    expect(result.suppressions).toBeNull();
    expect(result.silences).toBeNull();
    expect(lines).toContain(
      'This backup holds no findings store (it was taken by an older version, or before findings were first evaluated): findings are recomputed after the first sync, and no suppressions are restored.',
    );
    expect(listing(restored).map((l) => l.split(' ')[0])).toEqual(['app.db', 'secrets.db']);
  }, 20_000);
});

interface Tampering {
  name: string;
  make: (out: string) => void;
  message: RegExp;
}

const TAMPERINGS: Tampering[] = [
  {
    name: 'a byte of findings.db flipped (checksums kept)',
    make: (out) => {
      const bytes = readFileSync(good);
      const { manifest, bodyOffset } = readContainerHeader(good);
      const at = bodyOffset + manifest.files.filter((f) => f.name !== 'findings.db').reduce((n, f) => n + f.bytes, 0) + 200;
      bytes[at] = bytes[at]! ^ 0xff;
      writeFileSync(out, bytes);
    },
    message: /the checksum of findings\.db does not match its manifest/,
  },
  {
    name: 'an expiry pushed out a year',
    make: (out) => repackBackup(good, out, (dir) => editFindings(dir, (c) => c.prepare('UPDATE finding_suppressions SET expires_at = ? WHERE id = 1').run(inDays(365)))),
    message: /The backup's suppression #1's expiry differs from what audit entry #\d+ records: it was altered\. Nothing was restored/,
  },
  {
    name: 'a reason rewritten',
    make: (out) => repackBackup(good, out, (dir) => editFindings(dir, (c) => c.prepare("UPDATE finding_suppressions SET reason = 'Accepted by the CISO.' WHERE id = 2").run())),
    message: /suppression #2's reason differs from what audit entry #\d+ records/,
  },
  {
    name: 'the author changed',
    make: (out) => repackBackup(good, out, (dir) => editFindings(dir, (c) => c.prepare("UPDATE finding_suppressions SET created_by = 'ciso@example.com' WHERE id = 2").run())),
    message: /suppression #2's author differs/,
  },
  {
    name: 'a suppression moved to another item',
    make: (out) => repackBackup(good, out, (dir) => editFindings(dir, (c) => c.prepare('UPDATE finding_suppressions SET item_name = ? WHERE id = 1').run(B))),
    message: /suppression #1's store or item differs/,
  },
  {
    name: 'a lift undone',
    make: (out) => repackBackup(good, out, (dir) => editFindings(dir, (c) => c.prepare('UPDATE finding_suppressions SET lifted_at = NULL, lifted_by = NULL WHERE id = 3').run())),
    message: /suppression #3 is in force, but audit entry #\d+ records that second-reviewer@example\.com lifted it/,
  },
  {
    name: 'a suppression removed (the manifest still counting it)',
    make: (out) => repackBackup(good, out, (dir) => editFindings(dir, (c) => c.prepare('DELETE FROM finding_suppressions WHERE id = 2').run())),
    message: /The backup's suppressions do not match its manifest: 2 found, 3 listed/,
  },
  {
    name: 'a row that is not a suppression (an expiry that is not a date)',
    make: (out) => repackBackup(good, out, (dir) => editFindings(dir, (c) => c.prepare("UPDATE finding_suppressions SET expires_at = 'never' WHERE id = 1").run())),
    message: /In findings\.db in the backup, suppression #1 is not a valid suppression \(expires_at: /,
  },
  {
    name: 'findings.db that is not a findings store',
    make: (out) => repackBackup(good, out, (dir) => editFindings(dir, (c) => c.exec('DROP TABLE finding_suppressions'))),
    message: /findings\.db in the backup has no finding_suppressions table/,
  },
  {
    name: 'findings.db without its count in the manifest',
    make: (out) =>
      rewriteManifest(out, (manifest) => {
        delete manifest.counts.suppressions;
      }),
    message: /its manifest is not valid \(counts\.suppressions: must be counted exactly when findings\.db is in the backup\)/,
  },
  {
    name: 'findings.db in a version 1 manifest',
    make: (out) =>
      rewriteManifest(out, (manifest) => {
        manifest.version = 1;
      }),
    message: /its manifest is not valid \(files: findings\.db is carried from backup format version 2 on\)/,
  },
];

describe('a tampered findings part is refused, nothing written', () => {
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
  it('leaves out a suppression no audit entry records (added to the file), naming it', async () => {
    const file = path.join(temp.dir, 'unaudited.backup');
    repackBackup(good, file, (dir, manifest) => {
      editFindings(dir, (c) =>
        c
          .prepare('INSERT INTO finding_suppressions (id, store_id, item_name, control, reason, expires_at, created_by, created_at) VALUES (4, ?, ?, ?, ?, ?, ?, ?)')
          .run('local', A, 'not-rotated-within-policy', 'Planted.', inDays(300), 'reviewer@example.com', new Date().toISOString()),
      );
      manifest.counts.suppressions = 4;
      return manifest;
    });
    const restored = path.join(temp.dir, 'unaudited-restored');
    const lines: string[] = [];
    const result = await restoreInProcess(file, restored, lines);
    expect(result.suppressions?.unaudited.map((s) => s.id)).toEqual([4]);
    expect(lines).toContain('Suppressions: 3 restored, each as the audit log records it (the findings themselves are recomputed after the first sync).');
    expect(lines).toContain(
      "  suppression #4 (not-rotated-within-policy on local:/prod/payments/db-password) is not in the backup's audit log (made while the backup ran, or added to the file since): not restored.",
    );
    expect((await listedIn(restored)).map((s) => s.id)).toEqual([1, 2, 3]);
  }, 20_000);

  it('restores a lift the audit log does not record as lifted (it suppresses less), and says so', async () => {
    const file = path.join(temp.dir, 'lift-unaudited.backup');
    repackBackup(good, file, (dir) =>
      editFindings(dir, (c) => c.prepare("UPDATE finding_suppressions SET lifted_at = ?, lifted_by = 'reviewer@example.com' WHERE id = 2").run(new Date().toISOString())),
    );
    const restored = path.join(temp.dir, 'lift-unaudited-restored');
    const lines: string[] = [];
    await restoreInProcess(file, restored, lines);
    expect(lines).toContain("  suppression #2 is restored lifted, though the backup's audit log does not record the lift (lifted while the backup ran).");
    expect((await listedIn(restored)).map((s) => [s.id, s.liftedBy])).toEqual([
      [1, null],
      [2, 'reviewer@example.com'],
      [3, 'second-reviewer@example.com'],
    ]);
  }, 20_000);

});
