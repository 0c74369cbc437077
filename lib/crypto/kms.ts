import 'server-only';
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { z } from 'zod';
import type { AppEnv } from '@/lib/config/env';
import { AWS_CONNECTION_TIMEOUT_MS, AWS_REQUEST_TIMEOUT_MS, type AwsCallLimits } from '@/lib/stores/aws-clients';
import { awsErrorName } from '@/lib/stores/aws-errors';

// The master key sealed by AWS KMS, as Vault's awskms seal does it: the 32-byte master key is only
// ever stored as a KMS ciphertext (GenerateDataKey or Encrypt) bound to an encryption context that
// names the deployment, and is decrypted once at start. KMS errors become a KmsSealError that names
// the key as configured, the region and the cause in words plus what to do; AWS's own messages are
// never copied (they can echo request input) and no key bytes ever appear in one.

export const MASTER_KEY_BYTES = 32;
export const SEALED_MASTER_KEY_FORMAT = 'secrets-dashboard/kms-sealed-master-key' as const;
/** Start-up waits through a few throttled answers rather than failing at once. */
export const KMS_MAX_ATTEMPTS = 5;

export interface KmsSealConfig {
  /** As configured: key id, key ARN, alias/name or alias ARN. */
  keyId: string;
  region: string;
  endpoint?: string;
  /** DEPLOYMENT_NAME: goes into the encryption context. */
  deployment: string;
}

export interface SealedMasterKey {
  format: typeof SEALED_MASTER_KEY_FORMAT;
  version: 1;
  /** The key ARN KMS answered with (not the alias that may have been configured). */
  kmsKeyId: string;
  region: string;
  encryptionContext: Record<string, string>;
  /** base64 */
  ciphertextBlob: string;
  /** ISO 8601 */
  sealedAt: string;
}

const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):alias\/.+$/;

export const sealedMasterKeySchema: z.ZodType<SealedMasterKey> = z
  .object({
    format: z.literal(SEALED_MASTER_KEY_FORMAT),
    version: z.literal(1),
    kmsKeyId: z.string().regex(KEY_ARN, { message: 'kmsKeyId must be a KMS key ARN' }),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'region must be an AWS region' }),
    encryptionContext: z.record(z.string().min(1).max(256), z.string().max(1024)),
    ciphertextBlob: z
      .string()
      .min(4, { message: 'ciphertextBlob is too short to be a KMS ciphertext' })
      .max(8192, { message: 'ciphertextBlob is too long to be a KMS ciphertext' })
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, { message: 'ciphertextBlob must be base64' }),
    sealedAt: z.iso.datetime({ offset: true }),
  })
  .strict();

export type KmsSealFailure =
  | 'wrong-key'
  | 'key-mismatch'
  | 'disabled'
  | 'context-mismatch'
  | 'access-denied'
  | 'throttled'
  | 'unreachable'
  | 'credentials'
  | 'invalid-response'
  | 'invalid-input'
  | 'kms-failure';

export class KmsSealError extends Error {
  /** What went wrong, for callers that react to it (never shown instead of the message). */
  readonly reason: KmsSealFailure;
  /** The AWS error type (e.g. "DisabledException"), when KMS answered with one. */
  readonly awsError?: string;

  constructor(message: string, reason: KmsSealFailure, awsError?: string) {
    super(message);
    this.name = 'KmsSealError';
    this.reason = reason;
    if (awsError) this.awsError = awsError;
  }
}

/** The KMS seal settings, or null when MASTER_KEY_KMS_KEY_ID is unset (the master key is then MASTER_KEY or the key file). */
export function kmsSealConfigFromEnv(env: AppEnv): KmsSealConfig | null {
  const keyId = env.MASTER_KEY_KMS_KEY_ID;
  if (!keyId) return null;
  const arnRegion = (KEY_ARN.exec(keyId) ?? ALIAS_ARN.exec(keyId))?.[1];
  // A key ARN names its region; otherwise the SDK's usual AWS_REGION.
  const region = env.MASTER_KEY_KMS_REGION ?? arnRegion ?? (process.env.AWS_REGION || undefined) ?? 'us-east-1';
  if (arnRegion && region !== arnRegion)
    throw new KmsSealError(
      `MASTER_KEY_KMS_KEY_ID is a key in ${arnRegion} but the KMS region is ${region}: set MASTER_KEY_KMS_REGION=${arnRegion} (or use the key's ARN in ${region}).`,
      'invalid-input',
    );
  return { keyId, region, deployment: env.DEPLOYMENT_NAME, ...(env.MASTER_KEY_KMS_ENDPOINT ? { endpoint: env.MASTER_KEY_KMS_ENDPOINT } : {}) };
}

/** The encryption context every seal and unseal uses: a ciphertext of another deployment does not open here. */
export function masterKeyEncryptionContext(deployment: string): Record<string, string> {
  return { application: 'secrets-dashboard', deployment, purpose: 'master-key' };
}

function kmsClient(cfg: KmsSealConfig, limits: AwsCallLimits = {}): KMSClient {
  // Credentials come from the default provider chain (environment, profile, web identity, instance role).
  return new KMSClient({
    region: cfg.region,
    retryMode: 'standard',
    maxAttempts: limits.maxAttempts ?? KMS_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: limits.connectionTimeoutMs ?? AWS_CONNECTION_TIMEOUT_MS,
      requestTimeout: limits.requestTimeoutMs ?? AWS_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
    ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
  });
}

/** Runs one KMS call on a client of its own, closed afterwards so a CLI exits without lingering sockets. */
async function withKms<T>(cfg: KmsSealConfig, limits: AwsCallLimits | undefined, call: (client: KMSClient) => Promise<T>): Promise<T> {
  const client = kmsClient(cfg, limits);
  try {
    return await call(client);
  } finally {
    client.destroy();
  }
}

function where(cfg: KmsSealConfig): string {
  return `KMS key "${cfg.keyId}" in ${cfg.region}${cfg.endpoint ? ` (endpoint ${cfg.endpoint})` : ''}`;
}

const THROTTLED = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'LimitExceededException', 'RequestLimitExceeded']);
const CREDENTIALS = new Set([
  'CredentialsProviderError',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationTokenException',
  'MissingAuthenticationToken',
  'InvalidClientTokenId',
]);
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'TimeoutError',
  'RequestTimeout',
]);

type Operation = 'Decrypt' | 'Encrypt' | 'GenerateDataKey' | 'DescribeKey';

/** Turns what the SDK threw into a KmsSealError; `sealed` is the stored key when unsealing. */
function toSealError(cfg: KmsSealConfig, op: Operation, error: unknown, sealed?: SealedMasterKey): KmsSealError {
  if (error instanceof KmsSealError) return error;
  const name = awsErrorName(error);
  const at = where(cfg);
  const permission = `kms:${op}`;
  switch (name) {
    case 'NotFoundException':
    case 'InvalidArnException':
      return new KmsSealError(
        `${at}: KMS has no such key (${name}). Check MASTER_KEY_KMS_KEY_ID and MASTER_KEY_KMS_REGION (the key and the alias must exist in that account and region).`,
        'wrong-key',
        name,
      );
    case 'IncorrectKeyException':
      return new KmsSealError(
        `${at}: the sealed master key was sealed by another KMS key${sealed ? ` (${sealed.kmsKeyId})` : ''} (IncorrectKeyException). Set MASTER_KEY_KMS_KEY_ID to the key that sealed it, or move to this key with npm run rotate-master-key.`,
        'key-mismatch',
        name,
      );
    case 'DisabledException':
      return new KmsSealError(
        `${at}: the key is disabled (DisabledException). Enable it in KMS (aws kms enable-key), then start again.`,
        'disabled',
        name,
      );
    case 'KMSInvalidStateException':
      return new KmsSealError(
        `${at}: the key cannot be used in its current state, e.g. pending deletion or pending import (KMSInvalidStateException). Cancel the deletion (aws kms cancel-key-deletion) and enable the key, then start again.`,
        'disabled',
        name,
      );
    case 'InvalidCiphertextException': {
      const expected = masterKeyEncryptionContext(cfg.deployment);
      const storedDeployment = sealed?.encryptionContext.deployment;
      const otherDeployment = storedDeployment !== undefined && storedDeployment !== expected.deployment;
      return new KmsSealError(
        otherDeployment
          ? `${at}: KMS refused to decrypt the sealed master key (InvalidCiphertextException): it was sealed for deployment "${storedDeployment}" but DEPLOYMENT_NAME is "${cfg.deployment}". Set DEPLOYMENT_NAME=${storedDeployment} for this data.`
          : `${at}: KMS refused to decrypt the sealed master key (InvalidCiphertextException): its encryption context (deployment "${cfg.deployment}") does not match or the ciphertext was altered. Check DEPLOYMENT_NAME, or restore the sealed key from a backup.`,
        'context-mismatch',
        name,
      );
    }
    case 'AccessDeniedException':
    case 'KMSAccessDeniedException':
      return new KmsSealError(
        `${at}: access denied for ${permission} (${name}). Allow ${permission} on this key for the server's identity, in the key policy or an IAM policy${op === 'DescribeKey' ? '' : ` (with the encryption context condition kms:EncryptionContext:deployment = "${cfg.deployment}" if you use one)`}.`,
        'access-denied',
        name,
      );
    case 'InvalidKeyUsageException':
      return new KmsSealError(
        `${at}: the key cannot encrypt and decrypt (InvalidKeyUsageException). Use a symmetric KMS key with key usage ENCRYPT_DECRYPT.`,
        'wrong-key',
        name,
      );
    case 'KeyUnavailableException':
    case 'DependencyTimeoutException':
    case 'KMSInternalException':
      return new KmsSealError(`${at}: KMS could not use the key right now (${name}). Retry in a moment.`, 'kms-failure', name);
  }
  if (THROTTLED.has(name)) {
    const attempts = (error as { $metadata?: { attempts?: unknown } } | null)?.$metadata?.attempts;
    return new KmsSealError(
      `${at}: KMS kept throttling ${permission}${typeof attempts === 'number' ? ` after ${attempts} attempts` : ''} (${name}). Wait a moment and start again, or raise the account's KMS request quota.`,
      'throttled',
      name,
    );
  }
  if (CREDENTIALS.has(name))
    return new KmsSealError(
      `${at}: no valid AWS credentials for KMS (${name}). Give the server credentials (environment, profile, or an instance/task role) allowed ${permission} on this key.`,
      'credentials',
      name,
    );
  if (UNREACHABLE.has(name))
    return new KmsSealError(
      `${at}: cannot reach KMS (${name}). Check the network path to the KMS endpoint${cfg.endpoint ? ' and MASTER_KEY_KMS_ENDPOINT' : ' and MASTER_KEY_KMS_REGION'}.`,
      'unreachable',
      name,
    );
  return new KmsSealError(`${at}: ${permission} failed (${name}). Check the key, the region and the network, then retry.`, 'kms-failure', name);
}

function requireMasterKeySize(cfg: KmsSealConfig, plaintext: Uint8Array | undefined, what: string): Buffer {
  if (!plaintext || plaintext.length !== MASTER_KEY_BYTES)
    throw new KmsSealError(
      `${where(cfg)}: ${what} is ${plaintext?.length ?? 0} bytes, not the ${MASTER_KEY_BYTES} bytes of a master key. Check that the sealed key belongs to this dashboard.`,
      'invalid-response',
    );
  return Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.length);
}

function toSealed(cfg: KmsSealConfig, op: Operation, keyArn: string | undefined, blob: Uint8Array | undefined, context: Record<string, string>): SealedMasterKey {
  if (!keyArn || !KEY_ARN.test(keyArn) || !blob || blob.length === 0)
    throw new KmsSealError(`${where(cfg)}: KMS answered ${op} without a key ARN or ciphertext. Check MASTER_KEY_KMS_ENDPOINT points at KMS.`, 'invalid-response');
  return {
    format: SEALED_MASTER_KEY_FORMAT,
    version: 1,
    kmsKeyId: keyArn,
    region: cfg.region,
    encryptionContext: context,
    ciphertextBlob: Buffer.from(blob).toString('base64'),
    sealedAt: new Date().toISOString(),
  };
}

/** A fresh master key from KMS (GenerateDataKey, AES_256): the plaintext to use now, the sealed form to store. */
export async function generateSealedMasterKey(cfg: KmsSealConfig, limits?: AwsCallLimits): Promise<{ plaintext: Buffer; sealed: SealedMasterKey }> {
  const context = masterKeyEncryptionContext(cfg.deployment);
  try {
    const out = await withKms(cfg, limits, (kms) => kms.send(new GenerateDataKeyCommand({ KeyId: cfg.keyId, KeySpec: 'AES_256', EncryptionContext: context })));
    const plaintext = requireMasterKeySize(cfg, out.Plaintext, 'the data key KMS generated');
    return { plaintext, sealed: toSealed(cfg, 'GenerateDataKey', out.KeyId, out.CiphertextBlob, context) };
  } catch (error) {
    throw toSealError(cfg, 'GenerateDataKey', error);
  }
}

/** Seals an existing master key (Encrypt): switching a key file or MASTER_KEY over to KMS. */
export async function sealMasterKey(cfg: KmsSealConfig, plaintext: Buffer, limits?: AwsCallLimits): Promise<SealedMasterKey> {
  requireMasterKeySize(cfg, plaintext, 'the master key to seal');
  const context = masterKeyEncryptionContext(cfg.deployment);
  try {
    const out = await withKms(cfg, limits, (kms) => kms.send(new EncryptCommand({ KeyId: cfg.keyId, Plaintext: plaintext, EncryptionContext: context })));
    return toSealed(cfg, 'Encrypt', out.KeyId, out.CiphertextBlob, context);
  } catch (error) {
    throw toSealError(cfg, 'Encrypt', error);
  }
}

/** The key id part of a key ARN, or the id itself. */
function bareKeyId(keyIdOrArn: string): string {
  return KEY_ARN.exec(keyIdOrArn)?.[3] ?? keyIdOrArn;
}

/**
 * Refuses, without calling KMS, a sealed key that plainly belongs to another key than the configured
 * one (configured as a key id or key ARN). An alias can only be resolved by KMS: Decrypt with the
 * alias as KeyId answers IncorrectKeyException when it points elsewhere.
 */
function checkSealedKeyMatches(cfg: KmsSealConfig, sealed: SealedMasterKey): void {
  const configured = cfg.keyId;
  if (configured.startsWith('alias/') || ALIAS_ARN.test(configured)) return;
  const sameKey = bareKeyId(configured) === bareKeyId(sealed.kmsKeyId);
  const multiRegion = bareKeyId(configured).startsWith('mrk-');
  const arnRegion = KEY_ARN.exec(configured)?.[1];
  const sameRegion = multiRegion || (arnRegion ?? cfg.region) === (KEY_ARN.exec(sealed.kmsKeyId)?.[1] ?? sealed.region);
  if (!sameKey || !sameRegion)
    throw new KmsSealError(
      `${where(cfg)}: the stored master key was sealed by another KMS key, ${sealed.kmsKeyId}. Set MASTER_KEY_KMS_KEY_ID (and MASTER_KEY_KMS_REGION) to that key, or move to the configured key with npm run rotate-master-key -- --to kms.`,
      'key-mismatch',
    );
}

/** Decrypts the sealed master key with the configured key and this deployment's context; checks it is 32 bytes. */
export async function unsealMasterKey(cfg: KmsSealConfig, sealed: SealedMasterKey, limits?: AwsCallLimits): Promise<Buffer> {
  const parsed = sealedMasterKeySchema.safeParse(sealed);
  if (!parsed.success)
    throw new KmsSealError(
      `${where(cfg)}: the stored sealed master key is malformed (${parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}). Restore it from a backup.`,
      'invalid-input',
    );
  checkSealedKeyMatches(cfg, sealed);
  try {
    const out = await withKms(cfg, limits, (kms) =>
      kms.send(
        new DecryptCommand({
          KeyId: cfg.keyId,
          CiphertextBlob: Buffer.from(sealed.ciphertextBlob, 'base64'),
          EncryptionContext: masterKeyEncryptionContext(cfg.deployment),
        }),
      ),
    );
    return requireMasterKeySize(cfg, out.Plaintext, 'the key KMS decrypted');
  } catch (error) {
    throw toSealError(cfg, 'Decrypt', error, sealed);
  }
}

export interface SealKeyDescription {
  /** The key ARN an id or alias resolves to (what SealedMasterKey.kmsKeyId holds). */
  keyArn: string;
  /** Enabled, Disabled, PendingDeletion, … */
  keyState: string;
  /** A symmetric ENCRYPT_DECRYPT key: one that can seal a master key. */
  canSeal: boolean;
}

/**
 * DescribeKey: which key the configured id or alias is, and whether it can seal a master key now.
 * Lets a caller check a target key before it changes anything (e.g. before a rotation) and tell
 * whether a sealed key belongs to an alias without a Decrypt.
 */
export async function describeSealKey(cfg: KmsSealConfig, limits?: AwsCallLimits): Promise<SealKeyDescription> {
  try {
    const out = await withKms(cfg, limits, (kms) => kms.send(new DescribeKeyCommand({ KeyId: cfg.keyId })));
    const meta = out.KeyMetadata;
    if (!meta?.Arn || !KEY_ARN.test(meta.Arn))
      throw new KmsSealError(`${where(cfg)}: KMS answered DescribeKey without a key ARN. Check MASTER_KEY_KMS_ENDPOINT points at KMS.`, 'invalid-response');
    const keyState = meta.KeyState ?? (meta.Enabled ? 'Enabled' : 'Disabled');
    const symmetric = (meta.KeySpec ?? meta.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT') === 'SYMMETRIC_DEFAULT';
    return { keyArn: meta.Arn, keyState, canSeal: keyState === 'Enabled' && meta.KeyUsage === 'ENCRYPT_DECRYPT' && symmetric };
  } catch (error) {
    throw toSealError(cfg, 'DescribeKey', error);
  }
}
