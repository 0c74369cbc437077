import 'server-only';
import path from 'node:path';
import { readEnv } from '@/lib/config/env';
import { openEmbeddedDatabase, type OpenedDatabase } from '@/lib/stores/embedded/open';

// The process's keys: the master key (MASTER_KEY, the key file, or sealed by KMS) and the audit
// chain key sealed under it. Both live with the built-in store's database (DATA_DIR/secrets.db, or
// the "builtin" schema of DATABASE_URL), which is opened here once per process and location even
// when no built-in store is configured: one transaction there can re-wrap every key the master key
// protects (npm run rotate-master-key).

const globalForKeyring = globalThis as unknown as { __keyrings?: Map<string, Promise<OpenedDatabase>> };

function location(env = readEnv()): string {
  return env.DATABASE_URL ?? `file:${path.resolve(env.DATA_DIR)}`;
}

/** The opened key database for the current settings (DATA_DIR / DATABASE_URL / MASTER_KEY…), once per process. */
export function getKeyring(): Promise<OpenedDatabase> {
  const env = readEnv();
  const where = location(env);
  const keyrings = (globalForKeyring.__keyrings ??= new Map());
  let opened = keyrings.get(where);
  if (!opened) {
    opened = openEmbeddedDatabase({ dataDir: env.DATA_DIR, masterKeyBase64: env.MASTER_KEY || undefined, databaseUrl: env.DATABASE_URL });
    keyrings.set(where, opened);
    // A failed open is not kept, so fixed settings work without a restart.
    opened.catch(() => keyrings.delete(where));
  }
  return opened;
}

/** The audit chain's HMAC key. */
export async function auditChainKey(): Promise<Buffer> {
  return (await getKeyring()).auditChainKey;
}

/** Forgets (and closes) every opened keyring: tests that switch DATA_DIR or DATABASE_URL, and CLI tools at exit. */
export async function closeKeyrings(): Promise<void> {
  const keyrings = globalForKeyring.__keyrings;
  if (!keyrings) return;
  globalForKeyring.__keyrings = new Map();
  for (const opened of keyrings.values()) await opened.then((o) => o.close()).catch(() => undefined);
}
