import { DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { isThrottlingError } from '@smithy/core/retry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulatedKms, type SimulatedKms } from '@/simulator/simulated-kms';

// The simulated KMS against the real SDK v3 client and raw HTTP: what it answers, what it refuses
// and how (the error types KMS uses), the ciphertext's binding to key and encryption context,
// quotas as the SDK classifies them, and the control endpoints.

const KEY_A = '0b7c3a52-1f4e-4d7a-9c2b-6e5f8a1d3c40';
const KEY_B = '9d2e6f18-3a4b-4c5d-8e7f-0a1b2c3d4e5f';
const credentials = { accessKeyId: 'AKIDSIMULATED', secretAccessKey: 'simulated-secret' };
let sim: SimulatedKms;
const kms = (maxAttempts = 1, region = 'us-east-1') => new KMSClient({ endpoint: sim.url, region, credentials, maxAttempts });

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

const signedHeaders = {
  authorization: `AWS4-HMAC-SHA256 Credential=AKIDSIMULATED/20260101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'a'.repeat(64)}`,
  'x-amz-date': '20260101T000000Z',
  'content-type': 'application/x-amz-json-1.1',
};

beforeAll(async () => {
  sim = await startSimulatedKms({ keys: [{ keyId: KEY_A, aliases: ['alias/dashboard', 'other-name'] }, { keyId: KEY_B }], latencyMs: 1 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.control({ enable: [KEY_A, KEY_B], allow: [KEY_A, KEY_B], pendingDeletion: [{ key: KEY_A, pending: false }], failAll: null, latencyMs: 1, cryptoQuotaPerSecond: 5500, resetStats: true });
});

describe('simulated KMS: cryptography', () => {
  it('encrypts and decrypts with the encryption context, without KeyId on Decrypt, whatever the order of the context', async () => {
    const client = kms();
    const enc = await client.send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('hello'), EncryptionContext: { a: '1', b: '2' } }));
    expect(enc.KeyId).toBe(`arn:aws:kms:us-east-1:123456789012:key/${KEY_A}`);
    expect(Buffer.from(enc.CiphertextBlob!).includes(Buffer.from('hello'))).toBe(false);
    const dec = await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { b: '2', a: '1' } }));
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('hello');
    expect(dec.KeyId).toBe(enc.KeyId);
  });

  it('refuses a changed context, a missing context and an altered blob with InvalidCiphertextException', async () => {
    const client = kms();
    const enc = await client.send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('hello'), EncryptionContext: { deployment: 'prod' } }));
    const other = await rejection(client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { deployment: 'staging' } })));
    expect(other.name).toBe('InvalidCiphertextException');
    const none = await rejection(client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })));
    expect(none.name).toBe('InvalidCiphertextException');
    const altered = Buffer.from(enc.CiphertextBlob!);
    altered[altered.length - 1]! ^= 1;
    const tampered = await rejection(client.send(new DecryptCommand({ CiphertextBlob: altered, EncryptionContext: { deployment: 'prod' } })));
    expect(tampered.name).toBe('InvalidCiphertextException');
    const garbage = await rejection(client.send(new DecryptCommand({ CiphertextBlob: Buffer.from('not a kms blob') })));
    expect(garbage.name).toBe('InvalidCiphertextException');
  });

  it('accepts the key as id, key ARN, alias name and alias ARN; answers IncorrectKeyException for another key and NotFoundException for none', async () => {
    const client = kms();
    const arn = sim.keyArn(KEY_A);
    for (const keyId of [KEY_A, arn, 'alias/dashboard', 'alias/other-name', 'arn:aws:kms:us-east-1:123456789012:alias/dashboard']) {
      const out = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
      expect(out.KeyId).toBe(arn);
      expect(out.Plaintext).toHaveLength(32);
      const dec = await client.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: out.CiphertextBlob }));
      expect(Buffer.from(dec.Plaintext!).equals(Buffer.from(out.Plaintext!))).toBe(true);
    }
    const enc = await client.send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('x') }));
    expect((await rejection(client.send(new DecryptCommand({ KeyId: KEY_B, CiphertextBlob: enc.CiphertextBlob })))).name).toBe('IncorrectKeyException');
    for (const keyId of ['00000000-0000-4000-8000-000000000000', 'alias/missing', `arn:aws:kms:eu-west-1:123456789012:key/${KEY_A}`, `arn:aws:kms:us-east-1:999999999999:key/${KEY_A}`]) {
      const error = await rejection(client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') })));
      expect(error.name, keyId).toBe('NotFoundException');
      expect(error.$metadata?.httpStatusCode).toBe(400);
    }
  });

  it('GenerateDataKey takes KeySpec or NumberOfBytes, not both and not neither', async () => {
    const client = kms();
    expect((await client.send(new GenerateDataKeyCommand({ KeyId: KEY_A, NumberOfBytes: 7 }))).Plaintext).toHaveLength(7);
    expect((await client.send(new GenerateDataKeyCommand({ KeyId: KEY_A, KeySpec: 'AES_128' }))).Plaintext).toHaveLength(16);
    expect((await rejection(client.send(new GenerateDataKeyCommand({ KeyId: KEY_A, KeySpec: 'AES_256', NumberOfBytes: 32 })))).name).toBe('ValidationException');
    expect((await rejection(client.send(new GenerateDataKeyCommand({ KeyId: KEY_A })))).name).toBe('ValidationException');
    expect((await rejection(client.send(new GenerateDataKeyCommand({ KeyId: KEY_A, NumberOfBytes: 2000 })))).name).toBe('ValidationException');
    expect((await rejection(client.send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.alloc(4097) })))).name).toBe('ValidationException');
  });

  it('a disabled key, a key pending deletion and a denied caller are refused as KMS refuses them; DescribeKey shows the state', async () => {
    const client = kms();
    const enc = await client.send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('x') }));
    sim.control({ disable: ['alias/dashboard'] });
    expect((await rejection(client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })))).name).toBe('DisabledException');
    expect((await rejection(client.send(new GenerateDataKeyCommand({ KeyId: KEY_A, KeySpec: 'AES_256' })))).name).toBe('DisabledException');
    const described = await client.send(new DescribeKeyCommand({ KeyId: 'alias/dashboard' }));
    expect(described.KeyMetadata).toMatchObject({ KeyId: KEY_A, Arn: sim.keyArn(KEY_A), KeyState: 'Disabled', Enabled: false, KeyUsage: 'ENCRYPT_DECRYPT' });
    sim.control({ enable: [KEY_A], pendingDeletion: [{ key: KEY_A, pending: true }] });
    expect((await rejection(client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })))).name).toBe('KMSInvalidStateException');
    sim.control({ pendingDeletion: [{ key: KEY_A, pending: false }], deny: [{ key: KEY_A, operations: ['Decrypt'] }] });
    expect((await rejection(client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })))).name).toBe('AccessDeniedException');
    // Only Decrypt was denied.
    await client.send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('x') }));
    sim.control({ allow: [KEY_A] });
    expect(Buffer.from((await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString()).toBe('x');
  });

  it('a restarted simulator with the same seed opens earlier ciphertexts; one with another seed does not', async () => {
    const enc = await kms().send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('kept'), EncryptionContext: { p: 'q' } }));
    const same = await startSimulatedKms({ keys: [{ keyId: KEY_A }], latencyMs: 0 });
    const other = await startSimulatedKms({ keys: [{ keyId: KEY_A }], latencyMs: 0, seed: 'another' });
    try {
      const client = (url: string) => new KMSClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
      const out = await client(same.url).send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { p: 'q' } }));
      expect(Buffer.from(out.Plaintext!).toString()).toBe('kept');
      const error = await rejection(client(other.url).send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { p: 'q' } })));
      expect(error.name).toBe('InvalidCiphertextException');
    } finally {
      await same.close();
      await other.close();
    }
  });
});

describe('simulated KMS: wire, latency, quota and control', () => {
  it('refuses a request without a SigV4 Authorization header, one signed for another region, an unknown operation and a wrong content type', async () => {
    const post = (headers: Record<string, string>, target = 'TrentService.Encrypt') =>
      fetch(sim.url, { method: 'POST', headers: { 'x-amz-target': target, ...headers }, body: '{}' });
    const unsigned = await post({ 'content-type': 'application/x-amz-json-1.1' });
    expect(unsigned.status).toBe(400);
    expect(unsigned.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    const unknown = await post(signedHeaders, 'TrentService.CreateKey');
    expect(unknown.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    const otherService = await post(signedHeaders, 'AmazonSSM.GetParameter');
    expect(otherService.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    const wrongType = await post({ ...signedHeaders, 'content-type': 'application/json' });
    expect(wrongType.headers.get('x-amzn-errortype')).toBe('SerializationException');
    const get = await fetch(sim.url);
    expect(get.status).toBe(405);
    // The allowed case: the same raw request, signed and well-formed, is answered.
    const ok = await post(signedHeaders, 'TrentService.Encrypt');
    expect(await ok.json()).toMatchObject({ __type: 'ValidationException' }); // reached the operation: KeyId missing
    const described = await fetch(sim.url, { method: 'POST', headers: { ...signedHeaders, 'x-amz-target': 'TrentService.DescribeKey' }, body: JSON.stringify({ KeyId: KEY_B }) });
    expect(described.status).toBe(200);
    const wrongRegion = await rejection(kms(1, 'eu-west-1').send(new DescribeKeyCommand({ KeyId: KEY_A })));
    expect(wrongRegion.name).toBe('InvalidSignatureException');
    expect(sim.stats().operations.unknown?.errors).toBe(2);
  });

  it('answers after the latency', async () => {
    sim.control({ latencyMs: 120 });
    const started = performance.now();
    await kms().send(new DescribeKeyCommand({ KeyId: KEY_A }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('throttles cryptographic operations past the shared quota with ThrottlingException (400), which the SDK classifies as throttling; DescribeKey has its own quota', async () => {
    sim.control({ cryptoQuotaPerSecond: 3 });
    const client = kms(1);
    const results = await Promise.allSettled([
      ...Array.from({ length: 4 }, () => client.send(new EncryptCommand({ KeyId: KEY_A, Plaintext: Buffer.from('x') }))),
      ...Array.from({ length: 4 }, () => client.send(new GenerateDataKeyCommand({ KeyId: KEY_A, KeySpec: 'AES_256' }))),
    ]);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error & { $metadata: { httpStatusCode: number } });
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(3);
    expect(refused).toHaveLength(5);
    for (const error of refused) {
      expect(error.name).toBe('ThrottlingException');
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(isThrottlingError(error as never)).toBe(true);
    }
    // The crypto bucket is empty, DescribeKey still answers.
    await client.send(new DescribeKeyCommand({ KeyId: KEY_A }));
    const stats = sim.stats();
    expect(stats.totals.throttled).toBe(5);
    expect(stats.operations.DescribeKey?.ok).toBe(1);
  });

  it('retried by the SDK, throttled calls succeed once the bucket refills', async () => {
    sim.control({ cryptoQuotaPerSecond: 5 });
    const client = new KMSClient({ endpoint: sim.url, region: 'us-east-1', credentials, maxAttempts: 6 });
    const out = await Promise.all(Array.from({ length: 8 }, () => client.send(new GenerateDataKeyCommand({ KeyId: KEY_A, KeySpec: 'AES_256' }))));
    expect(out).toHaveLength(8);
    const stats = sim.stats().operations.GenerateDataKey!;
    expect(stats.ok).toBe(8);
    expect(stats.throttled).toBeGreaterThan(0);
  });

  it('takes control commands over HTTP and refuses bad ones', async () => {
    const control = (body: unknown) => fetch(`${sim.url}/__control`, { method: 'POST', body: JSON.stringify(body) });
    expect((await control({ failAll: 'KMSInternalException' })).status).toBe(200);
    const failed = await rejection(kms().send(new DescribeKeyCommand({ KeyId: KEY_A })));
    expect(failed.name).toBe('KMSInternalException');
    expect(failed.$metadata?.httpStatusCode).toBe(500);
    expect((await control({ failAll: null })).status).toBe(200);
    await kms().send(new DescribeKeyCommand({ KeyId: KEY_A }));
    const bad = await control({ disable: ['alias/nope'] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'no simulated key "alias/nope"' });
    expect((await control({ deny: [{ key: KEY_A, operations: ['CreateKey'] }] })).status).toBe(400);
    expect(() => sim.control({ addKeys: [{ keyId: 'not-a-uuid' }] })).toThrow(/uuid/);
    expect(() => sim.control({ addKeys: [{ keyId: KEY_B, aliases: ['alias/dashboard'] }] })).toThrow(/already points/);
    const stats = (await (await fetch(`${sim.url}/__stats`)).json()) as { totals: { calls: number } };
    expect(stats.totals.calls).toBe(2);
  });
});
