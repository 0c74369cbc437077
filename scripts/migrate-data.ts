// npm run migrate-data -- --from DATA_DIR [--to postgres://user:password@host:5432/database]   (default: DATABASE_URL)
// Copies a SQLite deployment (app.db, inventory.db, audit-events.db, secrets.db under DATA_DIR)
// into an empty PostgreSQL database, then checks every table's row count and the audit chain on
// both sides. Stop the dashboard first. Exit codes: 0 copied and everything matches; 1 a count or
// the audit chain differs, or the copy failed and was rolled back; 2 nothing written (bad
// arguments, PostgreSQL unreachable, the target already holds data).
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DATA_AREAS } from '@/lib/db/areas';
import { copySqliteToPostgres, CopyFailedError, CopyRefusedError, type CopyResult } from '@/lib/db/copy-data';
import { MigrationError } from '@/lib/db/migrate';
import { closePostgres, DatabaseStartError } from '@/lib/db/postgres';
import type { ChainVerdict } from '@/lib/audit/verify-chain';
import { KMS_KEY_FILE } from '@/lib/crypto/master-key';

// Files DATA_DIR keeps beside the databases (lib/stores/embedded/open.ts, lib/auth/auth-secret.ts):
// keys, not data, so they are not copied; the operator moves them into the environment.
const KEY_FILE = 'master.key';
const AUTH_SECRET_FILE = 'auth.secret';

const usage = `usage: npm run migrate-data -- --from DATA_DIR --to postgres://user:password@host:5432/database

Copies the dashboard's SQLite data (${DATA_AREAS.map((a) => a.sqliteFile).join(', ')} under DATA_DIR) into an
empty PostgreSQL database: each file becomes a schema (${DATA_AREAS.map((a) => a.schema).join(', ')}), made by the
same migrations the server runs at start. All rows go over in one transaction, then the row counts
of every table and the audit chain are compared. Stop the dashboard before copying.

  --from DATA_DIR   the SQLite deployment's data directory (holds app.db or secrets.db)
  --to URL          the PostgreSQL database to fill (the future DATABASE_URL); it must be empty.
                    Without --to, DATABASE_URL is used (a password in the environment stays out of
                    the process list, where other users of the machine could read an argument)
  --help            this text

Exit codes: 0 copied and everything matches; 1 a count or the audit chain differs, or the copy
failed and was rolled back; 2 nothing written (bad arguments, PostgreSQL unreachable, the target
already holds data).`;

/** Any PostgreSQL URL in a text with its password replaced, for every line this tool prints. */
function maskPasswords(text: string): string {
  // Greedy up to the last @ of the URL: an unescaped @ inside a password stays hidden too.
  return text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)\S*@/gi, '$1***@');
}

const say = (line = '') => console.log(maskPasswords(line));
const complain = (line: string) => console.error(maskPasswords(line));

const argsSchema = z.object({
  from: z
    .string({ error: '--from is required: the data directory (DATA_DIR) of the SQLite deployment' })
    .min(1, { error: '--from is required: the data directory (DATA_DIR) of the SQLite deployment' })
    .transform((dir) => path.resolve(dir))
    .superRefine((dir, ctx) => {
      if (!existsSync(dir) || !statSync(dir).isDirectory()) ctx.addIssue({ code: 'custom', message: `--from: ${dir} is not a directory` });
      else if (!existsSync(path.join(dir, 'app.db')) && !existsSync(path.join(dir, 'secrets.db')))
        ctx.addIssue({ code: 'custom', message: `--from: ${dir} holds neither app.db nor secrets.db: is it the dashboard's DATA_DIR?` });
    }),
  // Messages never repeat the value: it carries the password.
  to: z
    .string({ error: '--to (or DATABASE_URL) is required: postgres://user:password@host:5432/database' })
    .regex(/^postgres(ql)?:\/\/\S+$/, { error: '--to must be a PostgreSQL URL: postgres://user:password@host:5432/database' })
    .refine((v) => URL.canParse(v) && new URL(v).hostname !== '' && new URL(v).pathname.length > 1, {
      error: '--to must name a host and a database: postgres://user:password@host:5432/database',
    }),
});

function verdictText(verdict: ChainVerdict): string {
  if (verdict.intact) return `intact, ${verdict.entries} entries, head ${verdict.head}`;
  const { seq, at, action, message } = verdict.broken;
  const which = at === null ? `entry #${seq}` : `entry #${seq} (${at}, ${action})`;
  return `BROKEN at ${which}: ${message} (${verdict.entriesVerified} entries before it verify)`;
}

function printReport(result: CopyResult): boolean {
  let allMatch = true;
  for (const copy of result.areas) {
    for (const { table, why } of copy.skipped) say(`note: ${copy.area.sqliteFile} ${table} not copied: ${why}`);
    for (const table of copy.withoutTwin) say(`warning: ${copy.area.sqliteFile} ${table} not copied: PostgreSQL's ${copy.area.schema} schema has no such table`);
    for (const { table, columns } of copy.withoutTwinColumns)
      say(`warning: ${copy.area.sqliteFile} ${table}: column(s) ${columns.join(', ')} not copied: PostgreSQL's table has none`);
  }
  const header = ['area', 'table', 'rows in SQLite', 'rows in PostgreSQL', ''];
  const lines = result.counts.map((c) => {
    const same = c.sqliteRows === c.postgresRows;
    if (!same) allMatch = false;
    return [c.area, c.table, String(c.sqliteRows), String(c.postgresRows), same ? '' : 'MISMATCH'];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => cells.map((cell, i) => (i >= 2 && i <= 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  say();
  say(row(header));
  for (const line of lines) say(row(line));
  say();
  if (result.chain) {
    say(`Audit chain on SQLite:     ${verdictText(result.chain.sqlite)}`);
    say(`Audit chain on PostgreSQL: ${verdictText(result.chain.postgres)}`);
    if (!result.chain.same) {
      allMatch = false;
      complain(
        result.chain.sqlite.intact
          ? 'MISMATCH: the audit chain on PostgreSQL is not the one on SQLite.'
          : 'The audit chain on SQLite does not verify: it was copied as it is; see the entry named above (npm run audit:verify).',
      );
    }
  } else {
    say('Audit chain: no app.db in the data directory, nothing to compare.');
  }
  return allMatch;
}

/** What the dashboard on PostgreSQL needs that stayed in files under DATA_DIR (paths only, never contents). */
function printWhatToSet(result: CopyResult, from: string): void {
  say();
  say('Before starting the dashboard on PostgreSQL (every replica):');
  say('  DATABASE_URL    the --to URL');
  if (result.areas.some((a) => a.area.name === 'builtin') && existsSync(path.join(from, KMS_KEY_FILE))) {
    say('  MASTER_KEY_KMS_KEY_ID (and MASTER_KEY_KMS_REGION, DEPLOYMENT_NAME) as this deployment ran with: the master key');
    say('                  sealed by KMS was copied into the database (KMS ciphertext only); leave MASTER_KEY unset');
  } else if (result.areas.some((a) => a.area.name === 'builtin')) {
    const keyFile = path.join(from, KEY_FILE);
    say("  MASTER_KEY      the built-in store's values were copied sealed, as they are: set the key this");
    say(
      existsSync(keyFile)
        ? `                  deployment used, the content of ${keyFile} (PostgreSQL has no key file)`
        : '                  deployment ran with (it had no key file, so MASTER_KEY was set)',
    );
  }
  const authFile = path.join(from, AUTH_SECRET_FILE);
  say(
    existsSync(authFile)
      ? `  NEXTAUTH_SECRET the content of ${authFile} keeps current sessions signed in`
      : '  NEXTAUTH_SECRET the one this deployment ran with keeps current sessions signed in',
  );
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  } catch (error) {
    complain(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    say(usage);
    return 0;
  }
  const args = argsSchema.safeParse({ ...parsed.values, to: parsed.values.to ?? (process.env.DATABASE_URL || undefined) });
  if (!args.success) {
    for (const issue of args.error.issues) complain(issue.message);
    complain(`\n${usage}`);
    return 2;
  }
  const { from, to } = args.data;
  say(`Copying ${from} (SQLite) to ${to} (PostgreSQL)`);
  try {
    const result = await copySqliteToPostgres(from, to, (line) => say(line));
    const allMatch = printReport(result);
    if (allMatch) {
      say();
      say("Done: every table's rows and the audit chain match.");
      printWhatToSet(result, from);
      return 0;
    }
    complain('\nThe copy does not match the SQLite data (see above).');
    return 1;
  } catch (error) {
    if (error instanceof DatabaseStartError || error instanceof CopyRefusedError) {
      complain(error.message.replace(/^DATABASE_URL:/, '--to:'));
      return 2;
    }
    if (error instanceof MigrationError) {
      complain(`${error.message} No row was copied.`);
      return 2;
    }
    if (error instanceof CopyFailedError) {
      complain(error.message);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    complain(`migrate-data failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  })
  .finally(() => closePostgres());
