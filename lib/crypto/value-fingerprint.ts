import 'server-only';
import { createHmac, hkdfSync } from 'node:crypto';
import { assertMasterKey, KEY_BYTES } from './envelope';

// Keyed fingerprints of values, to tell whether two versions hold the same value without showing
// either: HMAC-SHA-256 under a key derived from the master key (HKDF, with a label of its own, so it
// is no other key the master key derives). Without the master key a fingerprint cannot be checked
// against guesses, as an unkeyed hash could. They stay in the server: only "changed" or "unchanged"
// leaves it.

export const VALUE_FINGERPRINT_KEY_INFO = 'secrets-dashboard/value-fingerprint/v1';

/** The fingerprint key of a master key; the same master key always gives the same one. */
export function valueFingerprintKey(masterKey: Buffer): Buffer {
  assertMasterKey(masterKey);
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), VALUE_FINGERPRINT_KEY_INFO, KEY_BYTES));
}

/** HMAC-SHA-256 of the value's UTF-8 bytes under the fingerprint key, hex. */
export function valueFingerprint(fingerprintKey: Buffer, value: string): string {
  return createHmac('sha256', fingerprintKey).update(value, 'utf8').digest('hex');
}
