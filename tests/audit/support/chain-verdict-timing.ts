// Times the kept verdict on a seeded log (DATA_DIR/app.db written by big-chain.ts): the full pass
// that builds it, a view's check with nothing new, with 1,000 entries appended unchecked, and an
// append's cost with and without the kept verdict. Prints one JSON line.
import path from 'node:path';
import Database from 'better-sqlite3';
import { appendAudit } from '@/lib/audit/audit-log';
import { runFullChainPass } from '@/lib/audit/chain-full-pass';
import { keptChainVerdict } from '@/lib/audit/chain-status';
import { GENESIS_HASH, keyedEntryHash } from '@/lib/audit/entry-hash';
import { auditChainKey, closeKeyrings } from '@/lib/crypto/keyring';
import { APP_DB_FILE } from '@/lib/db/app-db';

const ms = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
  const started = performance.now();
  const value = await fn();
  return [Math.round(performance.now() - started), value];
};

async function main(): Promise<void> {
  const [fullPassMs, pass] = await ms(() => runFullChainPass());
  const views: number[] = [];
  for (let i = 0; i < 20; i++) views.push((await ms(() => keptChainVerdict()))[0]);
  views.sort((a, b) => a - b);
  // 1,000 entries written without the check (another writer): the next view verifies them.
  const key = await auditChainKey();
  const conn = new Database(path.join(path.resolve(process.env.DATA_DIR!), APP_DB_FILE));
  const last = conn.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  let prev = last?.hash ?? GENESIS_HASH;
  const insert = conn.prepare('INSERT INTO audit_log (seq, at, actor, action, target, outcome, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  conn.transaction(() => {
    for (let seq = (last?.seq ?? 0) + 1, n = 0; n < 1000; seq++, n++) {
      const row = { at: new Date().toISOString(), actor: 'bulk@example.com', action: 'reveal', target: `local:/bulk/${seq}`, outcome: 'allowed', details: '{}' };
      const hash = keyedEntryHash(key, prev, row);
      insert.run(seq, row.at, row.actor, row.action, row.target, row.outcome, row.details, prev, hash);
      prev = hash;
    }
  })();
  conn.close();
  const [view1000Ms, after] = await ms(() => keptChainVerdict());
  const appends = 200;
  const [appendMs] = await ms(async () => {
    for (let i = 0; i < appends; i++) await appendAudit({ actor: 'alice@example.com', action: 'reveal', target: `local:/prod/${i}`, outcome: 'allowed' });
  });
  console.log(
    JSON.stringify({
      entries: pass.total,
      fullPass: { ms: fullPassMs, state: pass.state, checked: pass.checked },
      viewNothingNewMs: { p50: views[10], p95: views[18], max: views[19] },
      view1000NewMs: view1000Ms,
      verifiedUpTo: after.verifiedUpTo?.seq,
      appendMsEach: Math.round((appendMs / appends) * 100) / 100,
    }),
  );
  await closeKeyrings();
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`timing failed: ${error.message}`);
    process.exit(1);
  },
);
