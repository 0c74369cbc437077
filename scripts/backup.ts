// npm run backup -- FILE
// A consistent copy of the dashboard's SQLite data (DATA_DIR/secrets.db and app.db, and the
// KMS-sealed master key DATA_DIR/master.key.kms when there is one, the findings' suppressions
// from DATA_DIR/findings.db and the alert silences from DATA_DIR/alerts.db) in one file, taken with SQLite's
// online backup API: safe while the server runs. Never the plaintext master key. Exit codes: 0
// written; 1 the backup failed (nothing left behind); 2 nothing written (bad arguments, FILE
// exists, DATA_DIR is not a deployment, DATABASE_URL set: use pg_dump).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, readEnv } from '@/lib/config/env';
import { backupExitCode } from '@/lib/backup/exit-codes';
import { BackupFailedError, BackupRefusedError, takeBackup } from '@/lib/backup/take-backup';
import { PG_DUMP_SCHEMAS } from '@/lib/db/areas';

const usage = `usage: npm run backup -- FILE

Writes a backup of DATA_DIR (secrets.db: the built-in store's values, sealed, and its keys, sealed;
app.db: users, API tokens, the audit log; master.key.kms when the master key is sealed by KMS;
findings.db: the suppressions reviewers wrote, not the findings, which are recomputed; alerts.db:
the silences admins set, not the alerts and their deliveries, which the next evaluation raises
again) to FILE, a new file. Safe while the dashboard runs. The backup holds ciphertext only: without the
master key (DATA_DIR/master.key, MASTER_KEY, or the KMS key) it is useless, so keep the key
somewhere else than the backups. Restore with: npm run restore -- FILE

Exit codes: 0 written; 1 the backup failed (nothing left behind); 2 nothing written (bad
arguments, FILE exists, DATA_DIR is not a deployment, DATABASE_URL set).`;

const PG_DUMP_HELP = `DATABASE_URL is set: the data is in PostgreSQL, not under DATA_DIR, and npm run backup copies SQLite files only. Back up PostgreSQL with its own tools (one consistent snapshot, safe while the dashboard runs):
  pg_dump -Fc ${PG_DUMP_SCHEMAS} -f dashboard.dump "$DATABASE_URL"
and restore into an empty database with
  psql "$NEW_DATABASE_URL" -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public'
  pg_restore --exit-on-error --single-transaction --no-owner -d "$NEW_DATABASE_URL" dashboard.dump
The dump holds the built-in store's values sealed: keep MASTER_KEY (or the KMS key) somewhere else. Nothing was written.`;

const argsSchema = z.object({
  file: z.string({ error: 'FILE is required: where to write the backup (a new file)' }).trim().min(1, { error: 'FILE must not be empty' }),
});

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(usage);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    console.error(`Give one FILE, not ${parsed.positionals.length}.\n\n${usage}`);
    return 2;
  }
  const args = argsSchema.safeParse({ file: parsed.positionals[0] });
  if (!args.success) {
    for (const issue of args.error.issues) console.error(issue.message);
    console.error(`\n${usage}`);
    return 2;
  }
  let env;
  try {
    env = readEnv();
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : `Cannot read the settings: ${(error as Error).message}`);
    return 2;
  }
  if (env.DATABASE_URL) {
    console.error(PG_DUMP_HELP);
    return 2;
  }
  try {
    const { file, bytes, manifest } = await takeBackup({ dataDir: env.DATA_DIR, file: args.data.file });
    console.log(`Backup written to ${file} (${bytes} bytes): ${manifest.files.map((f) => f.name).join(', ')}`);
    console.log(
      `  ${manifest.counts.items} items, ${manifest.counts.versions} versions, ${manifest.counts.auditEntries} audit entries (head #${manifest.auditHead.seq} ${manifest.auditHead.hash})`,
    );
    console.log(
      manifest.counts.suppressions === undefined
        ? '  No findings store yet: no suppressions to carry.'
        : `  ${manifest.counts.suppressions} finding suppressions (the findings themselves are recomputed after a restore)`,
    );
    console.log(
      manifest.counts.silences === undefined
        ? '  No alerts store yet: no silences to carry.'
        : `  ${manifest.counts.silences} alert silences (open alerts and deliveries are raised again by the next evaluation after a restore)`,
    );
    console.log(
      manifest.files.some((f) => f.name === 'master.key.kms')
        ? '  The master key is in it sealed by KMS only: restoring needs that KMS key (kms:Decrypt).'
        : '  The master key is NOT in it: keep DATA_DIR/master.key (or MASTER_KEY) safe, somewhere else; restoring needs it.',
    );
    if (!path.relative(path.resolve(env.DATA_DIR), file).startsWith('..'))
      console.log('  Note: the backup is inside DATA_DIR; copy it to another disk or host, where it survives the loss of this one.');
    return 0;
  } catch (error) {
    if (error instanceof BackupRefusedError || error instanceof BackupFailedError) {
      console.error(error.message);
      return backupExitCode(error);
    }
    console.error(`Backup failed: ${(error as Error).message}. Nothing was written.`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.error(`Backup failed: ${error.message}`);
    process.exitCode = 1;
  },
);
