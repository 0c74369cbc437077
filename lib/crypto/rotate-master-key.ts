import 'server-only';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import { appendAudit } from '@/lib/audit/audit-log';
import type { AppEnv } from '@/lib/config/env';
import { dialectOf, type DialectName } from '@/lib/db/dialect';
import { checkPostgres, DatabaseStartError, postgresDb } from '@/lib/db/postgres';
import { AUDIT_CHAIN_KEY_CONTEXT, BUILTIN_SCHEMA, DB_FILE, openEmbeddedDatabase, type OpenedDatabase } from '@/lib/stores/embedded/open';
import type { EmbeddedDatabase } from '@/lib/stores/embedded/schema';
import { DecryptionError, KEY_BYTES, rewrapDataKey } from './envelope';
import { adoptKeyring } from './keyring';
import { generateSealedMasterKey, KmsSealError, kmsSealConfigFromEnv, type KmsSealConfig, type SealedMasterKey } from './kms';
import {
  discardPendingHome,
  envPendingMarker,
  finishPendingHome,
  homePaths,
  KEY_CHECK_CONTEXT,
  keyCheckOpens,
  MASTER_KEY_ID_META,
  MASTER_KEY_KMS_META,
  masterKeyId,
  rewrapMeta,
  serializeSealed,
  StoreOpenError,
  writePendingHome,
  type MasterKeyHome,
  type MasterKeyKind,
} from './master-key';

// npm run rotate-master-key: a new master key, and every data key the old one wrapped (each item
// version's, the key check's, the audit chain key's) re-wrapped under it in ONE transaction of the
// built-in store's database. Values are not re-encrypted: that is what envelope encryption is for.
//
// Kill-safe at every point. On SQLite the new key's home is written as a pending file while the
// transaction holds the database's write lock, so until COMMIT the store is exactly as it was (its
// old home included) and a start-up discards the pending file; after COMMIT the pending file is
// renamed into place (a start-up finishes that if the rotation was killed first). On PostgreSQL
// the new sealed key (KMS) is a row written in the same transaction, and MASTER_KEY lives in no file.

/** Meta rows sealed under the master key, and the context each was sealed with. */
const SEALED_META_ROWS = [
  ['key_check', KEY_CHECK_CONTEXT],
  ['audit_chain_key', AUDIT_CHAIN_KEY_CONTEXT],
] as const;

/** Versions re-wrapped per round trip. */
const REWRAP_BATCH = 256;

/**
 * TEST ONLY (tests/master-key): makes the rotation stop and wait to be killed at a point of the
 * protocol, to prove a kill there is safe. "mid-rewrap": after the first batch of versions is
 * re-wrapped, inside the open transaction; "after-commit": after COMMIT, before the pending file is
 * moved into place. Never set it anywhere else.
 */
export const TEST_ONLY_PAUSE_ENV = 'SECRETS_DASHBOARD_TEST_ONLY_ROTATION_PAUSE';

/** The same KMS key id shapes as MASTER_KEY_KMS_KEY_ID accepts (lib/config/env.ts). */
export const kmsKeyIdSchema = z
  .string()
  .max(2048)
  .regex(/^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w/+=,.@-]+|alias\/[\w/+=,.@-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/, {
    message: '--kms-key-id must be a KMS key id, key ARN, alias name (alias/…) or alias ARN',
  });

/** Bad input: nothing was read beyond the settings and nothing was changed (exit 2). */
export class RotationRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationRefused';
  }
}

/** The rotation could not be done (KMS, the store, an altered row); the store is as it was (exit 1). */
export class RotationFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationFailed';
  }
}

export interface RotationRequest {
  env: AppEnv;
  /** The new key's home; default: the same kind as now. */
  to?: MasterKeyKind;
  /** --kms-key-id: the KMS key that seals the new master key (default MASTER_KEY_KMS_KEY_ID, then the key that sealed the current one). */
  kmsKeyId?: string;
  /** --to env: the variable holding the new key, and its value. */
  newKeyEnvName: string;
  newKeyBase64?: string;
  /** For the audit entry. */
  actor: string;
}

export interface RotationOutcome {
  from: MasterKeyHome;
  to: MasterKeyHome;
  versionsRewrapped: number;
  /** What the operator does next (settings to change), one line each. */
  nextSteps: string[];
  /** Set when the audit entry could not be written (the rotation itself is done). */
  auditError?: string;
}

interface NewKey {
  key: Buffer;
  home: MasterKeyHome;
  /** SQLite: the pending file's content; PostgreSQL (kms): the sealed row. */
  content?: string;
  sealed?: SealedMasterKey;
}

function pause(point: 'mid-rewrap' | 'after-commit'): Promise<void> {
  if (process.env[TEST_ONLY_PAUSE_ENV] !== point) return Promise.resolve();
  process.stderr.write(`TEST ONLY: rotation paused at ${point}\n`);
  // Kept alive by the timer until the test kills the process.
  return new Promise(() => setInterval(() => undefined, 60_000));
}

/** Whether the store exists, with reads only: a rotation never creates one. */
async function storeExists(env: AppEnv): Promise<boolean> {
  if (!env.DATABASE_URL) return existsSync(path.join(path.resolve(env.DATA_DIR), DB_FILE));
  await checkPostgres(env.DATABASE_URL);
  const db = postgresDb<EmbeddedDatabase>(env.DATABASE_URL, BUILTIN_SCHEMA);
  const { rows } = await sql<{ meta: string | null }>`SELECT to_regclass(${`${BUILTIN_SCHEMA}.meta`})::text AS meta`.execute(db);
  if (!rows[0]?.meta) return false;
  return (await db.selectFrom('meta').select('key').where('key', '=', 'key_check').executeTakeFirst()) !== undefined;
}

function targetKmsConfig(env: AppEnv, keyId: string): KmsSealConfig {
  const fromEnv = kmsSealConfigFromEnv({ ...env, MASTER_KEY_KMS_KEY_ID: keyId });
  return fromEnv!;
}

/** Checks everything that needs no store and no KMS: bad input is refused before anything is opened. */
function checkRequest(req: RotationRequest): { newEnvKey?: Buffer } {
  const postgres = Boolean(req.env.DATABASE_URL);
  if (req.to === 'file' && postgres)
    throw new RotationRefused(
      'DATABASE_URL is set: a key file would live on one replica\'s disk only, so on PostgreSQL the master key is MASTER_KEY (--to env) or sealed by KMS in the database (--to kms). Nothing was changed.',
    );
  if (req.to === 'env') {
    if (!req.newKeyBase64)
      throw new RotationRefused(
        `--to env takes the new master key from ${req.newKeyEnvName}, which is unset: set it to the base64 of ${KEY_BYTES} new random bytes (openssl rand -base64 32). Nothing was changed.`,
      );
    const key = Buffer.from(req.newKeyBase64.trim(), 'base64');
    if (key.length !== KEY_BYTES || !/^[A-Za-z0-9+/]+={0,2}$/.test(req.newKeyBase64.trim()))
      throw new RotationRefused(`${req.newKeyEnvName} must hold the base64 encoding of exactly ${KEY_BYTES} bytes (openssl rand -base64 32). Nothing was changed.`);
    return { newEnvKey: key };
  }
  if (req.to === 'kms') {
    const keyId = req.kmsKeyId ?? req.env.MASTER_KEY_KMS_KEY_ID;
    if (!keyId) throw new RotationRefused('--to kms needs the KMS key that seals the new master key: give --kms-key-id ID or set MASTER_KEY_KMS_KEY_ID. Nothing was changed.');
  }
  if (req.kmsKeyId && req.to !== undefined && req.to !== 'kms')
    throw new RotationRefused(`--kms-key-id goes with --to kms, not --to ${req.to}. Nothing was changed.`);
  if (req.kmsKeyId) {
    const parsed = kmsKeyIdSchema.safeParse(req.kmsKeyId);
    if (!parsed.success) throw new RotationRefused(`${parsed.error.issues[0]!.message}. Nothing was changed.`);
  }
  return {};
}

async function makeNewKey(req: RotationRequest, to: MasterKeyKind, current: OpenedDatabase, newEnvKey: Buffer | undefined): Promise<NewKey> {
  const paths = homePaths(req.env.DATA_DIR);
  const postgres = Boolean(req.env.DATABASE_URL);
  if (to === 'env') {
    if (!newEnvKey) throw new RotationRefused(`The master key is in MASTER_KEY now; give the new one in ${req.newKeyEnvName} (openssl rand -base64 32). Nothing was changed.`);
    if (newEnvKey.equals(current.masterKey)) throw new RotationRefused(`${req.newKeyEnvName} holds the current master key; give a new one (openssl rand -base64 32). Nothing was changed.`);
    return { key: newEnvKey, home: { kind: 'env', where: 'MASTER_KEY' }, content: envPendingMarker(newEnvKey) };
  }
  if (to === 'file') {
    const key = randomBytes(KEY_BYTES);
    return { key, home: { kind: 'file', where: paths.keyFile }, content: key.toString('base64') + '\n' };
  }
  const keyId = req.kmsKeyId ?? req.env.MASTER_KEY_KMS_KEY_ID ?? current.masterKeyHome.kmsKeyId;
  if (!keyId) throw new RotationRefused('--to kms needs the KMS key that seals the new master key: give --kms-key-id ID or set MASTER_KEY_KMS_KEY_ID. Nothing was changed.');
  let cfg: KmsSealConfig;
  try {
    cfg = targetKmsConfig(req.env, keyId);
  } catch (error) {
    if (error instanceof KmsSealError) throw new RotationRefused(`${error.message} Nothing was changed.`);
    throw error;
  }
  try {
    const { plaintext, sealed } = await generateSealedMasterKey(cfg);
    const where = postgres ? `the database (meta row ${MASTER_KEY_KMS_META})` : paths.kmsFile;
    return { key: plaintext, home: { kind: 'kms', where, kmsKeyId: sealed.kmsKeyId, sealed }, content: postgres ? JSON.stringify(sealed) : serializeSealed(sealed), sealed };
  } catch (error) {
    if (error instanceof KmsSealError) throw new RotationFailed(`Cannot create the new master key with KMS: ${error.message} Nothing was changed.`);
    throw error;
  }
}

/** Re-wraps every version's data key, batch by batch (constant memory); returns how many. */
async function rewrapVersions(conn: Kysely<EmbeddedDatabase>, dialect: DialectName, oldKey: Buffer, newKey: Buffer): Promise<number> {
  let count = 0;
  let after: [number, number] = [-1, -1];
  for (;;) {
    const last = after;
    const rows = await conn
      .selectFrom('versions as v')
      .innerJoin('items as i', 'i.id', 'v.item_id')
      .select(['v.item_id', 'v.version', 'i.name', 'v.wrapped_key'])
      .where(({ eb, refTuple, tuple }) => eb(refTuple('v.item_id', 'v.version'), '>', tuple(last[0], last[1])))
      .orderBy('v.item_id')
      .orderBy('v.version')
      .limit(REWRAP_BATCH)
      .execute();
    if (rows.length === 0) return count;
    const updates = rows.map((row) => {
      try {
        return { itemId: Number(row.item_id), version: row.version, wrappedKey: rewrapDataKey(oldKey, newKey, row.wrapped_key, `${row.name}#${row.version}`) };
      } catch (error) {
        if (error instanceof DecryptionError)
          throw new RotationFailed(
            `Version ${row.version} of ${row.name} cannot be unwrapped with the current master key (its wrapped key was altered). Nothing was changed; restore the store from a backup, or delete that version, then rotate again.`,
          );
        throw error;
      }
    });
    if (dialect === 'postgres') {
      // One statement per batch: a round trip per version would make a large store's rotation slow.
      await sql`
        UPDATE versions AS v SET wrapped_key = u.wrapped_key
        FROM unnest(${updates.map((u) => u.itemId)}::bigint[], ${updates.map((u) => u.version)}::int[], ${updates.map((u) => u.wrappedKey)}::bytea[])
          AS u(item_id, version, wrapped_key)
        WHERE v.item_id = u.item_id AND v.version = u.version`.execute(conn);
    } else {
      for (const u of updates)
        await conn.updateTable('versions').set({ wrapped_key: u.wrappedKey }).where('item_id', '=', u.itemId).where('version', '=', u.version).execute();
    }
    count += updates.length;
    const tail = rows.at(-1)!;
    after = [Number(tail.item_id), tail.version];
    if (count === updates.length) await pause('mid-rewrap');
  }
}

/**
 * The re-wrap transaction. Returns the number of versions re-wrapped once committed; throws with
 * the store unchanged (and the pending file removed) otherwise.
 */
async function rewrapInOneTransaction(opened: OpenedDatabase, req: RotationRequest, next: NewKey): Promise<number> {
  const db = opened.db;
  const dialect = dialectOf(db);
  const oldKey = opened.masterKey;
  const dataDir = req.env.DATA_DIR;
  const newId = masterKeyId(next.key);
  return db.connection().execute(async (conn) => {
    // SQLite: IMMEDIATE takes the write lock now, before the pending file exists (start-ups settle
    // pending files under that lock). PostgreSQL: writers queue behind the versions lock and then
    // find master_key_id changed (EmbeddedStore's check), so none writes under the old key.
    await sql.raw(dialect === 'sqlite' ? 'BEGIN IMMEDIATE' : 'BEGIN').execute(conn);
    let pendingWritten = false;
    let commitAttempted = false;
    try {
      if (dialect === 'postgres') {
        await sql`LOCK TABLE versions IN EXCLUSIVE MODE`.execute(conn);
        await sql`SELECT value FROM meta WHERE key = ${MASTER_KEY_ID_META} FOR UPDATE`.execute(conn);
      }
      const meta = await conn.selectFrom('meta').select(['key', 'value']).where('key', 'in', SEALED_META_ROWS.map(([k]) => k)).execute();
      const keyCheck = meta.find((r) => r.key === 'key_check');
      if (!keyCheck || !keyCheckOpens(oldKey, keyCheck.value))
        throw new RotationFailed('The master key changed while the rotation started (another rotation ran?). Nothing was changed; run it again.');
      if (dialect === 'sqlite') {
        writePendingHome(dataDir, next.home.kind, next.content!);
        pendingWritten = true;
      }
      const versions = await rewrapVersions(conn, dialect, oldKey, next.key);
      for (const [key, context] of SEALED_META_ROWS) {
        const row = meta.find((r) => r.key === key);
        if (!row) continue;
        let value: string;
        try {
          value = rewrapMeta(oldKey, next.key, row.value, context);
        } catch {
          throw new RotationFailed(`The meta row ${key} does not open with the current master key (it was altered). Nothing was changed; restore the store from a backup.`);
        }
        await conn.updateTable('meta').set({ value }).where('key', '=', key).execute();
      }
      await conn
        .insertInto('meta')
        .values({ key: MASTER_KEY_ID_META, value: newId })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: newId }))
        .execute();
      if (dialect === 'postgres') {
        // The sealed key lives in the database on PostgreSQL: it changes with the data keys, atomically.
        if (next.home.kind === 'kms')
          await conn
            .insertInto('meta')
            .values({ key: MASTER_KEY_KMS_META, value: next.content! })
            .onConflict((oc) => oc.column('key').doUpdateSet({ value: next.content! }))
            .execute();
        else await conn.deleteFrom('meta').where('key', '=', MASTER_KEY_KMS_META).execute();
      }
      commitAttempted = true;
      await sql`COMMIT`.execute(conn);
      return versions;
    } catch (error) {
      if (!commitAttempted) {
        // Still holding the lock: no start-up can be deciding about this pending file now.
        if (pendingWritten) discardPendingHome(dataDir, next.home.kind);
        await sql`ROLLBACK`.execute(conn).catch(() => undefined);
        throw error;
      }
      // COMMIT itself failed: whether it took effect is in the database.
      await sql`ROLLBACK`.execute(conn).catch(() => undefined);
      const now = await conn.selectFrom('meta').select('value').where('key', '=', MASTER_KEY_ID_META).executeTakeFirst().catch(() => undefined);
      if (now?.value === newId) return -1;
      if (pendingWritten) discardPendingHome(dataDir, next.home.kind);
      throw error;
    }
  });
}

function nextSteps(req: RotationRequest, from: MasterKeyHome, to: MasterKeyHome): string[] {
  const env = req.env;
  const postgres = Boolean(env.DATABASE_URL);
  const everywhere = postgres ? ' on every replica' : '';
  const steps: string[] = [];
  if (to.kind === 'env') {
    steps.push(`Set MASTER_KEY to the new key (the value of ${req.newKeyEnvName})${everywhere}; the old master key no longer opens this store.`);
    if (env.MASTER_KEY_KMS_KEY_ID) steps.push(`Unset MASTER_KEY_KMS_KEY_ID${everywhere}.`);
    steps.push(`Unset ${req.newKeyEnvName} in this shell.`);
  } else if (to.kind === 'file') {
    steps.push(`The new master key is in ${to.where} (mode 600).`);
    if (env.MASTER_KEY) steps.push('Unset MASTER_KEY: it would take precedence over the key file.');
    if (env.MASTER_KEY_KMS_KEY_ID) steps.push('Unset MASTER_KEY_KMS_KEY_ID.');
  } else {
    steps.push(`The new master key is sealed by KMS key ${to.kmsKeyId} in ${to.where}; no plaintext key is kept on disk.`);
    const configured = env.MASTER_KEY_KMS_KEY_ID;
    // The settings already name the key when it came from them, or when --kms-key-id named the same one.
    const namedBySettings = configured !== undefined && (req.kmsKeyId === undefined || configured === req.kmsKeyId || configured === to.kmsKeyId);
    if (!namedBySettings)
      steps.push(`Set MASTER_KEY_KMS_KEY_ID=${to.kmsKeyId} (and MASTER_KEY_KMS_REGION=${to.sealed?.region ?? 'its region'})${everywhere}.`);
    if (env.MASTER_KEY) steps.push(`Unset MASTER_KEY${everywhere}.`);
  }
  steps.push(
    `Backups taken before now open only with the old master key (${from.kind === 'kms' ? `its sealed key and KMS key ${from.kmsKeyId}` : from.kind === 'env' ? 'the old MASTER_KEY' : 'the old key file, if you saved a copy'}): take a new backup now.`,
  );
  steps.push('Then start the servers.');
  return steps;
}

/**
 * Rotates the master key of the built-in store (DATA_DIR/secrets.db or DATABASE_URL's "builtin"
 * schema) and records it in the audit log. The servers must be stopped: one still running keeps the
 * old key and refuses writes ("the master key was rotated; restart the server"). The opened store
 * becomes this process's keyring (lib/crypto/keyring.ts); closeKeyrings() closes it.
 */
export async function rotateMasterKey(req: RotationRequest): Promise<RotationOutcome> {
  const { newEnvKey } = checkRequest(req);
  const env = req.env;
  const postgres = Boolean(env.DATABASE_URL);
  let exists: boolean;
  try {
    exists = await storeExists(env);
  } catch (error) {
    if (error instanceof DatabaseStartError) throw new RotationFailed(error.message);
    throw error;
  }
  if (!exists)
    throw new RotationRefused(
      postgres
        ? `There is no built-in store in DATABASE_URL (schema "${BUILTIN_SCHEMA}" has no key check): nothing to rotate. Nothing was changed.`
        : `There is no built-in store in ${path.resolve(env.DATA_DIR)} (${DB_FILE} is missing): nothing to rotate. Check DATA_DIR. Nothing was changed.`,
    );

  let opened: OpenedDatabase;
  try {
    opened = await openEmbeddedDatabase({
      dataDir: env.DATA_DIR,
      masterKeyBase64: env.MASTER_KEY || undefined,
      databaseUrl: env.DATABASE_URL,
      kms: kmsSealConfigFromEnv(env),
      anyMasterKeyHome: { deployment: env.DEPLOYMENT_NAME, ...(env.MASTER_KEY_KMS_ENDPOINT ? { kmsEndpoint: env.MASTER_KEY_KMS_ENDPOINT } : {}) },
    });
  } catch (error) {
    if (error instanceof StoreOpenError || error instanceof KmsSealError || error instanceof DatabaseStartError) throw new RotationFailed(error.message);
    throw error;
  }
  // This process's keyring from here on (closeKeyrings() closes it): audit entries are chained with
  // the store's audit chain key, which a rotation re-wraps but never changes.
  await adoptKeyring(opened, env);
  const from = { ...opened.masterKeyHome };
  const to = req.to ?? (req.kmsKeyId ? 'kms' : from.kind);
  const audit = (outcome: 'success' | 'failure', details: Record<string, string | number | boolean | null>) =>
    appendAudit({
      actor: req.actor,
      action: 'master-key.rotate',
      target: 'master key',
      outcome,
      details: { from: from.kind, to, database: postgres ? 'postgres' : 'sqlite', ...details, via: 'cli' },
    });

  const next = await makeNewKey(req, to, opened, newEnvKey);
  let versions: number;
  try {
    versions = await rewrapInOneTransaction(opened, req, next);
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, 300);
    await audit('failure', { reason }).catch(() => undefined);
    throw error instanceof RotationFailed || error instanceof RotationRefused
      ? error
      : new RotationFailed(`The re-wrap failed and was rolled back: ${reason}. Nothing was changed.`);
  }
  await pause('after-commit');
  if (!postgres) finishPendingHome(env.DATA_DIR, to);
  if (versions < 0) {
    // The COMMIT reported an error but took effect: count what is now there.
    const row = await opened.db.selectFrom('versions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    versions = Number(row.n);
  }
  // The keyring now holds the new key.
  opened.masterKey = next.key;
  opened.masterKeyHome = next.home;
  // The rotation has happened whatever the audit log says: a failing append is reported, not thrown.
  const auditError = await audit('success', { fromKmsKeyId: from.kmsKeyId ?? null, kmsKeyId: next.home.kmsKeyId ?? null, versionsRewrapped: versions }).then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  return { from, to: next.home, versionsRewrapped: versions, nextSteps: nextSteps(req, from, next.home), ...(auditError ? { auditError } : {}) };
}
