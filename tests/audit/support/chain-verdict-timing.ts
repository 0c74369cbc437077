// Times the kept verdict on a seeded log (DATA_DIR/app.db written by big-chain.ts, or SEED=N
// entries written here, on SQLite or DATABASE_URL): the full pass that builds it, a view's check
// with nothing new and with 1,000 entries appended unchecked, and an append. Prints one JSON line.
import { appendAudit } from '@/lib/audit/audit-log';
import { runFullChainPass } from '@/lib/audit/chain-full-pass';
import { keptChainVerdict } from '@/lib/audit/chain-status';
import { GENESIS_HASH, keyedEntryHash } from '@/lib/audit/entry-hash';
import { auditChainKey, closeKeyrings } from '@/lib/crypto/keyring';
import { appDb } from '@/lib/db/app-db';

/** Appends `count` keyed entries directly (no verdict kept for them), in batches. */
async function appendUnchecked(count: number): Promise<void> {
  const key = await auditChainKey();
  const db = await appDb();
  const last = await db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  let prev = last?.hash ?? GENESIS_HASH;
  let seq = Number(last?.seq ?? 0);
  for (let done = 0; done < count; ) {
    const rows = [];
    for (let i = 0; i < 1000 && done < count; i++, done++) {
      seq++;
      const row = { at: new Date().toISOString(), actor: `user-${seq % 97}@example.com`, action: 'reveal', target: `local:/bulk/${seq % 1013}`, outcome: 'allowed', details: `{"n":${seq}}` };
      const hash = keyedEntryHash(key, prev, row);
      rows.push({ seq, ...row, prev_hash: prev, hash });
      prev = hash;
    }
    await db.insertInto('audit_log').values(rows).execute();
  }
}

const ms = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
  const started = performance.now();
  const value = await fn();
  return [Math.round(performance.now() - started), value];
};

async function main(): Promise<void> {
  if (process.env.SEED) await appendUnchecked(Number(process.env.SEED));
  // Views while the full pass runs (it builds the kept verdict): how long one waits.
  const started = performance.now();
  let passing = true;
  const running = runFullChainPass().finally(() => (passing = false));
  const during: number[] = [];
  while (passing) {
    during.push((await ms(() => keptChainVerdict()))[0]);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pass = await running;
  const fullPassMs = Math.round(performance.now() - started);
  during.sort((a, b) => a - b);
  const views: number[] = [];
  for (let i = 0; i < 20; i++) views.push((await ms(() => keptChainVerdict()))[0]);
  views.sort((a, b) => a - b);
  // 1,000 entries written without the check (another writer): the next view verifies them.
  await appendUnchecked(1000);
  const [view1000Ms, after] = await ms(() => keptChainVerdict());
  const appends = 200;
  const [appendMs] = await ms(async () => {
    for (let i = 0; i < appends; i++) await appendAudit({ actor: 'alice@example.com', action: 'reveal', target: `local:/prod/${i}`, outcome: 'allowed' });
  });
  console.log(
    JSON.stringify({
      entries: pass.total,
      fullPass: { ms: fullPassMs, state: pass.state, checked: pass.checked },
      viewsDuringPass: { count: during.length, p50: during[Math.floor(during.length / 2)], p95: during[Math.floor(during.length * 0.95)], max: during[during.length - 1] },
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
