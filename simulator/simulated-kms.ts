import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { AwsFault } from './aws-fault';
import { answerControl, answerJsonAfter, CallCounters, cancelAll, parseJsonObject, serveAlone, TokenBucket, type Controllable, type JsonAnswer, type Standalone } from './sim-http';

// A simulated AWS KMS for tests: Encrypt, Decrypt, GenerateDataKey and DescribeKey over AWS JSON 1.1
// (X-Amz-Target TrentService.<Op>) on 127.0.0.1, so the real @aws-sdk/client-kms works against it
// (`endpoint: url`, any credentials, region us-east-1 or options.region). createSimulatedKms is the
// service without a server, for the organisation's gateway. Like KMS it holds symmetric keys addressed by
// id, key ARN, alias name or alias ARN; a CiphertextBlob is real AES-256-GCM under the key's secret
// with the canonical encryption context as additional authenticated data and the key id embedded,
// so Decrypt needs no KeyId and a changed context or byte fails with InvalidCiphertextException.
// Answers are held back for a latency, and the shared quota for cryptographic operations (5,500/s)
// and DescribeKey's (2,000/s) are token buckets answering ThrottlingException as KMS does.
//
// Each key's secret is derived from the key id and `seed`, so a simulator restarted with the same
// keys opens ciphertexts of an earlier one (tests that restart it, or run it as a process).
//
// Control endpoints (plain JSON, not the AWS protocol): GET /__health, GET /__stats,
// POST /__stats/reset, POST /__control (a KmsControlCommand).

export const KMS_SIM_ACCOUNT = '123456789012';
export const KMS_SIM_REGION = 'us-east-1';
export const KMS_DEFAULT_LATENCY_MS = 15;
/** AWS's default quota for symmetric cryptographic operations, shared by Encrypt, Decrypt, GenerateDataKey (per account and region). */
export const KMS_CRYPTO_QUOTA_PER_SECOND = 5_500;
export const KMS_DESCRIBE_KEY_QUOTA_PER_SECOND = 2_000;
export const KMS_OPERATIONS = ['Encrypt', 'Decrypt', 'GenerateDataKey', 'DescribeKey'] as const;
export type KmsOperation = (typeof KMS_OPERATIONS)[number];
const CRYPTO_OPERATIONS: ReadonlySet<string> = new Set(['Encrypt', 'Decrypt', 'GenerateDataKey']);

export interface SimKmsKey {
  /** A uuid, as KMS key ids are. */
  keyId: string;
  /** "alias/name" or "name". */
  aliases?: string[];
  /** Default true. */
  enabled?: boolean;
  /** Scheduled for deletion: every use answers KMSInvalidStateException. */
  pendingDeletion?: boolean;
  description?: string;
}

export interface SimulatedKmsOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  keys?: SimKmsKey[];
  /** Default 15 ms. */
  latencyMs?: number;
  /** Requests per second shared by Encrypt/Decrypt/GenerateDataKey (default 5,500); null = unlimited. */
  cryptoQuotaPerSecond?: number | null;
  /** DescribeKey requests per second (default 2,000); null = unlimited. */
  describeKeyQuotaPerSecond?: number | null;
  /** Mixed into every key's secret (default ''): simulators with different seeds cannot open each other's ciphertexts. */
  seed?: string;
  /** The account and region in every ARN, and the only region a request may be scoped to (default 123456789012, us-east-1). */
  account?: string;
  region?: string;
}

export interface KmsControlCommand {
  addKeys?: SimKmsKey[];
  /** Key ids, ARNs or aliases to disable / enable. */
  disable?: string[];
  enable?: string[];
  /** Mark as pending deletion (true) or cancel it (false). */
  pendingDeletion?: { key: string; pending: boolean }[];
  /** The caller is not allowed these operations on these keys (AccessDeniedException); operations default to all. */
  deny?: { key: string; operations?: KmsOperation[] }[];
  /** Lift every denial of these keys. */
  allow?: string[];
  /** Every AWS call fails with this error type (e.g. KMSInternalException, AccessDeniedException); null = healthy. */
  failAll?: string | null;
  latencyMs?: number;
  cryptoQuotaPerSecond?: number | null;
  describeKeyQuotaPerSecond?: number | null;
  resetStats?: boolean;
}

/** The calls by operation ("unknown" for calls that named none the simulator knows), and the settings. */
export interface KmsSimStats extends ReturnType<CallCounters['stats']> {
  latencyMs: number;
  cryptoQuotaPerSecond: number | null;
  describeKeyQuotaPerSecond: number | null;
}

/** The simulated KMS without a server of its own (a gateway routes requests to it). */
export interface SimulatedKmsHandler {
  /** Answers one AWS JSON 1.1 request whose body was already read (latency applied inside). */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void;
  /** Answers a control request (GET /__health, GET /__stats, POST /__stats/reset, POST /__control); false for another path. */
  handleControl(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): boolean;
  /** The key ARN of a key id. */
  keyArn(keyId: string): string;
  control(cmd: KmsControlCommand): { keys: number };
  stats(): KmsSimStats;
  /** Cancels answers still held back for latency. */
  close(): void;
}

export type SimulatedKms = Standalone<SimulatedKmsHandler>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BLOB_MAGIC = Buffer.from([0x01, 0x02, 0x02, 0x00]);
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 16;
const BLOB_HEADER = BLOB_MAGIC.length + KEY_ID_BYTES + IV_BYTES + TAG_BYTES;


interface KeyState {
  keyId: string;
  secret: Buffer;
  enabled: boolean;
  pendingDeletion: boolean;
  description: string;
  created: number;
  denied: Set<string>;
}

/** The encryption context as AAD: sorted pairs, so the order the caller wrote them in does not matter (as in KMS). */
function canonicalContext(context: Record<string, string>): Buffer {
  const pairs = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]!]);
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

function uuidBytes(keyId: string): Buffer {
  return Buffer.from(keyId.replace(/-/g, ''), 'hex');
}

function uuidFromBytes(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function normaliseAlias(alias: string): string {
  const name = alias.startsWith('alias/') ? alias : `alias/${alias}`;
  if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(name) || name.startsWith('alias/aws/'))
    throw new Error(`"${alias}" is not an alias name a customer can create (alias/ then letters, digits, / _ -; not alias/aws/)`);
  return name;
}

// ---------------------------------------------------------------------------------------------
// Request validation, as KMS's ValidationException / SerializationException answer it.

type Body = Record<string, unknown>;

function optionalString(body: Body, field: string, min: number, max: number): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AwsFault('SerializationException', `${field}: expected a string`);
  if (v.length < min || v.length > max)
    throw new AwsFault('ValidationException', `1 validation error detected: Value at '${lowerFirst(field)}' failed to satisfy constraint: Member must have length between ${min} and ${max}`);
  return v;
}

function requiredString(body: Body, field: string, min: number, max: number): string {
  const v = optionalString(body, field, min, max);
  if (v === undefined)
    throw new AwsFault('ValidationException', `1 validation error detected: Value null at '${lowerFirst(field)}' failed to satisfy constraint: Member must not be null`);
  return v;
}

function blob(body: Body, field: string, min: number, max: number): Buffer {
  const v = body[field];
  if (v === undefined || v === null)
    throw new AwsFault('ValidationException', `1 validation error detected: Value null at '${lowerFirst(field)}' failed to satisfy constraint: Member must not be null`);
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new AwsFault('SerializationException', `${field}: expected a base64 blob`);
  const bytes = Buffer.from(v, 'base64');
  if (bytes.length < min || bytes.length > max)
    throw new AwsFault('ValidationException', `1 validation error detected: Value at '${lowerFirst(field)}' failed to satisfy constraint: Member must have length between ${min} and ${max}`);
  return bytes;
}

function encryptionContext(body: Body): Record<string, string> {
  const v = body.EncryptionContext;
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new AwsFault('SerializationException', 'EncryptionContext: expected a map of strings');
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    if (typeof value !== 'string') throw new AwsFault('SerializationException', 'EncryptionContext: expected a map of strings');
    out[k] = value;
  }
  return out;
}

function checkAlgorithm(body: Body): void {
  const algorithm = body.EncryptionAlgorithm;
  if (algorithm !== undefined && algorithm !== null && algorithm !== 'SYMMETRIC_DEFAULT')
    throw new AwsFault('InvalidKeyUsageException', `The encryption algorithm ${String(algorithm)} is not compatible with the type of the specified KMS key.`);
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

// ---------------------------------------------------------------------------------------------

function checkRate(value: unknown, what: string): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) throw new Error(`${what} must be a number >= 0 or null`);
  return value;
}

export function createSimulatedKms(options: SimulatedKmsOptions = {}): SimulatedKmsHandler {
  const seed = options.seed ?? '';
  const account = options.account ?? KMS_SIM_ACCOUNT;
  const region = options.region ?? KMS_SIM_REGION;
  if (!/^\d{12}$/.test(account)) throw new Error(`account must be 12 digits, not ${JSON.stringify(account)}`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new Error(`region must look like us-east-1, not ${JSON.stringify(region)}`);
  const keys = new Map<string, KeyState>();
  const aliases = new Map<string, string>();
  const arnPrefix = `arn:aws:kms:${region}:${account}:`;
  const keyArn = (keyId: string) => `${arnPrefix}key/${keyId}`;

  const addKey = (input: SimKmsKey) => {
    if (!UUID.test(input.keyId)) throw new Error(`key id "${input.keyId}" must be a lowercase uuid`);
    const names = (input.aliases ?? []).map(normaliseAlias);
    for (const name of names) {
      const owner = aliases.get(name);
      if (owner && owner !== input.keyId) throw new Error(`alias ${name} already points at key ${owner}`);
    }
    const existing = keys.get(input.keyId);
    keys.set(input.keyId, {
      keyId: input.keyId,
      // A fixed secret per (seed, key id): restarts keep opening earlier ciphertexts.
      secret: createHmac('sha256', `simulated-kms/v1/${seed}`).update(input.keyId).digest(),
      enabled: input.enabled ?? true,
      pendingDeletion: input.pendingDeletion ?? false,
      description: input.description ?? existing?.description ?? '',
      created: existing?.created ?? Math.floor(Date.now() / 1000),
      denied: existing?.denied ?? new Set(),
    });
    for (const name of names) aliases.set(name, input.keyId);
  };
  for (const k of options.keys ?? []) addKey(k);

  const settings = {
    latencyMs: options.latencyMs ?? KMS_DEFAULT_LATENCY_MS,
    failAll: null as string | null,
    cryptoRate: options.cryptoQuotaPerSecond === undefined ? KMS_CRYPTO_QUOTA_PER_SECOND : checkRate(options.cryptoQuotaPerSecond, 'cryptoQuotaPerSecond'),
    describeRate:
      options.describeKeyQuotaPerSecond === undefined ? KMS_DESCRIBE_KEY_QUOTA_PER_SECOND : checkRate(options.describeKeyQuotaPerSecond, 'describeKeyQuotaPerSecond'),
  };
  let cryptoBucket = settings.cryptoRate === null ? null : new TokenBucket(settings.cryptoRate);
  let describeBucket = settings.describeRate === null ? null : new TokenBucket(settings.describeRate);
  const counters = new CallCounters();

  /** The key a KeyId names (id, key ARN, alias name, alias ARN), or NotFoundException as KMS words it. */
  const resolve = (keyIdInput: string): KeyState => {
    let id: string | undefined;
    if (keyIdInput.startsWith('arn:')) {
      const m = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/.exec(keyIdInput);
      if (!m) throw new AwsFault('NotFoundException', `Invalid keyId ${keyIdInput}`);
      if (m[1] === region && m[2] === account) id = m[3] === 'key' ? m[4] : aliases.get(`alias/${m[4]}`);
    } else if (keyIdInput.startsWith('alias/')) {
      id = aliases.get(keyIdInput);
    } else {
      id = keyIdInput;
    }
    const key = id === undefined ? undefined : keys.get(id);
    if (!key) {
      const shown = keyIdInput.startsWith('arn:') ? keyIdInput : keyIdInput.startsWith('alias/') ? `${arnPrefix}${keyIdInput}` : keyArn(keyIdInput);
      throw new AwsFault('NotFoundException', keyIdInput.includes('alias/') ? `Alias ${shown} is not found.` : `Key '${shown}' does not exist`);
    }
    return key;
  };

  /** What KMS checks before it uses a key: the caller's permission, then the key's state. */
  const usable = (key: KeyState, op: KmsOperation): KeyState => {
    if (key.denied.has(op))
      throw new AwsFault(
        'AccessDeniedException',
        `User: arn:aws:sts::${account}:assumed-role/secrets-dashboard/server is not authorized to perform: kms:${op} on resource: ${keyArn(key.keyId)} because no identity-based policy allows the kms:${op} action`,
      );
    if (key.pendingDeletion) throw new AwsFault('KMSInvalidStateException', `${keyArn(key.keyId)} is pending deletion.`);
    if (!key.enabled) throw new AwsFault('DisabledException', `${keyArn(key.keyId)} is disabled.`);
    return key;
  };

  const seal = (key: KeyState, plaintext: Buffer, context: Record<string, string>): Buffer => {
    const iv = randomBytes(IV_BYTES);
    const idBytes = uuidBytes(key.keyId);
    const cipher = createCipheriv('aes-256-gcm', key.secret, iv);
    // The key id is authenticated too, so a blob whose embedded id was swapped fails.
    cipher.setAAD(Buffer.concat([idBytes, canonicalContext(context)]));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([BLOB_MAGIC, idBytes, iv, cipher.getAuthTag(), body]);
  };

  const api: Record<KmsOperation, (body: Body) => Body> = {
    Encrypt: (body) => {
      const key = usable(resolve(requiredString(body, 'KeyId', 1, 2048)), 'Encrypt');
      const plaintext = blob(body, 'Plaintext', 1, 4096);
      checkAlgorithm(body);
      const ciphertext = seal(key, plaintext, encryptionContext(body));
      return { CiphertextBlob: ciphertext.toString('base64'), KeyId: keyArn(key.keyId), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    },
    GenerateDataKey: (body) => {
      const key = usable(resolve(requiredString(body, 'KeyId', 1, 2048)), 'GenerateDataKey');
      const spec = body.KeySpec;
      const count = body.NumberOfBytes;
      if (spec !== undefined && spec !== null && count !== undefined && count !== null)
        throw new AwsFault('ValidationException', 'Please specify either number of bytes or key spec.');
      let bytes: number;
      if (spec === 'AES_256') bytes = 32;
      else if (spec === 'AES_128') bytes = 16;
      else if (spec !== undefined && spec !== null)
        throw new AwsFault('ValidationException', `1 validation error detected: Value '${String(spec)}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]`);
      else if (typeof count === 'number' && Number.isInteger(count) && count >= 1 && count <= 1024) bytes = count;
      else if (count !== undefined && count !== null)
        throw new AwsFault('ValidationException', `1 validation error detected: Value '${String(count)}' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024`);
      else throw new AwsFault('ValidationException', 'Please specify either number of bytes or key spec.');
      const plaintext = randomBytes(bytes);
      const ciphertext = seal(key, plaintext, encryptionContext(body));
      return { CiphertextBlob: ciphertext.toString('base64'), Plaintext: plaintext.toString('base64'), KeyId: keyArn(key.keyId) };
    },
    Decrypt: (body) => {
      const ciphertext = blob(body, 'CiphertextBlob', 1, 6144);
      const requested = optionalString(body, 'KeyId', 1, 2048);
      checkAlgorithm(body);
      const context = encryptionContext(body);
      const named = requested === undefined ? undefined : resolve(requested);
      if (ciphertext.length < BLOB_HEADER || !ciphertext.subarray(0, BLOB_MAGIC.length).equals(BLOB_MAGIC))
        throw new AwsFault('InvalidCiphertextException', '');
      const blobKeyId = uuidFromBytes(ciphertext.subarray(BLOB_MAGIC.length, BLOB_MAGIC.length + KEY_ID_BYTES));
      if (named && named.keyId !== blobKeyId)
        throw new AwsFault('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
      const key = keys.get(blobKeyId);
      if (!key) throw new AwsFault('InvalidCiphertextException', '');
      usable(key, 'Decrypt');
      const at = BLOB_MAGIC.length + KEY_ID_BYTES;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key.secret, ciphertext.subarray(at, at + IV_BYTES));
        decipher.setAAD(Buffer.concat([uuidBytes(key.keyId), canonicalContext(context)]));
        decipher.setAuthTag(ciphertext.subarray(at + IV_BYTES, BLOB_HEADER));
        const plaintext = Buffer.concat([decipher.update(ciphertext.subarray(BLOB_HEADER)), decipher.final()]);
        return { Plaintext: plaintext.toString('base64'), KeyId: keyArn(key.keyId), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      } catch {
        // A changed encryption context and an altered blob look the same, as in KMS.
        throw new AwsFault('InvalidCiphertextException', '');
      }
    },
    DescribeKey: (body) => {
      const key = resolve(requiredString(body, 'KeyId', 1, 2048));
      if (key.denied.has('DescribeKey')) usable(key, 'DescribeKey');
      const state = key.pendingDeletion ? 'PendingDeletion' : key.enabled ? 'Enabled' : 'Disabled';
      return {
        KeyMetadata: {
          AWSAccountId: account,
          KeyId: key.keyId,
          Arn: keyArn(key.keyId),
          CreationDate: key.created,
          Enabled: key.enabled && !key.pendingDeletion,
          Description: key.description,
          KeyUsage: 'ENCRYPT_DECRYPT',
          KeyState: state,
          Origin: 'AWS_KMS',
          KeyManager: 'CUSTOMER',
          CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
          KeySpec: 'SYMMETRIC_DEFAULT',
          EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
          MultiRegion: false,
        },
      };
    },
  };

  const answer = (req: IncomingMessage, raw: Buffer): JsonAnswer => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
    const known = (KMS_OPERATIONS as readonly string[]).includes(operation);
    const now = performance.now();
    const c = counters.arrive(known ? operation : 'unknown', now);
    const fail = (type: string, message: string, status = 400) => c.fail(type, message, status);

    // SigV4 for the kms service, scoped to the simulator's region; the signature itself is not checked.
    const auth = String(req.headers.authorization ?? '');
    const signed = /^AWS4-HMAC-SHA256 Credential=[^/\s]+\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=\S+, ?Signature=[0-9a-f]{64}$/.exec(auth);
    if (!signed || !req.headers['x-amz-date']) return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
    if (signed[2] !== 'kms') return fail('InvalidSignatureException', `Credential should be scoped to correct service: 'kms'.`);
    if (signed[1] !== region) return fail('InvalidSignatureException', `Credential should be scoped to a valid region.`);
    if (!known) return fail('UnknownOperationException', '');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1'))
      return fail('SerializationException', 'Content-Type must be application/x-amz-json-1.1');

    const bucket = CRYPTO_OPERATIONS.has(operation) ? cryptoBucket : describeBucket;
    if (bucket && !bucket.take(now)) return fail('ThrottlingException', 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.');
    c.accepted.add(now);

    if (settings.failAll) return fail(settings.failAll, `Simulated failure ${settings.failAll}`, settings.failAll === 'KMSInternalException' ? 500 : 400);

    const body = parseJsonObject(raw);
    if (!body) return fail('SerializationException', 'Start of structure or map found where not expected.');
    try {
      return c.succeed(api[operation as KmsOperation](body));
    } catch (error) {
      if (error instanceof AwsFault) return fail(error.type, error.message, error.status);
      return fail('KMSInternalException', `Simulator bug: ${(error as Error).message}`, 500);
    }
  };

  const control = (cmd: KmsControlCommand): { keys: number } => {
    if (!cmd || typeof cmd !== 'object') throw new Error('a control command is a JSON object');
    const lookup = (k: string) => {
      try {
        return resolve(k);
      } catch {
        throw new Error(`no simulated key "${k}"`);
      }
    };
    for (const k of cmd.addKeys ?? []) addKey(k);
    for (const k of cmd.disable ?? []) lookup(k).enabled = false;
    for (const k of cmd.enable ?? []) lookup(k).enabled = true;
    for (const p of cmd.pendingDeletion ?? []) lookup(p.key).pendingDeletion = p.pending;
    for (const d of cmd.deny ?? []) {
      const key = lookup(d.key);
      for (const op of d.operations ?? KMS_OPERATIONS) {
        if (!(KMS_OPERATIONS as readonly string[]).includes(op)) throw new Error(`unknown operation "${op}"; use ${KMS_OPERATIONS.join(', ')}`);
        key.denied.add(op);
      }
    }
    for (const k of cmd.allow ?? []) lookup(k).denied.clear();
    if (cmd.failAll !== undefined) settings.failAll = cmd.failAll;
    if (cmd.latencyMs !== undefined) {
      if (typeof cmd.latencyMs !== 'number' || !(cmd.latencyMs >= 0)) throw new Error('latencyMs must be a number >= 0');
      settings.latencyMs = cmd.latencyMs;
    }
    if (cmd.cryptoQuotaPerSecond !== undefined) {
      settings.cryptoRate = checkRate(cmd.cryptoQuotaPerSecond, 'cryptoQuotaPerSecond');
      cryptoBucket = settings.cryptoRate === null ? null : new TokenBucket(settings.cryptoRate);
    }
    if (cmd.describeKeyQuotaPerSecond !== undefined) {
      settings.describeRate = checkRate(cmd.describeKeyQuotaPerSecond, 'describeKeyQuotaPerSecond');
      describeBucket = settings.describeRate === null ? null : new TokenBucket(settings.describeRate);
    }
    if (cmd.resetStats) counters.reset();
    return { keys: keys.size };
  };

  const stats = (): KmsSimStats => ({
    ...counters.stats(),
    latencyMs: settings.latencyMs,
    cryptoQuotaPerSecond: settings.cryptoRate,
    describeKeyQuotaPerSecond: settings.describeRate,
  });

  const pending = new Set<NodeJS.Timeout>();
  const self: SimulatedKmsHandler & Controllable<KmsControlCommand> = {
    handle: (req, res, raw) => answerJsonAfter(req, res, settings.latencyMs, pending, () => answer(req, raw)),
    handleControl: (req, res, path, raw) => answerControl(req, res, path, raw, self),
    health: () => ({ keys: keys.size }),
    resetStats: () => counters.reset(),
    keyArn,
    control,
    stats,
    close: () => cancelAll(pending),
  };
  return self;
}

/** The simulated KMS on a server of its own, with its control endpoints under /__. */
export async function startSimulatedKms(options: SimulatedKmsOptions = {}): Promise<SimulatedKms> {
  return serveAlone(createSimulatedKms(options), options.port, options.host);
}
