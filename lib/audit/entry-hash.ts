import 'server-only';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

// The one place the audit chain's links are computed: appending and every verifier call these.
// A link is an HMAC-SHA-256 under the audit chain key (derived from the master key, kept sealed
// under it in the keyring), so whoever can write the app database but does not hold the master
// key cannot edit an entry and re-chain the ones after it. Logs written before the chain was keyed
// keep their plain SHA-256 links up to the entry the marker (audit_chain_meta) names.

export const GENESIS_HASH = '0'.repeat(64);

/** The audit chain key's length (HKDF-SHA-256 output, lib/stores/embedded/open.ts). */
export const CHAIN_KEY_BYTES = 32;

/** The fields of an entry that its link covers, as stored (details as its JSON text). */
export interface HashedFields {
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  details: string;
}

function canonical(prevHash: string, entry: HashedFields): string {
  return JSON.stringify([prevHash, entry.at, entry.actor, entry.action, entry.target, entry.outcome, entry.details]);
}

/** Throws unless `key` can be the audit chain key: a wrong-sized key is a programming error, not a chain break. */
export function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== CHAIN_KEY_BYTES) throw new TypeError(`the audit chain key must be ${CHAIN_KEY_BYTES} bytes`);
}

/** An entry's link in the keyed chain: HMAC-SHA-256(chain key, canonical fields), hex. */
export function keyedEntryHash(key: Buffer, prevHash: string, entry: HashedFields): string {
  checkKey(key);
  return createHmac('sha256', key).update(canonical(prevHash, entry)).digest('hex');
}

/** An entry's link as logs before the keyed chain wrote it: plain SHA-256, hex. */
export function legacyEntryHash(prevHash: string, entry: HashedFields): string {
  return createHash('sha256').update(canonical(prevHash, entry)).digest('hex');
}

const KEYED_FROM_LABEL = 'secrets-dashboard/audit-chain/keyed-from/v1';

/**
 * The MAC of the marker that says from which seq the chain is keyed: without the key the marker
 * cannot be moved to turn keyed entries into plain SHA-256 ones.
 */
export function keyedFromMac(key: Buffer, keyedFromSeq: number): string {
  checkKey(key);
  return createHmac('sha256', key).update(JSON.stringify([KEYED_FROM_LABEL, keyedFromSeq])).digest('hex');
}

/** Compares two hex digests in constant time (false when either is not 64 hex characters). */
export function sameDigest(a: string, b: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(a) || !/^[0-9a-f]{64}$/.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}
