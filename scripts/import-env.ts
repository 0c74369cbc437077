// npm run import -- FILE --prefix /app/dev/
// Writes each KEY=VALUE of a dotenv file as a SecureString into the embedded store, all or nothing.
// Never prints values. Each import that got as far as a file and a prefix is one audit entry
// (prefix, file name, counts, outcome; never a value) with the operating-system user as the actor.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { appendAudit } from '@/lib/audit/audit-log';
import { cliActor } from '@/lib/audit/cli-actor';
import { readEnv } from '@/lib/config/env';
import { kmsSealConfigFromEnv } from '@/lib/crypto/kms';
import { applyDotenvImport, normalisePrefix, planDotenvImport, prefixProblem } from '@/lib/import/import-dotenv';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { flushAnchors } from '@/lib/audit/anchors';

const usage = 'usage: npm run import -- FILE --prefix /app/dev/ [--actor NAME]';
const STORE_ID = 'local';

type Attempt = { prefix: string; file: string; changedBy: string | null };
let attempted: Attempt | null = null;

/** The import's one audit entry; counts and causes only. */
async function audit(outcome: 'success' | 'failure', details: Record<string, string | number>): Promise<void> {
  if (!attempted) return;
  const { prefix, file, changedBy } = attempted;
  attempted = null; // one entry per import, even if writing it fails and the error handler runs
  await appendAudit({
    actor: cliActor(),
    action: 'import',
    target: `${STORE_ID}:${prefix}`,
    outcome,
    details: { via: 'cli', file: path.basename(file), ...(changedBy ? { changedBy } : {}), ...details },
  });
}

const argsSchema = z.object({
  file: z.string({ message: `give the dotenv file to import\n${usage}` }).min(1),
  // A prefix no name may be written under (a "..", ".", empty level or a control character) is a
  // wrong argument: exit 2 naming the level, before the file is read or anything is opened.
  prefix: z
    .string({ message: `give --prefix, the folder to import into, e.g. /app/dev/\n${usage}` })
    .min(1)
    .superRefine((prefix, ctx) => {
      const problem = prefixProblem(prefix);
      if (problem) ctx.addIssue({ code: 'custom', message: `${problem}\nNothing was imported.` });
    }),
  actor: z.string().min(1).max(200),
});

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { prefix: { type: 'string' }, actor: { type: 'string' } } });
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const args = argsSchema.safeParse({
    file: parsed.positionals[0],
    prefix: parsed.values.prefix,
    actor: parsed.values.actor ?? cliActor(),
  });
  if (!args.success) {
    console.error(args.error.issues.map((i) => i.message).join('\n'));
    return 2;
  }
  attempted = { prefix: normalisePrefix(args.data.prefix), file: args.data.file, changedBy: parsed.values.actor ?? null };
  let source: string;
  try {
    source = readFileSync(args.data.file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    await audit('failure', { reason: `cannot read the file (${code})`, created: 0, updated: 0 });
    console.error(`Cannot read ${args.data.file}: ${code}`);
    return 2;
  }

  const plan = planDotenvImport(source, args.data.prefix);
  if (!plan.ok) {
    // The problems name lines and keys; the entry keeps only their number.
    await audit('failure', { reason: 'the file has problems', problems: plan.problems.length, created: 0, updated: 0 });
    console.error(`Nothing was imported: ${args.data.file} has ${plan.problems.length} problem(s):`);
    for (const p of plan.problems) console.error(p.line > 0 ? `  line ${p.line}: ${p.message}` : `  ${p.message}`);
    return 1;
  }

  const env = readEnv();
  const { store } = await EmbeddedStore.open('local', 'Built-in encrypted store', {
    dataDir: env.DATA_DIR,
    masterKeyBase64: env.MASTER_KEY || undefined,
    databaseUrl: env.DATABASE_URL,
    // A master key sealed by KMS (MASTER_KEY_KMS_KEY_ID) opens here as it does in the server.
    kms: kmsSealConfigFromEnv(env),
  });
  try {
    const result = await applyDotenvImport(store, plan, args.data.actor);
    await audit('success', { created: result.created.length, updated: result.updated.length });
    for (const name of result.created) console.log(`  created  ${name}`);
    for (const name of result.updated) console.log(`  updated  ${name} (new version)`);
    console.log(`Imported ${result.created.length + result.updated.length} item(s): ${result.created.length} new, ${result.updated.length} new version(s).`);
    return 0;
  } finally {
    await store.close();
  }
}

// An anchor due from this run's audit entries is written before the process ends.
const exitAfterAnchors = (code: number) => flushAnchors().finally(() => process.exit(code));

main().then(
  (code) => exitAfterAnchors(code),
  async (error: Error) => {
    console.error(`Import failed: ${error.message}`);
    try {
      // The store writes in one transaction, so a failure here means nothing was written.
      await audit('failure', { reason: error.message.slice(0, 200), created: 0, updated: 0 });
    } catch (auditError) {
      console.error(`Could not write the audit entry: ${(auditError as Error).message}`);
    }
    await exitAfterAnchors(1);
  },
);
