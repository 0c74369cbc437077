// Writes a keyed audit chain of COUNT entries into DATA_DIR/app.db as fast as SQLite takes them
// (one prepared INSERT in one transaction), under the keyring's audit chain key, for the test that
// verifies a million entries in bounded memory. Prints "written N" when done.
import path from 'node:path';
import Database from 'better-sqlite3';
import { GENESIS_HASH, keyedEntryHash } from '@/lib/audit/entry-hash';
import { auditChainKey, closeKeyrings } from '@/lib/crypto/keyring';
import { APP_DB_FILE, openAppDatabase } from '@/lib/db/app-db';

const count = Number(process.env.COUNT ?? '1000');
const dataDir = path.resolve(process.env.DATA_DIR ?? './data');

async function main(): Promise<void> {
  const key = await auditChainKey(); // makes the keyring (master key file, audit chain key) as a server would
  await (await openAppDatabase(dataDir)).destroy(); // the app's schema
  await closeKeyrings();
  const conn = new Database(path.join(dataDir, APP_DB_FILE));
  conn.pragma('journal_mode = DELETE');
  conn.pragma('synchronous = OFF');
  const insert = conn.prepare('INSERT INTO audit_log (seq, at, actor, action, target, outcome, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const start = Date.parse('2026-01-01T00:00:00Z');
  const actions = ['sign-in', 'reveal', 'rotate', 'create-item', 'sign-out'];
  conn.transaction(() => {
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= count; seq++) {
      const row = {
        at: new Date(start + seq * 1000).toISOString(),
        actor: `user-${seq % 97}@example.com`,
        action: actions[seq % actions.length]!,
        target: `local:/prod/service-${seq % 1013}/password`,
        outcome: 'success',
        details: `{"n":${seq}}`,
      };
      const hash = keyedEntryHash(key, prev, row);
      insert.run(seq, row.at, row.actor, row.action, row.target, row.outcome, row.details, prev, hash);
      prev = hash;
    }
  })();
  conn.close();
  console.log(`written ${count}`);
}

main().catch((error: Error) => {
  console.error(`big-chain failed: ${error.message}`);
  process.exitCode = 1;
});
