import 'server-only';
import type { Kysely } from 'kysely';
import { auditChainKey } from '@/lib/crypto/keyring';
import { keyedFromMac } from './entry-hash';
import { KEYED_FROM_MARKER } from './verify-chain';

// The marker of a log written before the chain was keyed: entries below `keyedFromSeq` keep their
// plain SHA-256 links. Written once, by the app database's migration 0004 in the transaction that
// creates the table, and sealed with the chain key there, so there is never a moment when an
// unsealed marker could be moved to pass keyed entries off as old ones.

/** The audit chain key, or an error saying what it is needed for and why it is not there. */
async function chainKeyFor(purpose: string): Promise<Buffer> {
  try {
    return await auditChainKey();
  } catch (error) {
    throw new Error(`${purpose} needs the audit chain key (kept with the master key), which could not be opened: ${(error as Error).message}`);
  }
}

/** Inserts the sealed marker (inside the caller's transaction). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function recordKeyedFrom(db: Kysely<any>, keyedFromSeq: number): Promise<void> {
  const key = await chainKeyFor(`The audit log has ${keyedFromSeq - 1} entries from before the chain was keyed; recording where the keyed chain begins`);
  await db.insertInto('audit_chain_meta').values({ name: KEYED_FROM_MARKER, value: String(keyedFromSeq), mac: keyedFromMac(key, keyedFromSeq) }).execute();
}
