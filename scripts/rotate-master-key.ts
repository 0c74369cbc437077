// npm run rotate-master-key [-- --to file|kms|env] [--kms-key-id ID] [--new-key-env NAME]
// Gives the built-in store a new master key: every data key (each item version's, the key check's,
// the audit chain key's) is re-wrapped under it in one transaction; values are not re-encrypted.
// Stop the servers first, run this with the same settings (DATA_DIR / DATABASE_URL, MASTER_KEY or
// MASTER_KEY_KMS_KEY_ID…), then start them with the settings it prints. Exit codes: 0 rotated,
// 1 could not rotate (nothing changed), 2 bad input (nothing changed).
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { cliActor } from '@/lib/audit/cli-actor';
import { ConfigError, readEnv } from '@/lib/config/env';
import { flushAnchors } from '@/lib/audit/anchors';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { kmsKeyIdSchema, rotateMasterKey, RotationFailed, RotationRefused } from '@/lib/crypto/rotate-master-key';
import { closePostgres } from '@/lib/db/postgres';

const usage = `usage: npm run rotate-master-key [-- --to file|kms|env] [--kms-key-id ID] [--new-key-env NAME]

  (no option)        a new key in the same kind of home as now
  --to file          a new DATA_DIR/master.key (SQLite only)
  --to kms           a new key sealed by KMS (--kms-key-id, else MASTER_KEY_KMS_KEY_ID, else the current KMS key)
  --to env           the new key given in the variable NEW_MASTER_KEY (or --new-key-env NAME); set MASTER_KEY to it afterwards
Stop the servers first; start them again afterwards.`;

const argsSchema = z.object({
  to: z.enum(['file', 'kms', 'env'], { message: '--to must be file, kms or env' }).optional(),
  kmsKeyId: kmsKeyIdSchema.optional(),
  newKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, { message: '--new-key-env must name an environment variable (letters, digits, _)' })
    .refine((name) => name !== 'MASTER_KEY', { message: '--new-key-env cannot be MASTER_KEY: that holds the current key' })
    .default('NEW_MASTER_KEY'),
});

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: false,
      options: { to: { type: 'string' }, 'kms-key-id': { type: 'string' }, 'new-key-env': { type: 'string' }, help: { type: 'boolean' } },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(usage);
    return 0;
  }
  const args = argsSchema.safeParse({ to: parsed.values.to, kmsKeyId: parsed.values['kms-key-id'], newKeyEnv: parsed.values['new-key-env'] });
  if (!args.success) {
    console.error(`${args.error.issues.map((i) => i.message).join('\n')}\n${usage}`);
    return 2;
  }
  let env;
  try {
    env = readEnv();
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : `Cannot read the settings: ${(error as Error).message}`);
    return 2;
  }
  try {
    const outcome = await rotateMasterKey({
      env,
      to: args.data.to,
      kmsKeyId: args.data.kmsKeyId,
      newKeyEnvName: args.data.newKeyEnv,
      newKeyBase64: process.env[args.data.newKeyEnv] || undefined,
      actor: cliActor(),
    });
    const kms = (home: typeof outcome.from) => (home.kmsKeyId ? ` (${home.kmsKeyId})` : '');
    console.log(
      `Rotated the master key: ${outcome.versionsRewrapped} version(s) re-wrapped under the new key, ${outcome.from.kind}${kms(outcome.from)} → ${outcome.to.kind}${kms(outcome.to)}. Values were not re-encrypted.`,
    );
    if (outcome.auditError) console.error(`warning: the rotation is done, but its audit entry could not be written: ${outcome.auditError}`);
    else console.log('Recorded in the audit log (master-key.rotate).');
    console.log('Next:');
    for (const step of outcome.nextSteps) console.log(`  - ${step}`);
    return 0;
  } catch (error) {
    if (error instanceof RotationRefused) {
      console.error(error.message);
      return 2;
    }
    console.error(error instanceof RotationFailed ? error.message : `Rotation failed: ${(error as Error).message}`);
    return 1;
  }
}

main()
  .then(async (code) => {
    await flushAnchors().catch(() => undefined);
    await closeKeyrings().catch(() => undefined);
    await closePostgres().catch(() => undefined);
    process.exit(code);
  })
  .catch((error: Error) => {
    console.error(`Rotation failed: ${error.message}`);
    process.exit(1);
  });
