import 'server-only';
import path from 'node:path';
import { readEnv, type AppEnv } from '@/lib/config/env';
import { openEmbeddedDatabase, type OpenedDatabase } from '@/lib/stores/embedded/open';
import { kmsSealConfigFromEnv } from './kms';

// The process's keys: the master key (MASTER_KEY, the key file, or sealed by KMS) and the audit
// chain key sealed under it. Both live with the built-in store's database (DATA_DIR/secrets.db, or
// the "builtin" schema of DATABASE_URL), which is opened here once per process and location even
// when no built-in store is configured: one transaction there can re-wrap every key the master key
// protects (npm run rotate-master-key).

const globalForKeyring = globalThis as unknown as { __keyrings?: Map<string, Promise<OpenedDatabase>> };

/** The keyring's place: one per DATABASE_URL or DATA_DIR. */
export function keyringLocation(env: AppEnv = readEnv()): string {
  return env.DATABASE_URL ?? `file:${path.resolve(env.DATA_DIR)}`;
}

/** The opened key database for the current settings (DATA_DIR / DATABASE_URL / MASTER_KEY…), once per process. */
export function getKeyring(): Promise<OpenedDatabase> {
  const env = readEnv();
  const where = keyringLocation(env);
  const keyrings = (globalForKeyring.__keyrings ??= new Map());
  let opened = keyrings.get(where);
  if (!opened) {
    opened = (async () =>
      openEmbeddedDatabase({
        dataDir: env.DATA_DIR,
        masterKeyBase64: env.MASTER_KEY || undefined,
        databaseUrl: env.DATABASE_URL,
        // MASTER_KEY_KMS_KEY_ID: the master key is sealed by KMS and decrypted here, once per process.
        kms: kmsSealConfigFromEnv(env),
      }))();
    keyrings.set(where, opened);
    // A failed open is not kept, so fixed settings work without a restart.
    opened.catch(() => keyrings.delete(where));
  }
  return opened;
}

/**
 * Makes an already opened key database the process's keyring for its location (replacing one opened
 * before): npm run rotate-master-key opens the store with whichever home it has, and its audit
 * entry must use that store's audit chain key even when the settings name the home it moved to.
 */
export async function adoptKeyring(opened: OpenedDatabase, env: AppEnv = readEnv()): Promise<void> {
  const keyrings = (globalForKeyring.__keyrings ??= new Map());
  const where = keyringLocation(env);
  const before = keyrings.get(where);
  keyrings.set(where, Promise.resolve(opened));
  if (before) await before.then((o: OpenedDatabase) => (o === opened ? undefined : o.close())).catch(() => undefined);
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
