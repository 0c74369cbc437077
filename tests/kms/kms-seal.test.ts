import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readEnv } from '@/lib/config/env';
import {
  describeSealKey,
  generateSealedMasterKey,
  KmsSealError,
  kmsSealConfigFromEnv,
  masterKeyEncryptionContext,
  sealedMasterKeySchema,
  sealMasterKey,
  unsealMasterKey,
  type KmsSealConfig,
  type SealedMasterKey,
} from '@/lib/crypto/kms';
import { startSimulatedKms, type SimulatedKms } from '@/simulator/simulated-kms';

// The KMS seal of the master key against the simulated KMS through the real SDK (default credential
// chain from the environment, endpoint override): round trips, and each failure a start-up can meet
// turned into a KmsSealError that names the key, the region and the cause, and never a key byte.

const KEY_A = '3f1c2b4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const KEY_B = '7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d';
let sim: SimulatedKms;
const savedEnv: Record<string, string | undefined> = {};
const ENV_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_PROFILE'] as const;

const cfg = (over: Partial<KmsSealConfig> = {}): KmsSealConfig => ({ keyId: 'alias/dashboard', region: 'us-east-1', endpoint: sim.url, deployment: 'prod', ...over });
/** The app's settings from just these variables. */
const settings = (vars: Record<string, string>) => readEnv({ NODE_ENV: 'test', ...vars });
/** Few attempts and short timeouts where a failure is expected, so the suite stays fast. */
const quick = { maxAttempts: 1, connectionTimeoutMs: 500, requestTimeoutMs: 2_000 };

async function sealError(promise: Promise<unknown>): Promise<KmsSealError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KmsSealError);
    return error as KmsSealError;
  }
  throw new Error('expected a KmsSealError');
}

/** No form of the key's bytes appears in the text. */
function expectNoKeyBytes(text: string, key: Buffer): void {
  expect(text).not.toContain(key.toString('base64'));
  expect(text).not.toContain(key.toString('hex'));
  expect(text).not.toContain(key.toString('base64url'));
}

beforeAll(async () => {
  for (const k of ENV_KEYS) savedEnv[k] = process.env[k];
  process.env.AWS_ACCESS_KEY_ID = 'AKIDSIMULATED';
  process.env.AWS_SECRET_ACCESS_KEY = 'simulated-secret';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  sim = await startSimulatedKms({ keys: [{ keyId: KEY_A, aliases: ['alias/dashboard'] }, { keyId: KEY_B, aliases: ['alias/other'] }], latencyMs: 2 });
});
afterAll(async () => {
  await sim.close();
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});
beforeEach(() => {
  sim.control({ enable: [KEY_A, KEY_B], allow: [KEY_A, KEY_B], pendingDeletion: [{ key: KEY_A, pending: false }], failAll: null, cryptoQuotaPerSecond: 5500, resetStats: true });
});

describe('KMS seal: settings and format', () => {
  it('is off without MASTER_KEY_KMS_KEY_ID and takes region, endpoint and deployment from the settings', () => {
    delete process.env.AWS_REGION;
    expect(kmsSealConfigFromEnv(settings({}))).toBeNull();
    expect(kmsSealConfigFromEnv(settings({ MASTER_KEY_KMS_KEY_ID: '' }))).toBeNull();
    expect(kmsSealConfigFromEnv(settings({ MASTER_KEY_KMS_KEY_ID: 'alias/x' }))).toEqual({ keyId: 'alias/x', region: 'us-east-1', deployment: 'secrets-dashboard' });
    process.env.AWS_REGION = 'eu-central-1';
    expect(kmsSealConfigFromEnv(settings({ MASTER_KEY_KMS_KEY_ID: KEY_A }))?.region).toBe('eu-central-1');
    expect(
      kmsSealConfigFromEnv(settings({ MASTER_KEY_KMS_KEY_ID: KEY_A, MASTER_KEY_KMS_REGION: 'eu-west-1', MASTER_KEY_KMS_ENDPOINT: 'http://127.0.0.1:1', DEPLOYMENT_NAME: 'prod-eu' })),
    ).toEqual({ keyId: KEY_A, region: 'eu-west-1', endpoint: 'http://127.0.0.1:1', deployment: 'prod-eu' });
    // A key ARN names its region, ahead of AWS_REGION.
    expect(kmsSealConfigFromEnv(settings({ MASTER_KEY_KMS_KEY_ID: `arn:aws:kms:ap-south-1:123456789012:key/${KEY_A}` }))?.region).toBe('ap-south-1');
    delete process.env.AWS_REGION;
  });

  it('refuses a key ARN in another region than MASTER_KEY_KMS_REGION, naming both', () => {
    const run = () => kmsSealConfigFromEnv(settings({ MASTER_KEY_KMS_KEY_ID: `arn:aws:kms:ap-south-1:123456789012:key/${KEY_A}`, MASTER_KEY_KMS_REGION: 'eu-west-1' }));
    expect(run).toThrow(KmsSealError);
    expect(run).toThrow(/ap-south-1.*eu-west-1.*MASTER_KEY_KMS_REGION=ap-south-1/);
  });

  it('binds the ciphertext to the application, the deployment and the purpose', () => {
    expect(masterKeyEncryptionContext('prod')).toEqual({ application: 'secrets-dashboard', deployment: 'prod', purpose: 'master-key' });
  });

  it('the schema accepts a sealed key and refuses other shapes', async () => {
    const { sealed } = await generateSealedMasterKey(cfg());
    expect(sealedMasterKeySchema.parse(JSON.parse(JSON.stringify(sealed)))).toEqual(sealed);
    for (const bad of [
      { ...sealed, format: 'something-else' },
      { ...sealed, version: 2 },
      { ...sealed, kmsKeyId: 'alias/dashboard' },
      { ...sealed, ciphertextBlob: 'not base64!' },
      { ...sealed, sealedAt: 'yesterday' },
      { ...sealed, plaintext: 'AAAA' },
      { ...sealed, encryptionContext: { deployment: 3 } },
    ])
      expect(sealedMasterKeySchema.safeParse(bad).success, JSON.stringify(bad).slice(0, 80)).toBe(false);
  });
});

describe('KMS seal: round trips', () => {
  it('GenerateDataKey gives a 32-byte key and its sealed form (key ARN, region, context); unseal opens it', async () => {
    const { plaintext, sealed } = await generateSealedMasterKey(cfg());
    expect(plaintext).toHaveLength(32);
    expect(sealed).toMatchObject({
      format: 'secrets-dashboard/kms-sealed-master-key',
      version: 1,
      kmsKeyId: sim.keyArn(KEY_A),
      region: 'us-east-1',
      encryptionContext: { application: 'secrets-dashboard', deployment: 'prod', purpose: 'master-key' },
    });
    expectNoKeyBytes(JSON.stringify(sealed), plaintext);
    expect((await unsealMasterKey(cfg(), sealed)).equals(plaintext)).toBe(true);
    expect(sim.stats().operations).toMatchObject({ GenerateDataKey: { ok: 1 }, Decrypt: { ok: 1 } });
  });

  it('Encrypt seals an existing master key; it opens with the key as alias, key id, key ARN or alias ARN', async () => {
    const masterKey = Buffer.alloc(32, 7);
    const sealed = await sealMasterKey(cfg(), masterKey);
    expect(sealed.kmsKeyId).toBe(sim.keyArn(KEY_A));
    for (const keyId of ['alias/dashboard', KEY_A, sim.keyArn(KEY_A), 'arn:aws:kms:us-east-1:123456789012:alias/dashboard'])
      expect((await unsealMasterKey(cfg({ keyId }), sealed)).equals(masterKey), keyId).toBe(true);
  });

  it('DescribeKey resolves an alias to the key ARN a sealed key records and tells whether the key can seal now', async () => {
    const { sealed } = await generateSealedMasterKey(cfg());
    await expect(describeSealKey(cfg())).resolves.toEqual({ keyArn: sealed.kmsKeyId, keyState: 'Enabled', canSeal: true });
    sim.control({ disable: [KEY_A] });
    await expect(describeSealKey(cfg({ keyId: KEY_A }))).resolves.toEqual({ keyArn: sim.keyArn(KEY_A), keyState: 'Disabled', canSeal: false });
    const missing = await sealError(describeSealKey(cfg({ keyId: 'alias/typo' })));
    expect(missing.reason).toBe('wrong-key');
    sim.control({ deny: [{ key: KEY_B, operations: ['DescribeKey'] }] });
    const denied = await sealError(describeSealKey(cfg({ keyId: KEY_B })));
    expect(denied.message).toMatch(/access denied for kms:DescribeKey/);
  });

  it('refuses to seal anything but a 32-byte key, before calling KMS', async () => {
    const error = await sealError(sealMasterKey(cfg(), Buffer.alloc(16, 1)));
    expect(error.reason).toBe('invalid-response');
    expect(error.message).toMatch(/16 bytes, not the 32 bytes/);
    expect(sim.stats().totals.calls).toBe(0);
  });
});

describe('KMS seal: failures name the key, the region and the cause', () => {
  it('another DEPLOYMENT_NAME (another encryption context) is refused by KMS, naming both deployments', async () => {
    const { plaintext, sealed } = await generateSealedMasterKey(cfg({ deployment: 'prod' }));
    const error = await sealError(unsealMasterKey(cfg({ deployment: 'staging' }), sealed));
    expect(error.reason).toBe('context-mismatch');
    expect(error.awsError).toBe('InvalidCiphertextException');
    expect(error.message).toContain('KMS key "alias/dashboard" in us-east-1');
    expect(error.message).toContain('sealed for deployment "prod" but DEPLOYMENT_NAME is "staging"');
    expectNoKeyBytes(error.message, plaintext);
    expect(sim.stats().operations.Decrypt?.errorTypes).toEqual({ InvalidCiphertextException: 1 });
  });

  it('an altered ciphertext, or a stored context edited to match, is refused without naming a deployment change', async () => {
    const { sealed } = await generateSealedMasterKey(cfg({ deployment: 'prod' }));
    const blob = Buffer.from(sealed.ciphertextBlob, 'base64');
    blob[blob.length - 3]! ^= 0x10;
    const altered = await sealError(unsealMasterKey(cfg(), { ...sealed, ciphertextBlob: blob.toString('base64') }));
    expect(altered.reason).toBe('context-mismatch');
    expect(altered.message).toMatch(/does not match or the ciphertext was altered/);
    // Editing the stored context to the new deployment does not help: KMS holds the binding.
    const relabelled: SealedMasterKey = { ...sealed, encryptionContext: masterKeyEncryptionContext('staging') };
    const edited = await sealError(unsealMasterKey(cfg({ deployment: 'staging' }), relabelled));
    expect(edited.reason).toBe('context-mismatch');
  });

  it('a disabled key and a key pending deletion stop generate and unseal, saying how to fix it', async () => {
    const { sealed } = await generateSealedMasterKey(cfg());
    sim.control({ disable: [KEY_A] });
    for (const attempt of [generateSealedMasterKey(cfg()), unsealMasterKey(cfg(), sealed)]) {
      const error = await sealError(attempt);
      expect(error.reason).toBe('disabled');
      expect(error.message).toBe(`KMS key "alias/dashboard" in us-east-1 (endpoint ${sim.url}): the key is disabled (DisabledException). Enable it in KMS (aws kms enable-key), then start again.`);
    }
    sim.control({ enable: [KEY_A], pendingDeletion: [{ key: KEY_A, pending: true }] });
    const pending = await sealError(unsealMasterKey(cfg(), sealed));
    expect(pending.reason).toBe('disabled');
    expect(pending.message).toMatch(/pending deletion .*KMSInvalidStateException.*cancel-key-deletion/);
    sim.control({ pendingDeletion: [{ key: KEY_A, pending: false }] });
    await expect(unsealMasterKey(cfg(), sealed)).resolves.toHaveLength(32);
  });

  it('an unknown key id or alias is named with what to check', async () => {
    for (const keyId of ['00000000-0000-4000-8000-000000000000', 'alias/typo']) {
      const error = await sealError(generateSealedMasterKey(cfg({ keyId })));
      expect(error.reason).toBe('wrong-key');
      expect(error.message).toContain(`KMS key "${keyId}" in us-east-1`);
      expect(error.message).toMatch(/KMS has no such key \(NotFoundException\)\. Check MASTER_KEY_KMS_KEY_ID and MASTER_KEY_KMS_REGION/);
    }
  });

  it('a sealed key of another KMS key is refused: locally when the configured key is an id or ARN, by KMS (IncorrectKeyException) when it is an alias', async () => {
    const { sealed } = await generateSealedMasterKey(cfg({ keyId: 'alias/other' }));
    expect(sealed.kmsKeyId).toBe(sim.keyArn(KEY_B));
    for (const keyId of [KEY_A, sim.keyArn(KEY_A)]) {
      const local = await sealError(unsealMasterKey(cfg({ keyId }), sealed));
      expect(local.reason).toBe('key-mismatch');
      expect(local.message).toContain(`the stored master key was sealed by another KMS key, ${sim.keyArn(KEY_B)}`);
      expect(local.message).toContain('npm run rotate-master-key -- --to kms');
    }
    expect(sim.stats().totals.calls).toBe(1);
    const remote = await sealError(unsealMasterKey(cfg({ keyId: 'alias/dashboard' }), sealed));
    expect(remote.reason).toBe('key-mismatch');
    expect(remote.awsError).toBe('IncorrectKeyException');
    expect(remote.message).toContain(`sealed by another KMS key (${sim.keyArn(KEY_B)})`);
    // The right key opens it.
    await expect(unsealMasterKey(cfg({ keyId: KEY_B }), sealed)).resolves.toHaveLength(32);
  });

  it('a sealed key from another region is refused before calling KMS', async () => {
    const { sealed } = await generateSealedMasterKey(cfg());
    const moved: SealedMasterKey = { ...sealed, region: 'eu-west-1', kmsKeyId: sealed.kmsKeyId.replace('us-east-1', 'eu-west-1') };
    const error = await sealError(unsealMasterKey(cfg({ keyId: KEY_A }), moved));
    expect(error.reason).toBe('key-mismatch');
    expect(error.message).toContain('arn:aws:kms:eu-west-1:');
  });

  it('a denied permission names the IAM action to allow', async () => {
    const { sealed } = await generateSealedMasterKey(cfg());
    sim.control({ deny: [{ key: KEY_A, operations: ['Decrypt', 'GenerateDataKey'] }] });
    const decrypt = await sealError(unsealMasterKey(cfg(), sealed));
    expect(decrypt.reason).toBe('access-denied');
    expect(decrypt.message).toMatch(/access denied for kms:Decrypt \(AccessDeniedException\)\. Allow kms:Decrypt on this key/);
    expect(decrypt.message).not.toContain('assumed-role'); // AWS's own message is not copied
    const generate = await sealError(generateSealedMasterKey(cfg()));
    expect(generate.message).toMatch(/access denied for kms:GenerateDataKey/);
    // Encrypt was not denied.
    await expect(sealMasterKey(cfg(), Buffer.alloc(32, 1))).resolves.toMatchObject({ kmsKeyId: sim.keyArn(KEY_A) });
  });

  it('throttling is retried by the SDK; when it does not end, the error says so with the attempts made', async () => {
    sim.control({ cryptoQuotaPerSecond: 4 });
    const keys = await Promise.all(Array.from({ length: 7 }, () => generateSealedMasterKey(cfg())));
    expect(keys).toHaveLength(7);
    expect(sim.stats().operations.GenerateDataKey).toMatchObject({ ok: 7 });
    expect(sim.stats().totals.throttled).toBeGreaterThan(0);

    sim.control({ cryptoQuotaPerSecond: 0, resetStats: true });
    const error = await sealError(generateSealedMasterKey(cfg(), { maxAttempts: 2 }));
    expect(error.reason).toBe('throttled');
    expect(error.message).toMatch(/KMS kept throttling kms:GenerateDataKey after 2 attempts \(ThrottlingException\)/);
    expect(sim.stats().totals.throttled).toBe(2);
  });

  it('missing AWS credentials are named as such, not as a KMS refusal', async () => {
    const saved = { ...process.env };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    delete process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
    delete process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
    delete process.env.AWS_WEB_IDENTITY_TOKEN_FILE;
    try {
      const error = await sealError(generateSealedMasterKey(cfg(), quick));
      expect(error.reason).toBe('credentials');
      expect(error.message).toMatch(/no valid AWS credentials for KMS \(CredentialsProviderError\)\. Give the server credentials/);
      expect(sim.stats().totals.calls).toBe(0);
    } finally {
      for (const k of ['AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED']) if (saved[k] === undefined) delete process.env[k];
      Object.assign(process.env, saved);
    }
    // With credentials back, the same call works.
    await expect(generateSealedMasterKey(cfg())).resolves.toMatchObject({ sealed: { kmsKeyId: sim.keyArn(KEY_A) } });
  });

  it('an endpoint that does not answer is reported as unreachable, naming the endpoint', async () => {
    const closed = await startSimulatedKms();
    const url = closed.url;
    await closed.close();
    const error = await sealError(generateSealedMasterKey(cfg({ endpoint: url }), quick));
    expect(error.reason).toBe('unreachable');
    expect(error.message).toContain(`(endpoint ${url}): cannot reach KMS (ECONNREFUSED)`);
  });

  it('a KMS internal failure and a malformed stored key are reported without a stack', async () => {
    const { sealed } = await generateSealedMasterKey(cfg());
    sim.control({ failAll: 'KMSInternalException' });
    const internal = await sealError(unsealMasterKey(cfg(), sealed, quick));
    expect(internal.reason).toBe('kms-failure');
    expect(internal.message).toMatch(/could not use the key right now \(KMSInternalException\)\. Retry/);
    expect(internal.message).not.toMatch(/\n\s+at /);
    sim.control({ failAll: null, resetStats: true });
    const malformed = await sealError(unsealMasterKey(cfg(), { ...sealed, ciphertextBlob: '%%%%%%%%' }));
    expect(malformed.reason).toBe('invalid-input');
    expect(malformed.message).toMatch(/the stored sealed master key is malformed \(ciphertextBlob: ciphertextBlob must be base64\)/);
    expect(sim.stats().totals.calls).toBe(0);
  });
});
