import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditChain, type ChainVerdict } from '@/lib/audit/audit-log';
import { keptChainVerdict } from '@/lib/audit/chain-status';
import { checkNewEntries, CHECK_LIMIT } from '@/lib/audit/chain-verdict';
import { FULL_PASS, INCREMENTAL, readVerdict, type FullPassVerdict } from '@/lib/audit/chain-verdict-store';
import { runFullChainPass } from '@/lib/audit/chain-full-pass';
import { GENESIS_HASH, keyedEntryHash, legacyEntryHash } from '@/lib/audit/entry-hash';
import { auditChainKey } from '@/lib/crypto/keyring';
import { appDb } from '@/lib/db/app-db';
import { DATABASES } from '../support/databases';
import { appendSome, useFreshDeployments } from './support/fresh-deployments';
import { chainRows, editAndRechain, tamper } from './support/chain-db';

// The kept verdict of the audit chain: the incremental check of the entries after the kept head
// finds exactly what a full pass finds when the tampering is among them (every tampering the other
// audit tests try), and a tampering further back is left to the full pass, which names it while
// new entries keep being verified from the head.

const { freshDeployment } = useFreshDeployments('secrets-chain-verdict-');

/**
 * Appends `n` keyed entries as a writer that does not keep the verdict does (an older version, a
 * bulk load, another tool): they are new to the kept head, for the next check to verify.
 */
async function appendUnchecked(n: number): Promise<void> {
  const key = await auditChainKey();
  const db = await appDb();
  const last = await db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  let prev = last?.hash ?? GENESIS_HASH;
  let seq = Number(last?.seq ?? 0);
  const rows = [];
  for (let i = 0; i < n; i++) {
    seq++;
    const row = { at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), actor: `bulk-${seq % 7}@example.com`, action: 'reveal', target: `local:/bulk/${seq}`, outcome: 'allowed', details: `{"n":${seq}}` };
    const hash = keyedEntryHash(key, prev, row);
    rows.push({ seq, ...row, prev_hash: prev, hash });
    prev = hash;
  }
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('audit_log').values(rows.slice(i, i + 500)).execute();
}

const keptHeadSeq = async () => (await readVerdict(await appDb(), await auditChainKey(), INCREMENTAL)).body?.head?.seq ?? null;

/** What a verdict says, comparably: intact, or where and what the break is. */
const outcome = (verdict: ChainVerdict) =>
  verdict.intact ? { intact: true } : { intact: false, seq: verdict.broken.seq, problem: verdict.broken.problem, message: verdict.broken.message };

const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;

async function rehashOne(seq: number, change: { actor?: string; target?: string }, link: (prev: string, row: never) => string): Promise<void> {
  const row = (await chainRows()).find((r) => r.seq === seq)!;
  const forged = { ...row, ...change };
  await tamper(`UPDATE audit_log SET actor = ${quote(forged.actor)}, target = ${quote(forged.target)}, hash = ${quote(link(row.prev_hash, forged as never))} WHERE seq = ${seq}`);
}

async function recordAnchorOf(seq: number): Promise<void> {
  const row = (await chainRows()).find((r) => r.seq === seq)!;
  await tamper(
    `INSERT INTO audit_anchors (seq, hash, entry_at, anchored_at, deployment, reason, s3_url, object_lock_until, s3_error) VALUES (${seq}, ${quote(row.hash)}, ${quote(row.at)}, ${quote(new Date().toISOString())}, 'test', 'every', NULL, NULL, NULL)`,
  );
}

/** Renumbers entries above `from` down by one, one at a time (PostgreSQL checks the key per row). */
const renumberDown = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `UPDATE audit_log SET seq = ${from + 1 + i - 1} WHERE seq = ${from + 1 + i}`);

/**
 * Every tampering the audit tests try (audit-log, audit-verify, keyed-chain, anchors), aimed at
 * entry `at` (and its neighbours); a re-chain stops at `rechainUntil`.
 */
function tamperings(at: number, last: number, rechainUntil = Infinity) {
  const wrongKey = randomBytes(32);
  return [
    { name: 'nothing', tamper: async () => undefined },
    { name: 'an entry edited', tamper: () => tamper(`UPDATE audit_log SET target = 'local:/prod/other' WHERE seq = ${at + 1}`) },
    { name: 'an entry removed', tamper: () => tamper(`DELETE FROM audit_log WHERE seq = ${at}`) },
    { name: 'an entry removed and its successors renumbered', tamper: () => tamper(`DELETE FROM audit_log WHERE seq = ${at}`, ...renumberDown(at, last)) },
    {
      name: 'two entries re-ordered',
      tamper: () => tamper(`UPDATE audit_log SET seq = 100000 WHERE seq = ${at}`, `UPDATE audit_log SET seq = ${at} WHERE seq = ${at + 1}`, `UPDATE audit_log SET seq = ${at + 1} WHERE seq = 100000`),
    },
    { name: 'an entry re-hashed with plain SHA-256', tamper: () => rehashOne(at, { actor: 'mallory@example.com' }, (prev, row) => legacyEntryHash(prev, row)) },
    { name: 'an entry re-hashed with HMAC under another key', tamper: () => rehashOne(at + 1, { target: 'local:/prod/forged' }, (prev, row) => keyedEntryHash(wrongKey, prev, row)) },
    { name: 'an entry edited and its successors re-chained with SHA-256', tamper: () => editAndRechain(at, { actor: 'mallory@example.com' }, (prev, row) => legacyEntryHash(prev, row), rechainUntil) },
    { name: 'an entry edited and its successors re-chained under another key', tamper: () => editAndRechain(at, { target: 'local:/prod/elsewhere' }, (prev, row) => keyedEntryHash(wrongKey, prev, row), rechainUntil) },
    {
      name: 're-chained under the audit chain key past a recorded anchor',
      tamper: async () => {
        await recordAnchorOf(at + 2);
        const key = await auditChainKey();
        await editAndRechain(at, { actor: 'mallory@example.com' }, (prev, row) => keyedEntryHash(key, prev, row));
      },
    },
    { name: 'a keyed-from marker that does not verify', tamper: () => tamper(`INSERT INTO audit_chain_meta (name, value, mac) VALUES ('keyed_from_seq', '1', '${'ab'.repeat(32)}')`) },
  ];
}

const NEW = { head: 5, total: 10, at: 7 };

describe.each(DATABASES)('the kept audit chain verdict on %s', (kind) => {
  describe.each(tamperings(NEW.at, NEW.total).map((t) => ({ ...t, kind })))('$name among the entries appended since the kept head', ({ tamper: doTamper }) => {
    it('is what a full pass finds', async () => {
      await freshDeployment(kind);
      await appendSome(NEW.head);
      expect(await keptHeadSeq()).toBe(NEW.head); // each append linked to the kept head and moved it
      await appendUnchecked(NEW.total - NEW.head);
      expect(await keptHeadSeq()).toBe(NEW.head);
      await doTamper();
      const full = outcome(await verifyAuditChain());
      const check = await checkNewEntries();
      const kept = check.verdict.break;
      expect(kept ? { intact: false, seq: kept.seq, problem: kept.problem, message: kept.message } : { intact: true }).toEqual(full);
      // Only the kept head and what came after it were read.
      expect(check.entriesRead).toBeLessThanOrEqual(NEW.total - NEW.head + 1);
      // The page's verdict says the same without a full pass.
      const page = await keptChainVerdict();
      expect(page.intact).toBe(full.intact);
      if (!full.intact) expect(page).toMatchObject({ brokenAt: full.seq, problem: full.message, breakFoundBy: 'new-entries', fullPass: null });
    });
  });

  it('edits of the kept head itself and a cut at it are found by the check of new entries', async () => {
    await freshDeployment(kind);
    await appendSome(6);
    await tamper(`UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 6`);
    const edited = await checkNewEntries();
    expect(edited.verdict.break).toMatchObject({ seq: 6, problem: 'hash-mismatch' });
    expect(edited.entriesRead).toBe(1);
    expect(outcome(await verifyAuditChain())).toMatchObject({ intact: false, seq: 6, problem: 'hash-mismatch' });
  });

  it('a cut-off tail is found against the kept head, even on PostgreSQL (which keeps no seq of its own)', async () => {
    await freshDeployment(kind);
    await appendSome(6);
    await tamper('DELETE FROM audit_log WHERE seq >= 4');
    const check = await checkNewEntries();
    expect(check.verdict.break).toMatchObject({ seq: 4, problem: 'tail-removed', message: expect.stringMatching(/^entries #4–#6 are missing from the end of the log \(removed\)/) });
    // SQLite's own seq shows it to the full pass too; on either database the kept break stays named past a pass that read less.
    const pass = await runFullChainPass();
    if (kind === 'sqlite') expect(pass).toMatchObject({ state: 'broken', break: { seq: 4, problem: 'tail-removed' } });
    expect(await keptChainVerdict()).toMatchObject({ intact: false, brokenAt: 4 });
    // New entries take the removed numbers on PostgreSQL (last + 1): the head verified before the
    // break is checked by every full pass, so the cut stays a break.
    await appendSome(3);
    const later = await runFullChainPass();
    expect(later.state).toBe('broken');
    if (kind === 'postgres') expect(later.break).toMatchObject({ seq: 6, problem: 'anchor-mismatch', message: expect.stringContaining('kept as verified before the break was found (entry #6)') });
    expect(await keptChainVerdict()).toMatchObject({ intact: false, brokenAt: 4 });
  });

  const FAR = { head: 10, at: 2 };
  const SEEN_AT_THE_HEAD = ['nothing', 'an entry removed and its successors renumbered', 're-chained under the audit chain key past a recorded anchor', 'a keyed-from marker that does not verify'];
  describe.each(tamperings(FAR.at, FAR.head, 4).filter((t) => !SEEN_AT_THE_HEAD.includes(t.name)).map((t) => ({ ...t, kind })))('$name behind the kept head', ({ tamper: doTamper }) => {
    it('is not seen by the check of new entries, is found by the next full pass and named, and new entries are still verified', async () => {
      await freshDeployment(kind);
      await appendSome(FAR.head);
      await doTamper();
      const check = await checkNewEntries();
      expect(check.verdict.break).toBeNull();
      expect(check.entriesRead).toBe(1);
      expect((await keptChainVerdict()).intact).toBe(true);
      const full = outcome(await verifyAuditChain());
      expect(full.intact).toBe(false);
      const pass = await runFullChainPass();
      expect(pass).toMatchObject({ state: 'broken', break: { seq: full.seq, problem: full.problem, message: full.message } });
      await appendSome(3);
      const page = await keptChainVerdict();
      expect(page).toMatchObject({ intact: false, brokenAt: full.seq, problem: full.message, breakFoundBy: 'full-pass', fullPass: { state: 'broken', brokenAt: full.seq } });
      expect(page.verifiedUpTo?.seq).toBe(FAR.head + 3);
    });
  });

  it('a break far back in 5,000 entries: unseen by the check of new entries, found by the next full pass and named while appends keep being verified; cleared once restored', async () => {
    await freshDeployment(kind);
    await appendUnchecked(5000);
    const progress: FullPassVerdict[] = [];
    const running: (string | undefined)[] = [];
    const first = await runFullChainPass({
      progressEveryMs: 0,
      onProgressSaved: async (p) => {
        progress.push(p);
        running.push((await keptChainVerdict()).fullPass?.state);
      },
    });
    expect(first).toMatchObject({ state: 'intact', checked: 5000, total: 5000 });
    // Progress advanced: written as it went, checked growing towards the total, shown as running.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    const checked = progress.map((p) => p.checked);
    expect(checked).toEqual([...checked].sort((a, b) => a - b));
    expect(new Set(checked).size).toBe(checked.length);
    expect(progress.every((p) => p.total === 5000 && p.state === 'running')).toBe(true);
    expect(running.every((s) => s === 'running')).toBe(true);
    expect(await keptHeadSeq()).toBe(5000);

    const original = (await chainRows()).find((r) => r.seq === 10)!;
    await tamper(`UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 10`);
    await appendSome(2);
    const check = await checkNewEntries();
    expect(check.verdict.break).toBeNull();
    expect(check.entriesRead).toBe(1);
    expect(await keptChainVerdict()).toMatchObject({ intact: true, verifiedUpTo: { seq: 5002 } });

    await expect(runFullChainPass()).resolves.toMatchObject({ state: 'broken', checked: 9, break: { seq: 10, problem: 'hash-mismatch' } });
    await appendSome(2);
    await appendUnchecked(3);
    const named = await keptChainVerdict();
    expect(named).toMatchObject({
      intact: false,
      brokenAt: 10,
      problem: expect.stringContaining('hash mismatch'),
      breakFoundBy: 'full-pass',
      verifiedUpTo: { seq: 5007 },
      fullPass: { state: 'broken', brokenAt: 10, checked: 9 },
    });

    await tamper(`UPDATE audit_log SET actor = ${quote(original.actor)} WHERE seq = 10`);
    await expect(runFullChainPass()).resolves.toMatchObject({ state: 'intact', checked: 5007 });
    expect(await keptChainVerdict()).toMatchObject({ intact: true, brokenAt: null, entries: 5007 });
  });

  it('a break among new entries stays named until a full pass verifies the restored log, and entries after it are still checked', async () => {
    await freshDeployment(kind);
    await appendSome(3);
    await appendUnchecked(3);
    const row = (await chainRows()).find((r) => r.seq === 5)!;
    await tamper(`UPDATE audit_log SET target = 'local:/prod/moved' WHERE seq = 5`);
    expect((await checkNewEntries()).verdict.break).toMatchObject({ seq: 5, problem: 'hash-mismatch' });
    // The head moved to the newest entry: what is appended next is checked from there.
    expect(await keptHeadSeq()).toBe(6);
    await appendSome(2);
    expect(await keptHeadSeq()).toBe(8);
    expect(await keptChainVerdict()).toMatchObject({ intact: false, brokenAt: 5, breakFoundBy: 'new-entries', verifiedUpTo: { seq: 8 } });
    await tamper(`UPDATE audit_log SET target = ${quote(row.target)} WHERE seq = 5`);
    expect((await keptChainVerdict()).brokenAt).toBe(5);
    await runFullChainPass();
    expect(await keptChainVerdict()).toMatchObject({ intact: true, brokenAt: null, fullPass: { state: 'intact', checked: 8 } });
  });

  it('a kept verdict altered in the database is not believed: it is said, and verification starts again', async () => {
    await freshDeployment(kind);
    await appendSome(4);
    await tamper(`UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 2`);
    await runFullChainPass();
    expect((await keptChainVerdict()).brokenAt).toBe(2);
    // Someone with write access marks the full pass intact, without the key to seal it.
    const db = await appDb();
    const { rows } = await (await import('kysely')).sql<{ body: string }>`SELECT body FROM audit_chain_verdicts WHERE name = ${FULL_PASS}`.execute(db);
    const forged = { ...JSON.parse(rows[0]!.body), state: 'intact', break: null };
    await tamper(`UPDATE audit_chain_verdicts SET body = ${quote(JSON.stringify(forged))} WHERE name = '${FULL_PASS}'`);
    const shown = await keptChainVerdict();
    expect(shown.intact).toBe(false);
    expect(shown.fullPass).toBeNull();
    await expect(runFullChainPass()).resolves.toMatchObject({ state: 'broken', break: { seq: 2 } });
  });

  it('a view reads at most CHECK_LIMIT new entries; the next goes on from there', async () => {
    await freshDeployment(kind);
    const total = CHECK_LIMIT * 2 + 500;
    await appendUnchecked(total);
    const first = await checkNewEntries();
    expect(first.verdict.break).toBeNull();
    expect(first.entriesRead).toBe(CHECK_LIMIT);
    expect(first).toMatchObject({ pending: total - CHECK_LIMIT, verdict: { head: { seq: CHECK_LIMIT } } });
    const second = await checkNewEntries();
    // The kept head again, and as many new ones as one check reads.
    expect(second).toMatchObject({ entriesRead: CHECK_LIMIT, pending: total - 2 * CHECK_LIMIT + 1 });
    const third = await checkNewEntries();
    expect(third).toMatchObject({ pending: 0, verdict: { head: { seq: total }, break: null } });
    expect(await keptChainVerdict()).toMatchObject({ intact: true, entries: total, pendingEntries: 0 });
  });
});
