// npm run import -- FILE --prefix /app/dev/
// Writes each KEY=VALUE of a dotenv file as a SecureString into the embedded store. Never prints values.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { readEnv } from '@/lib/config/env';
import { applyDotenvImport, planDotenvImport } from '@/lib/import/import-dotenv';
import { EmbeddedStore } from '@/lib/stores/embedded/store';

const usage = 'usage: npm run import -- FILE --prefix /app/dev/ [--actor NAME]';

const argsSchema = z.object({
  file: z.string({ message: `give the dotenv file to import\n${usage}` }).min(1),
  prefix: z.string({ message: `give --prefix, the folder to import into, e.g. /app/dev/\n${usage}` }).min(1),
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
    actor: parsed.values.actor ?? `import:${userInfo().username}`,
  });
  if (!args.success) {
    console.error(args.error.issues.map((i) => i.message).join('\n'));
    return 2;
  }
  let source: string;
  try {
    source = readFileSync(args.data.file, 'utf8');
  } catch (error) {
    console.error(`Cannot read ${args.data.file}: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`);
    return 2;
  }

  const plan = planDotenvImport(source, args.data.prefix);
  if (!plan.ok) {
    console.error(`Nothing was imported: ${args.data.file} has ${plan.problems.length} problem(s):`);
    for (const p of plan.problems) console.error(p.line > 0 ? `  line ${p.line}: ${p.message}` : `  ${p.message}`);
    return 1;
  }

  const env = readEnv();
  const { store } = EmbeddedStore.open('local', 'Built-in encrypted store', { dataDir: env.DATA_DIR, masterKeyBase64: env.MASTER_KEY || undefined });
  try {
    const result = await applyDotenvImport(store, plan, args.data.actor);
    for (const name of result.created) console.log(`  created  ${name}`);
    for (const name of result.updated) console.log(`  updated  ${name} (new version)`);
    console.log(`Imported ${result.created.length + result.updated.length} item(s): ${result.created.length} new, ${result.updated.length} new version(s).`);
    return 0;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`Import failed: ${error.message}`);
    process.exit(1);
  },
);
