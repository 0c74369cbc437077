import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditChain } from '@/lib/audit/audit-log';
import { keyedEntryHash, keyedFromMac, legacyEntryHash } from '@/lib/audit/entry-hash';
import { auditChainKey } from '@/lib/crypto/keyring';
import { DATABASES } from '../support/databases';
import { appendSome, useFreshDeployments } from './support/fresh-deployments';
import { chainRows, editAndRechain, tamper, writeLegacyLog } from './support/chain-db';

// The keyed chain: each link is an HMAC under the audit chain key, so whoever can write the app
// database but lacks the master key cannot edit an entry and re-chain the ones after it, whether
// they re-hash with plain SHA-256 or with some key of their own. Logs from before the keyed chain
// keep their SHA-256 part, fenced by a sealed marker that cannot be moved or removed unnoticed.

const { freshDeployment } = useFreshDeployments('secrets-keyed-chain-');

describe.each(DATABASES)('the keyed audit chain on %s', (kind) => {
  it('links a new log with HMAC-SHA-256 under the audit chain key from entry #1, not with plain SHA-256', async () => {
    await freshDeployment(kind);
    await appendSome(4, 1);
    const key = await auditChainKey();
    const rows = await chainRows();
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    for (const row of rows) {
      expect(row.hash).toBe(keyedEntryHash(key, row.prev_hash, row));
      expect(row.hash).not.toBe(legacyEntryHash(row.prev_hash, row));
    }
    expect(await verifyAuditChain()).toEqual({ intact: true, entries: 4, head: rows[3]!.hash, keyedFromSeq: 1, anchorsChecked: 0 });
  });

  it('catches an entry edited and its successors re-hashed with plain SHA-256, naming the edited entry', async () => {
    await freshDeployment(kind);
    await appendSome(5, 1);
    await editAndRechain(3, { actor: 'mallory@example.com' }, (prev, row) => legacyEntryHash(prev, row));
    expect(await verifyAuditChain()).toMatchObject({
      intact: false,
      entriesVerified: 2,
      broken: { seq: 3, problem: 'unkeyed-entry', message: expect.stringContaining('hashed with plain SHA-256, but the chain is keyed (HMAC) from entry #1') },
    });
  });

  it('catches an entry re-chained with HMAC under a key that is not the audit chain key', async () => {
    await freshDeployment(kind);
    await appendSome(5, 1);
    const wrongKey = randomBytes(32);
    await editAndRechain(2, { target: 'local:/prod/elsewhere' }, (prev, row) => keyedEntryHash(wrongKey, prev, row));
    expect(await verifyAuditChain()).toMatchObject({ intact: false, entriesVerified: 1, broken: { seq: 2, problem: 'hash-mismatch' } });
  });

  it('only the audit chain key re-chains an edit unnoticed (which is why it is kept under the master key)', async () => {
    await freshDeployment(kind);
    await appendSome(3, 1);
    const key = await auditChainKey();
    await editAndRechain(2, { actor: 'mallory@example.com' }, (prev, row) => keyedEntryHash(key, prev, row));
    expect(await verifyAuditChain()).toMatchObject({ intact: true, entries: 3 });
  });

  describe('a log written before the chain was keyed', () => {
    it('keeps its SHA-256 entries, is keyed from the next one on, and verifies whole', async () => {
      await freshDeployment(kind);
      const legacy = await writeLegacyLog(4);
      await appendSome(2, 5); // opens the app database: migration 0004 records (and seals) where the keyed chain begins
      const key = await auditChainKey();
      const rows = await chainRows();
      expect(rows.slice(0, 4).map((r) => r.hash)).toEqual(legacy);
      expect(rows[4]!.prev_hash).toBe(legacy[3]);
      expect(rows[4]!.hash).toBe(keyedEntryHash(key, rows[4]!.prev_hash, rows[4]!));
      expect(await verifyAuditChain()).toMatchObject({ intact: true, entries: 6, keyedFromSeq: 5 });
    });

    it('catches an old entry edited and everything after it re-hashed with SHA-256 (the keyed part cannot follow)', async () => {
      await freshDeployment(kind);
      await writeLegacyLog(4);
      await appendSome(2, 5);
      await editAndRechain(2, { actor: 'mallory@example.com' }, (prev, row) => legacyEntryHash(prev, row));
      expect(await verifyAuditChain()).toMatchObject({
        intact: false,
        entriesVerified: 4,
        broken: { seq: 5, problem: 'unkeyed-entry', message: expect.stringContaining('keyed (HMAC) from entry #5') },
      });
    });

    it('catches the marker moved past the keyed entries (to pass them off as old SHA-256 ones)', async () => {
      await freshDeployment(kind);
      await writeLegacyLog(3);
      await appendSome(3, 4);
      await editAndRechain(2, { actor: 'mallory@example.com' }, (prev, row) => legacyEntryHash(prev, row));
      // Moved to after the end, its MAC kept; then with a MAC under a key of the forger's own.
      await tamper(`UPDATE audit_chain_meta SET value = '7' WHERE name = 'keyed_from_seq'`);
      expect(await verifyAuditChain()).toMatchObject({ intact: false, broken: { problem: 'marker-invalid', message: expect.stringContaining('does not verify under the audit chain key') } });
      await tamper(`UPDATE audit_chain_meta SET mac = '${keyedFromMac(randomBytes(32), 7)}' WHERE name = 'keyed_from_seq'`);
      expect(await verifyAuditChain()).toMatchObject({ intact: false, broken: { problem: 'marker-invalid' } });
    });

    it('catches the marker removed: the old SHA-256 entries no longer pass', async () => {
      await freshDeployment(kind);
      await writeLegacyLog(3);
      await appendSome(1, 4);
      await tamper(`DELETE FROM audit_chain_meta`);
      expect(await verifyAuditChain()).toMatchObject({
        intact: false,
        entriesVerified: 0,
        broken: { seq: 1, problem: 'unkeyed-entry', message: expect.stringContaining('the record was removed') },
      });
    });

    it('catches old entries cut off the end before anything keyed was appended (the marker counts them)', async () => {
      await freshDeployment(kind);
      await writeLegacyLog(5);
      await verifyAuditChain(); // the app opens the log: the marker says the keyed chain begins at #6
      await tamper('DELETE FROM audit_log WHERE seq >= 4');
      expect(await verifyAuditChain()).toMatchObject({
        intact: false,
        entriesVerified: 3,
        broken: { seq: 4, problem: 'tail-removed', message: expect.stringContaining('entries #4–#5 are missing from the end of the log (removed): the keyed chain begins at entry #6') },
      });
    });
  });
});
