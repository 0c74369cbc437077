// npm run restore -- FILE [--key-file PATH]
// Restores a backup made by npm run backup into DATA_DIR, which must be empty or absent. Everything
// is checked before anything lands in DATA_DIR: the file is a backup, its checksums, each database's
// integrity, the row counts against its manifest, the master key opens it (MASTER_KEY, --key-file,
// or KMS for a backup whose master key is sealed by KMS), every value decrypts, the audit chain
// verifies under the audit chain key, and each finding suppression and alert silence is as that log records it. Exit
// codes: 0 restored; 1 a check failed (the backup is damaged or altered, or the key is not its key),
// nothing restored; 2 nothing done (bad arguments, not a backup, DATA_DIR not empty, no usable
// master key, DATABASE_URL set).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, readEnv } from '@/lib/config/env';
import { isExpectedRestoreError, restoreExitCode } from '@/lib/backup/exit-codes';
import { restoreBackup } from '@/lib/backup/restore-backup';

const usage = `usage: npm run restore -- FILE [--key-file PATH]

Restores the backup FILE (made by npm run backup) into DATA_DIR, which must be empty or absent:
a restore never overwrites data. The backup is checked first (checksums, SQLite integrity, row
counts, every value decrypts with the master key, the audit chain verifies, each finding
suppression and alert silence is as the audit log records it); if any check fails nothing is restored. Stop the dashboard before restoring, start it afterwards.

The master key (a backup holds none in the clear):
  --key-file PATH   a copy of the old DATA_DIR/master.key
  MASTER_KEY        the key, when the deployment ran with MASTER_KEY
  KMS settings      for a backup whose master key is sealed by KMS: MASTER_KEY_KMS_KEY_ID,
                    MASTER_KEY_KMS_REGION, DEPLOYMENT_NAME and AWS credentials allowed kms:Decrypt
  --help            this text

Exit codes: 0 restored; 1 a check failed (the backup is damaged or altered, or the key is not its
key), nothing restored; 2 nothing done (bad arguments, not a backup, DATA_DIR not empty, no usable
master key, DATABASE_URL set).`;

const PG_RESTORE_HELP = `DATABASE_URL is set: the data lives in PostgreSQL, and npm run restore restores SQLite backups (npm run backup) into DATA_DIR only. Restore a pg_dump of the dashboard's schemas into an empty database with
  psql "$DATABASE_URL" -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public'
  pg_restore --exit-on-error --single-transaction --no-owner -d "$DATABASE_URL" dashboard.dump
then run npm run audit:verify and start the dashboard with the same MASTER_KEY (or KMS settings). To restore a backup file here, unset DATABASE_URL and set DATA_DIR to an empty folder. Nothing was changed.`;

const argsSchema = z.object({
  file: z.string({ error: 'FILE is required: the backup to restore' }).trim().min(1, { error: 'FILE must not be empty' }),
  keyFile: z.string().trim().min(1, { error: '--key-file needs a path' }).optional(),
});

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { 'key-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
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
  const args = argsSchema.safeParse({ file: parsed.positionals[0], keyFile: parsed.values['key-file'] });
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
    console.error(PG_RESTORE_HELP);
    return 2;
  }
  try {
    const result = await restoreBackup({ file: args.data.file, dataDir: env.DATA_DIR, keyFile: args.data.keyFile, env, say: (line) => console.log(line) });
    console.log(`Restored into ${result.dataDir}.`);
    console.log('Before starting the dashboard on it:');
    if (result.kmsSealed) console.log('  the master key stays sealed by KMS (master.key.kms): start with the same MASTER_KEY_KMS_KEY_ID, region and DEPLOYMENT_NAME.');
    else if (args.data.keyFile)
      console.log(`  copy the key file to ${path.join(result.dataDir, 'master.key')} (chmod 600), or set MASTER_KEY to its content.`);
    else console.log('  start it with the same MASTER_KEY.');
    console.log('  sign-in sessions of the old deployment end unless NEXTAUTH_SECRET (or DATA_DIR/auth.secret) is the old one;');
    console.log('  the AWS stores\' inventory and CloudTrail events are not in a backup: the first sync reads them again, and the findings are recomputed after it.');
    return 0;
  } catch (error) {
    if (isExpectedRestoreError(error)) {
      console.error(error.message);
      return restoreExitCode(error);
    }
    console.error(`Restore failed: ${(error as Error).message}. Nothing was restored.`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.error(`Restore failed: ${error.message}`);
    process.exitCode = 1;
  },
);
