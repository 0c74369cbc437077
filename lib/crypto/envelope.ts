import 'server-only';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Envelope encryption as KMS does it: each value is sealed with AES-256-GCM under its own
// random data key, and that data key is sealed (wrapped) under the master key. The item name and
// version go in as additional authenticated data, so a ciphertext moved to another row fails.

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export interface SealedValue {
  /** iv | tag | ciphertext of the value under the data key. */
  ciphertext: Buffer;
  /** iv | tag | ciphertext of the data key under the master key. */
  wrappedKey: Buffer;
}

export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new DecryptionError('sealed data is truncated');
  const decipher = createDecipheriv(ALGORITHM, key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptionError('authentication failed');
  }
}

export function assertMasterKey(masterKey: Buffer): void {
  if (masterKey.length !== KEY_BYTES) throw new Error(`The master key must be ${KEY_BYTES} bytes long.`);
}

export function encryptValue(masterKey: Buffer, plaintext: string, context: string): SealedValue {
  assertMasterKey(masterKey);
  const dataKey = randomBytes(KEY_BYTES);
  const aad = Buffer.from(context, 'utf8');
  try {
    return {
      ciphertext: seal(dataKey, Buffer.from(plaintext, 'utf8'), aad),
      wrappedKey: seal(masterKey, dataKey, aad),
    };
  } finally {
    dataKey.fill(0);
  }
}

/** Throws DecryptionError when either layer was altered, the context differs or the master key is wrong. */
export function decryptValue(masterKey: Buffer, sealed: SealedValue, context: string): string {
  assertMasterKey(masterKey);
  const aad = Buffer.from(context, 'utf8');
  let dataKey: Buffer;
  try {
    dataKey = open(masterKey, sealed.wrappedKey, aad);
  } catch {
    throw new DecryptionError(
      `Cannot unwrap the data key of ${context}: the wrapped key was altered or the master key is not the one it was written with.`,
    );
  }
  try {
    return open(dataKey, sealed.ciphertext, aad).toString('utf8');
  } catch {
    throw new DecryptionError(`Cannot decrypt ${context}: the stored ciphertext was altered (authentication tag mismatch).`);
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The same data key wrapped under another master key (npm run rotate-master-key): the value's own
 * ciphertext is left as it is. Throws DecryptionError when the old key does not unwrap it.
 */
export function rewrapDataKey(oldMasterKey: Buffer, newMasterKey: Buffer, wrappedKey: Buffer, context: string): Buffer {
  assertMasterKey(oldMasterKey);
  assertMasterKey(newMasterKey);
  const aad = Buffer.from(context, 'utf8');
  let dataKey: Buffer;
  try {
    dataKey = open(oldMasterKey, wrappedKey, aad);
  } catch {
    throw new DecryptionError(`Cannot unwrap the data key of ${context}: the wrapped key was altered or the master key is not the one it was written with.`);
  }
  try {
    return seal(newMasterKey, dataKey, aad);
  } finally {
    dataKey.fill(0);
  }
}
