import 'server-only';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { KEY_BYTES } from '@/lib/crypto/envelope';
import { kmsSealConfigFromEnv, KmsSealError, sealedMasterKeySchema, unsealMasterKey, type KmsSealConfig } from '@/lib/crypto/kms';
import type { AppEnv } from '@/lib/config/env';

// Where restore gets the master key that must open the backup: --key-file PATH (a copy of the
// deployment's DATA_DIR/master.key), MASTER_KEY, or, for a backup whose master key is sealed by
// KMS (its master.key.kms), KMS with the deployment's settings (MASTER_KEY_KMS_KEY_ID, …).
// The key itself never appears in a message.

/** No usable key was given: nothing was read beyond the backup's header (exit code 2). */
export class RestoreKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreKeyError';
  }
}

export interface RestoreKeyOptions {
  keyFile?: string;
  env: AppEnv;
  /** The backup's master.key.kms, when it has one. */
  sealedKey: Buffer | null;
}

export interface RestoreKey {
  key: Buffer;
  /** Where it came from, in words, for the report (never the key). */
  from: string;
  /** The KMS settings used, when KMS unsealed it. */
  kms?: KmsSealConfig;
}

function decode(base64: string, source: string): Buffer {
  const text = base64.trim();
  const key = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || key.length !== KEY_BYTES)
    throw new RestoreKeyError(`${source} must hold the base64 encoding of exactly ${KEY_BYTES} bytes (as DATA_DIR/master.key does); it does not.`);
  return key;
}

/** Checked before any work, so a missing or conflicting key is reported before anything is written. */
export function checkKeyOptions(options: Omit<RestoreKeyOptions, 'sealedKey'>): void {
  if (options.keyFile && options.env.MASTER_KEY)
    throw new RestoreKeyError('Both --key-file and MASTER_KEY are set: give the master key one way only.');
  if (options.keyFile && options.env.MASTER_KEY_KMS_KEY_ID)
    throw new RestoreKeyError('Both --key-file and MASTER_KEY_KMS_KEY_ID are set: give the master key one way only.');
  if (options.keyFile) {
    const file = path.resolve(options.keyFile);
    if (!existsSync(file) || !statSync(file).isFile()) throw new RestoreKeyError(`--key-file ${file} does not exist or is not a file.`);
  }
}

export async function resolveRestoreKey(options: RestoreKeyOptions): Promise<RestoreKey> {
  checkKeyOptions(options);
  if (options.keyFile) {
    const file = path.resolve(options.keyFile);
    return { key: decode(readFileSync(file, 'utf8'), `--key-file ${file}`), from: `the key file ${file}` };
  }
  if (options.env.MASTER_KEY) return { key: decode(options.env.MASTER_KEY, 'MASTER_KEY'), from: 'MASTER_KEY' };
  let kms: KmsSealConfig | null;
  try {
    kms = kmsSealConfigFromEnv(options.env);
  } catch (error) {
    if (error instanceof KmsSealError) throw new RestoreKeyError(error.message);
    throw error;
  }
  if (!options.sealedKey) {
    throw new RestoreKeyError(
      kms
        ? 'MASTER_KEY_KMS_KEY_ID is set, but this backup holds no KMS-sealed master key: its data was written under a key file or MASTER_KEY. ' +
            'Give that key with --key-file PATH (a copy of the old DATA_DIR/master.key) or MASTER_KEY, and unset MASTER_KEY_KMS_KEY_ID.'
        : 'No master key given. A backup holds ciphertext only: give the key its data was written with, --key-file PATH (a copy of the old DATA_DIR/master.key) or MASTER_KEY.',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(options.sealedKey.toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = sealedMasterKeySchema.safeParse(json);
  if (!parsed.success) throw new RestoreKeyError("The backup's master.key.kms is not a KMS-sealed master key; use another backup.");
  if (!kms)
    throw new RestoreKeyError(
      `This backup's master key is sealed by KMS key ${parsed.data.kmsKeyId} (${parsed.data.region}): set MASTER_KEY_KMS_KEY_ID=${parsed.data.kmsKeyId} ` +
        `and MASTER_KEY_KMS_REGION=${parsed.data.region} (and DEPLOYMENT_NAME, AWS credentials allowed kms:Decrypt), as the restored server will need them.`,
    );
  try {
    return { key: await unsealMasterKey(kms, parsed.data), from: `KMS key ${kms.keyId} in ${kms.region}`, kms };
  } catch (error) {
    if (error instanceof KmsSealError) throw new RestoreKeyError(`Cannot unseal the backup's master key: ${error.message}`);
    throw error;
  }
}
