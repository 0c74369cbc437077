import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as chain from '@/lib/alerts/conditions/audit-chain';
import { appendAudit } from '@/lib/audit/audit-log';
import { runFullChainPass } from '@/lib/audit/chain-full-pass';
import { APP_DB_FILE } from '@/lib/db/app-db';
import { rule } from '../support/alerts-fixture';
import { openConditionsDashboard, type ConditionsDashboard } from './support';

// audit-chain: read from the kept verdict (lib/audit/chain-status.ts), never a whole pass per
// evaluation: an altered new entry (the verified head) raises at once, an edit of an older entry
// once the background full pass finds it, and the alert clears when a full pass verifies the
// restored log; a failed anchor write too; quiet while everything verifies.

const T0 = Date.now();
const at = (ms: number) => new Date(T0 + ms);
const sqlite = () => new Database(path.join(process.env.DATA_DIR!, APP_DB_FILE));
const append = async (n: number) => {
  for (let i = 0; i < n; i++) await appendAudit({ actor: 'alice@example.com', action: 'reveal', target: `prod-params:/prod/x-${i}`, outcome: 'allowed' });
};
const evaluate = (now: Date) => chain.auditChainCondition(rule({ events: ['audit-chain'] }), { now });
const run = (statement: string) => {
  const db = sqlite();
  db.prepare(statement).run();
  db.close();
};

describe('audit-chain', () => {
  let dashboard: ConditionsDashboard;
  beforeAll(async () => {
    dashboard = await openConditionsDashboard('alerts-cond-chain-');
    await append(10);
  });
  afterAll(async () => dashboard.close());

  it('is quiet while the chain verifies, as entries are appended', async () => {
    expect(await evaluate(at(0))).toEqual([]);
    await append(5);
    expect(await evaluate(at(1000))).toEqual([]);
  });

  it('finds an edit of an older entry when the full pass does, and clears once a full pass verifies the restored log', async () => {
    run("UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 3");
    // Between full passes only new entries are checked.
    expect(await evaluate(at(3000))).toEqual([]);
    await runFullChainPass();
    const broken = await evaluate(at(4000));
    expect(broken).toEqual([{ storeId: 'audit-log', name: 'audit chain', url: 'http://localhost:3000/audit', status: expect.stringMatching(/^does not verify: entry #3: hash mismatch/) }]);
    run("UPDATE audit_log SET actor = 'alice@example.com' WHERE seq = 3");
    // Still broken until the next full pass.
    expect(await evaluate(at(5000))).toHaveLength(1);
    await runFullChainPass();
    expect(await evaluate(at(6000))).toEqual([]);
  });

  it('raises at once when the newest entry is altered or removed', async () => {
    await append(3);
    run("UPDATE audit_log SET target = 'prod-params:/elsewhere' WHERE seq = 18");
    expect(await evaluate(at(7000))).toEqual([expect.objectContaining({ name: 'audit chain', status: expect.stringMatching(/^does not verify: entry #18: hash mismatch/) })]);
    run("UPDATE audit_log SET target = 'prod-params:/prod/x-2' WHERE seq = 18");
    await runFullChainPass();
    expect(await evaluate(at(8000))).toEqual([]);
    run('DELETE FROM audit_log WHERE seq = 18');
    run("UPDATE sqlite_sequence SET seq = 17 WHERE name = 'audit_log'");
    expect(await evaluate(at(9000))).toEqual([
      expect.objectContaining({ status: 'does not verify: entry #18: entry #18 is missing from the end of the log (removed): entry #18 was verified before' }),
    ]);
  });

  it('raises a failed anchor write and clears with the next anchor written', async () => {
    const db = sqlite();
    const row = db.prepare('SELECT seq, hash, at FROM audit_log WHERE seq = 10').get() as { seq: number; hash: string; at: string };
    const insert = db.prepare(
      "INSERT INTO audit_anchors (seq, hash, entry_at, anchored_at, deployment, reason, s3_url, object_lock_until, s3_error) VALUES (?, ?, ?, ?, 'test', 'every', NULL, NULL, ?)",
    );
    insert.run(row.seq, row.hash, row.at, new Date().toISOString(), 'AccessDenied: the bucket refused PutObject');
    db.close();
    // Only the anchor is looked at here (the chain lost its last entry in the test before).
    const subjects = await evaluate(at(10_000));
    expect(subjects.filter((s) => s.name === 'audit anchor')).toEqual([
      { storeId: 'audit-log', name: 'audit anchor', url: 'http://localhost:3000/audit', status: 'anchor of entry #10 not written to S3' },
    ]);
    const next = sqlite();
    const head = next.prepare('SELECT seq, hash, at FROM audit_log WHERE seq = 15').get() as { seq: number; hash: string; at: string };
    next.prepare(
      "INSERT INTO audit_anchors (seq, hash, entry_at, anchored_at, deployment, reason, s3_url, object_lock_until, s3_error) VALUES (?, ?, ?, ?, 'test', 'interval', 's3://b/k', NULL, NULL)",
    ).run(head.seq, head.hash, head.at, new Date().toISOString());
    next.close();
    expect((await evaluate(at(11_000))).filter((s) => s.name === 'audit anchor')).toEqual([]);
  });
});
