import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as chain from '@/lib/alerts/conditions/audit-chain';
import { appendAudit } from '@/lib/audit/audit-log';
import { APP_DB_FILE } from '@/lib/db/app-db';
import { rule } from '../support/alerts-fixture';
import { openConditionsDashboard, type ConditionsDashboard } from './support';

// audit-chain: the chain verified whole on the first evaluation and then only from the last
// verified entry on (an altered or removed new entry raises at once), whole again a day later (an
// edit of an older entry raises then), a broken chain checked again until it is restored, and a
// failed anchor write; quiet while everything verifies.

const H = 3_600_000;
const T0 = Date.now();
const at = (ms: number) => new Date(T0 + ms);
const sqlite = () => new Database(path.join(process.env.DATA_DIR!, APP_DB_FILE));
const append = async (n: number) => {
  for (let i = 0; i < n; i++) await appendAudit({ actor: 'alice@example.com', action: 'reveal', target: `prod-params:/prod/x-${i}`, outcome: 'allowed' });
};
const evaluate = (now: Date) => chain.auditChainCondition(rule({ events: ['audit-chain'] }), { now });

describe('audit-chain', () => {
  let dashboard: ConditionsDashboard;
  beforeAll(async () => {
    dashboard = await openConditionsDashboard('alerts-cond-chain-');
    chain.resetAuditChainCheck();
    await append(10);
  });
  afterAll(async () => dashboard.close());

  it('verifies whole once, then only what was appended', async () => {
    expect(await evaluate(at(0))).toEqual([]);
    expect(chain.lastChainCheck).toEqual({ kind: 'full', entriesRead: 10 });
    await append(5);
    expect(await evaluate(at(1000))).toEqual([]);
    // The last verified entry again, and the five new ones.
    expect(chain.lastChainCheck).toEqual({ kind: 'incremental', entriesRead: 6 });
    expect(await evaluate(at(2000))).toEqual([]);
    expect(chain.lastChainCheck).toEqual({ kind: 'incremental', entriesRead: 1 });
  });

  it('finds an edit of an older entry at the daily whole verification, and clears once it is restored', async () => {
    const db = sqlite();
    db.prepare("UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 3").run();
    db.close();
    // Between whole verifications only new entries are checked.
    expect(await evaluate(at(3000))).toEqual([]);
    const broken = await evaluate(at(25 * H));
    expect(chain.lastChainCheck?.kind).toBe('full');
    expect(broken).toEqual([{ storeId: 'audit-log', name: 'audit chain', url: 'http://localhost:3000/audit', status: expect.stringMatching(/^does not verify: entry #3: /) }]);
    const fix = sqlite();
    fix.prepare("UPDATE audit_log SET actor = 'alice@example.com' WHERE seq = 3").run();
    fix.close();
    // Still broken until the next whole check (15 minutes on).
    expect(await evaluate(at(25 * H + 5 * 60_000))).toHaveLength(1);
    expect(await evaluate(at(25 * H + 16 * 60_000))).toEqual([]);
    expect(chain.lastChainCheck?.kind).toBe('full');
  });

  it('raises at once when an entry appended since is altered or removed', async () => {
    await append(3);
    const db = sqlite();
    db.prepare("UPDATE audit_log SET target = 'prod-params:/elsewhere' WHERE seq = 17").run();
    db.close();
    const altered = await evaluate(at(25 * H + 17 * 60_000));
    expect(chain.lastChainCheck?.kind).toBe('incremental');
    expect(altered).toEqual([expect.objectContaining({ name: 'audit chain', status: 'does not verify: entry #17 does not verify under the audit chain key (altered)' })]);

    chain.resetAuditChainCheck();
    const fix = sqlite();
    fix.prepare("UPDATE audit_log SET target = 'prod-params:/prod/x-1' WHERE seq = 17").run();
    fix.close();
    expect(await evaluate(at(26 * H))).toEqual([]);
    const cut = sqlite();
    cut.prepare('DELETE FROM audit_log WHERE seq = 18').run();
    cut.close();
    expect(await evaluate(at(26 * H + 1000))).toEqual([expect.objectContaining({ status: 'does not verify: entry #18, verified before, is gone (removed)' })]);
  });

  it('raises a failed anchor write and clears with the next anchor written', async () => {
    chain.resetAuditChainCheck();
    const db = sqlite();
    const row = db.prepare('SELECT seq, hash, at FROM audit_log WHERE seq = 10').get() as { seq: number; hash: string; at: string };
    const insert = db.prepare(
      "INSERT INTO audit_anchors (seq, hash, entry_at, anchored_at, deployment, reason, s3_url, object_lock_until, s3_error) VALUES (?, ?, ?, ?, 'test', 'every', NULL, NULL, ?)",
    );
    insert.run(row.seq, row.hash, row.at, new Date().toISOString(), 'AccessDenied: the bucket refused PutObject');
    db.close();
    // Only the anchor is looked at here (the chain lost its last entry in the test before).
    const subjects = await evaluate(at(27 * H));
    expect(subjects.filter((s) => s.name === 'audit anchor')).toEqual([
      { storeId: 'audit-log', name: 'audit anchor', url: 'http://localhost:3000/audit', status: 'anchor of entry #10 not written to S3' },
    ]);
    const next = sqlite();
    const head = next.prepare('SELECT seq, hash, at FROM audit_log WHERE seq = 15').get() as { seq: number; hash: string; at: string };
    next.prepare(
      "INSERT INTO audit_anchors (seq, hash, entry_at, anchored_at, deployment, reason, s3_url, object_lock_until, s3_error) VALUES (?, ?, ?, ?, 'test', 'interval', 's3://b/k', NULL, NULL)",
    ).run(head.seq, head.hash, head.at, new Date().toISOString());
    next.close();
    expect((await evaluate(at(27 * H + 1000))).filter((s) => s.name === 'audit anchor')).toEqual([]);
  });
});
