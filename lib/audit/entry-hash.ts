import 'server-only';
import { createHash } from 'node:crypto';

// The one place the audit chain's hash is computed: appending and every verifier call this, so
// making the chain keyed (an HMAC under a key derived from the master key) is an edit here only.

export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an entry that its hash covers, as stored (details as its JSON text). */
export interface HashedFields {
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  details: string;
}

export function entryHash(prevHash: string, entry: HashedFields): string {
  const canonical = JSON.stringify([prevHash, entry.at, entry.actor, entry.action, entry.target, entry.outcome, entry.details]);
  return createHash('sha256').update(canonical).digest('hex');
}
