// npm run audit:verify [-- --anchor HASH | --anchor SEQ:HASH]... [--anchors-from-s3]
// Recomputes the keyed chain of the dashboard's own audit log (DATA_DIR/app.db, or PostgreSQL's app
// schema when DATABASE_URL is set) with the audit chain key (which needs the master key: MASTER_KEY,
// DATA_DIR/master.key, or KMS), streaming it in seq order in constant memory, checks it against the
// anchors given (and those in the S3 bucket with --anchors-from-s3), and names the first entry that
// does not verify. Safe while the server runs (it reads a snapshot).
// Exit codes: 0 intact; 1 broken (an entry, the marker or an anchor does not verify, or entries are
// missing); 2 nothing checked (bad arguments, no database, no key, the anchors cannot be read).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { z } from 'zod';
import { ConfigError, readEnv, type AppEnv } from '@/lib/config/env';
import { APP_DB_FILE, APP_SCHEMA, type AppDatabase } from '@/lib/db/app-db';
import { checkPostgres, closePostgres, DatabaseStartError, postgresDb } from '@/lib/db/postgres';
import { anchorS3ConfigFromEnv, AnchorSinkError, readAnchorsFromS3, resetAnchorS3 } from '@/lib/audit/anchor-s3';
import { ChainUnreadableError, openChainDatabase, verifyChainIn, verifyChainInPostgres, type ChainAnchor, type ChainVerdict } from '@/lib/audit/verify-chain';
import { auditChainKey, closeKeyrings } from '@/lib/crypto/keyring';
import { BUILTIN_SCHEMA } from '@/lib/stores/embedded/open';

const usage = `usage: npm run audit:verify [-- --anchor HASH | --anchor SEQ:HASH]... [--anchors-from-s3]

Checks the dashboard's audit log (DATA_DIR/app.db, or the app schema of DATABASE_URL): every entry's
HMAC under the audit chain key (the master key must be available as the server has it), the links,
no entry missing, and the anchors:
  --anchor SEQ:HASH   entry SEQ must have this hash (an anchor from the server log or S3)
  --anchor HASH       some entry must have this hash
  --anchors-from-s3   every anchor of DEPLOYMENT_NAME in AUDIT_ANCHOR_S3_BUCKET
A hash is the 64 hex characters of an anchor's "hash".

Exit codes: 0 intact; 1 broken (names the first bad entry); 2 nothing checked (bad arguments, no
database, no key, anchors not readable).`;

/** Something prevents any check: exit 2 with this message. */
class CannotCheck extends Error {}

const HASH = /^[0-9a-fA-F]{64}$/;
const anchorArg = z.string().transform((raw, ctx): ChainAnchor => {
  const text = raw.trim();
  const match = /^(?:(\d{1,15}):)?(.*)$/.exec(text)!;
  const [, seqText, hash = ''] = match;
  const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  if (!HASH.test(hash)) {
    ctx.addIssue({
      code: 'custom',
      message: `--anchor ${shown} is not a hash: give the 64 hex characters of an anchor's hash, or SEQ:HASH (e.g. 1000:${'3f'.repeat(4)}…).`,
    });
    return z.NEVER;
  }
  const seq = seqText === undefined ? null : Number(seqText);
  if (seq !== null && seq < 1) {
    ctx.addIssue({ code: 'custom', message: `--anchor ${shown}: SEQ must be an entry number (1 or more).` });
    return z.NEVER;
  }
  return { seq, hash: hash.toLowerCase(), source: `--anchor ${seq === null ? '' : `${seq}:`}${hash.slice(0, 12).toLowerCase()}…` };
});

function parseArguments(argv: string[]): { anchors: ChainAnchor[]; fromS3: boolean; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { anchor: { type: 'string', multiple: true }, 'anchors-from-s3': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new CannotCheck(`${(error as Error).message}\n\n${usage}`);
  }
  const anchors = z.array(anchorArg).safeParse(parsed.values.anchor ?? []);
  if (!anchors.success) throw new CannotCheck(anchors.error.issues.map((i) => i.message).join('\n'));
  return { anchors: anchors.data, fromS3: parsed.values['anchors-from-s3'] === true, help: parsed.values.help === true };
}

function report(verdict: ChainVerdict): number {
  if (verdict.intact) {
    console.log(`Audit chain intact: ${verdict.entries} entries, head ${verdict.head}`);
    console.log(
      verdict.keyedFromSeq > 1
        ? `Keyed (HMAC-SHA-256) from entry #${verdict.keyedFromSeq}; the ${verdict.keyedFromSeq - 1} entries before it were written before the chain was keyed (SHA-256).`
        : 'Keyed (HMAC-SHA-256) from entry #1.',
    );
    if (verdict.anchorsChecked) console.log(`Anchors: ${verdict.anchorsChecked} matched.`);
    return 0;
  }
  const { seq, at, action, message, problem } = verdict.broken;
  if (problem === 'anchor-not-found' || problem === 'marker-invalid') console.error(`Audit chain BROKEN: ${message}`);
  else console.error(`Audit chain BROKEN at ${at === null ? `entry #${seq}` : `entry #${seq} (${at}, ${action})`}: ${message}`);
  console.error(`${verdict.entriesVerified} entries before it verify.`);
  return 1;
}

/**
 * The audit chain key, without ever creating a keyring where there is none. An empty log verifies
 * under any key, so a deployment that never logged needs no keyring.
 */
async function chainKey(env: AppEnv, logIsEmpty: boolean): Promise<Buffer> {
  let keyringThere: boolean;
  let where: string;
  if (env.DATABASE_URL) {
    const db = postgresDb<AppDatabase>(env.DATABASE_URL, APP_SCHEMA);
    const { rows } = await sql<{ meta: string | null }>`SELECT to_regclass(${`${BUILTIN_SCHEMA}.meta`})::text AS meta`.execute(db);
    keyringThere = Boolean(rows[0]?.meta);
    where = `DATABASE_URL holds no keyring (no ${BUILTIN_SCHEMA}.meta table), where the audit chain key is kept: is it the dashboard's database?`;
  } else {
    const file = path.join(path.resolve(env.DATA_DIR), 'secrets.db');
    keyringThere = existsSync(file);
    where = `No keyring at ${file}: the audit chain key is kept there, sealed under the master key. Is DATA_DIR right?`;
  }
  if (!keyringThere) {
    if (logIsEmpty) return randomBytes(32);
    throw new CannotCheck(where);
  }
  try {
    return await auditChainKey();
  } catch (error) {
    throw new CannotCheck(`Cannot open the audit chain key: ${(error as Error).message}`);
  }
}

async function anchorsFromS3(env: AppEnv): Promise<ChainAnchor[]> {
  const cfg = anchorS3ConfigFromEnv(env);
  if (!cfg) throw new CannotCheck('--anchors-from-s3 needs AUDIT_ANCHOR_S3_BUCKET (and AUDIT_ANCHOR_S3_REGION) set as the server has them.');
  try {
    const anchors = await readAnchorsFromS3(cfg);
    console.log(`Anchors in s3://${cfg.bucket}/${cfg.prefix}${cfg.deployment}/: ${anchors.length}`);
    return anchors;
  } catch (error) {
    throw new CannotCheck(error instanceof AnchorSinkError ? error.message : `Cannot read the anchors from S3: ${(error as Error).message}`);
  } finally {
    resetAnchorS3();
  }
}

/** With DATABASE_URL: the chain in PostgreSQL's app schema (never created here: an empty database is an error). */
async function verifyPostgres(env: AppEnv & { DATABASE_URL: string }, anchors: ChainAnchor[]): Promise<number> {
  try {
    await checkPostgres(env.DATABASE_URL);
  } catch (error) {
    throw new CannotCheck(error instanceof DatabaseStartError ? error.message : (error as Error).message);
  }
  const db = postgresDb<AppDatabase>(env.DATABASE_URL, APP_SCHEMA);
  const table = await sql<{ n: number }>`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = ${APP_SCHEMA} AND table_name = 'audit_log'`.execute(db);
  if (!table.rows[0]?.n) throw new CannotCheck("DATABASE_URL holds no dashboard audit log (no app.audit_log table): is it the dashboard's database?");
  const entry = await db.selectFrom('audit_log').select('seq').limit(1).executeTakeFirst();
  const key = await chainKey(env, !entry);
  return report(await verifyChainInPostgres(db, key, anchors));
}

async function main(argv: string[]): Promise<number> {
  const args = parseArguments(argv);
  if (args.help) {
    console.log(usage);
    return 0;
  }
  let env: AppEnv;
  try {
    env = readEnv();
  } catch (error) {
    throw new CannotCheck(error instanceof ConfigError ? error.message : `Cannot read the settings: ${(error as Error).message}`);
  }
  const anchors = [...args.anchors, ...(args.fromS3 ? await anchorsFromS3(env) : [])];
  if (env.DATABASE_URL) return verifyPostgres({ ...env, DATABASE_URL: env.DATABASE_URL }, anchors);
  let conn;
  try {
    conn = openChainDatabase(env.DATA_DIR, APP_DB_FILE);
  } catch (error) {
    throw error instanceof ChainUnreadableError ? new CannotCheck(error.message) : error;
  }
  try {
    const key = await chainKey(env, !conn.prepare('SELECT 1 FROM audit_log LIMIT 1').get());
    return report(verifyChainIn(conn, key, anchors));
  } finally {
    conn.close();
  }
}

main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      console.error(error instanceof CannotCheck ? error.message : `Audit verification failed: ${error.message}`);
      process.exitCode = 2;
    },
  )
  .finally(async () => {
    await closeKeyrings();
    await closePostgres();
  });
