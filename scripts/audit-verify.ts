// npm run audit:verify
// Recomputes the hash chain of the dashboard's own audit log in DATA_DIR/app.db, streaming it in seq
// order, and names the first entry that does not verify. Safe while the server runs (it reads a
// snapshot). Exit codes: 0 intact, 1 broken, 2 nothing to check (bad DATA_DIR, no app.db).
import { ConfigError, readEnv } from '@/lib/config/env';
import { APP_DB_FILE } from '@/lib/db/app-db';
import { ChainUnreadableError, openChainDatabase, verifyChainIn } from '@/lib/audit/verify-chain';

function main(): number {
  let dataDir: string;
  try {
    dataDir = readEnv().DATA_DIR;
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : `Cannot read the settings: ${(error as Error).message}`);
    return 2;
  }
  let conn;
  try {
    conn = openChainDatabase(dataDir, APP_DB_FILE);
  } catch (error) {
    if (error instanceof ChainUnreadableError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  try {
    const verdict = verifyChainIn(conn);
    if (verdict.intact) {
      console.log(`Audit chain intact: ${verdict.entries} entries, head ${verdict.head}`);
      return 0;
    }
    const { seq, at, action, message } = verdict.broken;
    const which = at === null ? `entry #${seq}` : `entry #${seq} (${at}, ${action})`;
    console.error(`Audit chain BROKEN at ${which}: ${message}`);
    console.error(`${verdict.entriesVerified} entries before it verify.`);
    return 1;
  } finally {
    conn.close();
  }
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`Audit verification failed: ${(error as Error).message}`);
  process.exitCode = 2;
}
