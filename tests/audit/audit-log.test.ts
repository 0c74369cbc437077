import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, listAudit, verifyAuditChain, type AuditEntryInput } from '@/lib/audit/audit-log';
import { flushAnchors } from '@/lib/audit/anchors';
import { runFullChainPass } from '@/lib/audit/chain-full-pass';
import type { Principal } from '@/lib/auth/principal';
import { auditChainStatus } from '@/lib/data/audit';
import { APP_DB_FILE } from '@/lib/db/app-db';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { makeTempDir } from '../support/temp-dir';

const temp = makeTempDir('secrets-audit-');
const saved = process.env.DATA_DIR;
beforeAll(() => {
  process.env.DATA_DIR = path.join(temp.dir, 'data');
});
afterAll(async () => {
  await closeKeyrings();
  if (saved === undefined) delete process.env.DATA_DIR;
  else process.env.DATA_DIR = saved;
  temp.cleanup();
});

const raw = () => new Database(path.join(process.env.DATA_DIR!, APP_DB_FILE));

describe('the tamper-evident audit log', () => {
  it('chains entries and leaves the caller\'s object as it was', async () => {
    const input: AuditEntryInput = Object.freeze({
      actor: 'alice@example.com',
      action: 'rotate',
      target: 'local:/prod/a',
      outcome: 'success' as const,
      details: Object.freeze({ version: '3' }),
    });
    const before = JSON.stringify(input);
    for (let i = 0; i < 5; i++) await appendAudit(i === 2 ? input : { ...input, target: `local:/prod/${i}` });
    expect(JSON.stringify(input)).toBe(before);
    const entries = await listAudit(10);
    expect(entries).toHaveLength(5);
    expect(entries[0]!.prevHash).toBe(entries[1]!.hash);
    expect(await verifyAuditChain()).toEqual({ intact: true, entries: 5, head: entries[0]!.hash, keyedFromSeq: 1, anchorsChecked: 0 });
  });

  it('detects an edited entry', async () => {
    const db = raw();
    db.prepare("UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 3").run();
    db.close();
    expect(await verifyAuditChain()).toMatchObject({ intact: false, entriesVerified: 2, broken: { seq: 3, action: 'rotate', problem: 'hash-mismatch' } });
    const fix = raw();
    fix.prepare("UPDATE audit_log SET actor = 'alice@example.com' WHERE seq = 3").run();
    fix.close();
    expect(await verifyAuditChain()).toMatchObject({ intact: true, entries: 5 });
  });

  it('detects a removed entry', async () => {
    const db = raw();
    db.prepare('DELETE FROM audit_log WHERE seq = 2').run();
    db.close();
    expect(await verifyAuditChain()).toMatchObject({
      intact: false,
      entriesVerified: 1,
      broken: { seq: 3, problem: 'seq-gap', message: expect.stringContaining('entry #2 is missing') },
    });
  });

  it("the /audit page names a break behind the verified head once the full pass found it, for auditors of everything, and withholds it from others", async () => {
    const principal = (grants: Principal['grants']): Principal => ({ via: 'session', userId: 'u', email: 'a@example.com', name: null, role: null, grants });
    const auditor = principal([{ role: 'auditor', stores: null, paths: ['/**'] }]);
    // The page checks only entries after the verified head (#5, unchanged): entry #2 is the full pass's to find.
    expect(await auditChainStatus(auditor)).toMatchObject({ intact: true, entries: 5, verifiedUpTo: { seq: 5 }, fullPass: null });
    await runFullChainPass();
    expect(await auditChainStatus(auditor)).toMatchObject({
      intact: false,
      brokenAt: 3,
      problem: 'a gap in seq: entry #2 is missing (removed)',
      breakFoundBy: 'full-pass',
      entries: 5,
      verifiedUpTo: { seq: 5 },
      fullPass: { state: 'broken', brokenAt: 3, checked: 1, total: 5 },
      lastAnchor: null,
      anchorEvery: 1000,
      anchorIntervalMinutes: 60,
      anchorBucket: null,
      fullPassEveryHours: 24,
      mayRunFullPass: false,
    });
    expect(await auditChainStatus(principal([{ role: 'auditor', stores: ['local'], paths: ['/prod/**'] }]))).toBeNull();
  });

  it("the /audit page's check says the keyed chain is intact and shows the last anchor", async () => {
    process.env.DATA_DIR = path.join(temp.dir, 'anchored');
    process.env.AUDIT_ANCHOR_EVERY = '3';
    try {
      for (let i = 0; i < 4; i++) await appendAudit({ actor: 'alice@example.com', action: 'reveal', target: `local:/prod/${i}`, outcome: 'success' });
      await flushAnchors();
      const auditor: Principal = { via: 'session', userId: 'u', email: 'a@example.com', name: null, role: null, grants: [{ role: 'auditor', stores: null, paths: ['/**'] }] };
      expect(await auditChainStatus(auditor)).toMatchObject({
        intact: true,
        entries: 4,
        keyedFromSeq: 1,
        lastAnchor: { seq: 3, s3Url: null, s3Error: null, anchoredAt: expect.stringMatching(/^\d{4}-/) },
        anchorEvery: 3,
      });
      // The anchor is checked too: the entry it names, edited, breaks the chain at that entry.
      const db = raw();
      db.prepare('DELETE FROM audit_log WHERE seq >= 3').run();
      db.prepare("UPDATE sqlite_sequence SET seq = 2 WHERE name = 'audit_log'").run();
      db.close();
      // The page sees it at once against the verified head (#4)...
      expect(await auditChainStatus(auditor)).toMatchObject({
        intact: false,
        brokenAt: 3,
        breakFoundBy: 'new-entries',
        problem: 'entries #3–#4 are missing from the end of the log (removed): entry #4 was verified before',
      });
      // ...and the full pass against the anchors (the one naming the furthest entry: the head verified before).
      await runFullChainPass();
      expect(await auditChainStatus(auditor)).toMatchObject({
        intact: false,
        brokenAt: 3,
        breakFoundBy: 'full-pass',
        problem: 'entries #3–#4 are missing from the end of the log (removed): the anchor kept as verified before the break was found (entry #4) names entry #4',
      });
    } finally {
      delete process.env.AUDIT_ANCHOR_EVERY;
    }
  });
});
