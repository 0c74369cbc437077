import 'server-only';
import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AppDatabase } from '@/lib/db/app-db';
import { checkKey, sameDigest } from './entry-hash';
import type { ChainProblem } from './verify-chain';

// The audit chain's kept verdicts, in the app area's audit_chain_verdicts table (migration 0006):
// 'incremental' says up to which entry new entries are verified and the break found among them;
// 'full-pass' says how the last whole verification went (or how far the running one is). Each body
// is sealed with an HMAC under the audit chain key, so whoever can write the database but lacks the
// master key cannot mark a broken chain as verified; and each row carries a version every write
// bumps, so a write based on a stale read (another replica, a concurrent check) changes nothing.

export const INCREMENTAL = 'incremental';
export const FULL_PASS = 'full-pass';
export type VerdictName = typeof INCREMENTAL | typeof FULL_PASS;

/** The table as the app area's migration 0006 makes it. */
export interface AuditChainVerdictsTable {
  name: string;
  version: number;
  /** The verdict, JSON (one of the schemas below). */
  body: string;
  /** HMAC-SHA-256 of name and body under the audit chain key, hex. */
  mac: string;
  updated_at: string;
}

export type VerdictDatabase = AppDatabase & { audit_chain_verdicts: AuditChainVerdictsTable };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const verdictTables = (db: Kysely<any>): Kysely<VerdictDatabase> => (db as Kysely<AppDatabase>).withTables<{ audit_chain_verdicts: AuditChainVerdictsTable }>();

const PROBLEMS = ['hash-mismatch', 'unkeyed-entry', 'prev-hash-unlinked', 'seq-gap', 'tail-removed', 'marker-invalid', 'anchor-mismatch', 'anchor-not-found'] as const satisfies readonly ChainProblem[];

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const seq = z.number().int().min(0);

/** A break as kept: the first entry that does not verify, what is wrong, and when it was found. */
export const keptBreakSchema = z.object({
  seq: seq,
  at: z.string().nullable(),
  action: z.string().nullable(),
  problem: z.enum(PROBLEMS),
  message: z.string().max(2000),
  foundAt: z.string(),
  /**
   * The head verified before this break was found among new entries: evidence the next full pass
   * checks as an anchor, so a cut-off tail (which PostgreSQL keeps no other trace of) stays a break
   * until those entries are back, even after new entries take their numbers.
   */
  verifiedHead: z.object({ seq: seq.min(1), hash: hex64 }).nullable().default(null),
});
export type KeptBreak = z.infer<typeof keptBreakSchema>;

/** A verified entry: the chain from here on is checked from this one. */
export const keptHeadSchema = z.object({ seq: seq.min(1), hash: hex64, prevHash: hex64 });
export type KeptHead = z.infer<typeof keptHeadSchema>;

export const incrementalVerdictSchema = z.object({
  /** The newest entry verified (null: none yet, an empty log or one not verified since this version). */
  head: keptHeadSchema.nullable(),
  /** When the head last moved or was checked. */
  verifiedAt: z.string(),
  /** Entries from this seq on are HMAC-linked (from the marker). */
  keyedFromSeq: seq.min(1),
  /** The first break found among new entries since the last full pass that verified (null: none). */
  break: keptBreakSchema.nullable(),
  /**
   * When this verdict was found altered (its seal did not verify) and verification began again
   * from the first entry; cleared by the next full pass that ends.
   */
  alteredAt: z.string().nullable(),
});
export type IncrementalVerdict = z.infer<typeof incrementalVerdictSchema>;

export const fullPassVerdictSchema = z.object({
  state: z.enum(['running', 'intact', 'broken', 'failed']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  /** Who runs it (a lease holder id). */
  holder: z.string(),
  /** Entries checked so far (when done: all of them, or those before the break). */
  checked: seq,
  /** The log's last seq when the pass began. */
  total: seq,
  /** When done and intact: the head it verified up to. */
  head: keptHeadSchema.nullable(),
  break: keptBreakSchema.nullable(),
  /** Why it could not run to the end (no key, the database went away), names only. */
  error: z.string().max(2000).nullable(),
});
export type FullPassVerdict = z.infer<typeof fullPassVerdictSchema>;

const SCHEMAS = { [INCREMENTAL]: incrementalVerdictSchema, [FULL_PASS]: fullPassVerdictSchema } as const;
type Body<N extends VerdictName> = z.infer<(typeof SCHEMAS)[N]>;

const MAC_LABEL = 'secrets-dashboard/audit-chain/verdict/v1';

function verdictMac(key: Buffer, name: string, body: string): string {
  checkKey(key);
  return createHmac('sha256', key).update(JSON.stringify([MAC_LABEL, name, body])).digest('hex');
}

/** A kept verdict as read: its body (null when absent or not verifying), its version, and whether its seal held. */
export interface KeptVerdict<N extends VerdictName> {
  body: Body<N> | null;
  /** The row's version (0: no row). */
  version: number;
  /** The row's seal as stored ('' without a row). */
  mac: string;
  /** The row is there but its seal does not verify under the key, or its body does not parse: it was altered. */
  altered: boolean;
}

export async function readVerdict<N extends VerdictName>(db: Kysely<any>, key: Buffer, name: N): Promise<KeptVerdict<N>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const row = await verdictTables(db).selectFrom('audit_chain_verdicts').select(['version', 'body', 'mac']).where('name', '=', name).executeTakeFirst();
  if (!row) return { body: null, version: 0, mac: '', altered: false };
  const version = Number(row.version);
  const mac = row.mac;
  if (!sameDigest(verdictMac(key, name, row.body), row.mac)) return { body: null, version, mac, altered: true };
  let json: unknown;
  try {
    json = JSON.parse(row.body);
  } catch {
    return { body: null, version, mac, altered: true };
  }
  const parsed = SCHEMAS[name].safeParse(json);
  return parsed.success ? { body: parsed.data as Body<N>, version, mac, altered: false } : { body: null, version, mac, altered: true };
}

/**
 * Writes `body` when the row is still at `version` (0: when there is no row), and, given
 * `expectedMac`, still holds what was sealed so (a compare-and-swap on the content, for a caller
 * that remembers the row instead of reading it). The row as written, or null when someone else
 * wrote first (re-read and decide again, or leave it to the next check).
 */
export async function writeVerdict<N extends VerdictName>( // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  key: Buffer,
  name: N,
  version: number,
  body: Body<N>,
  expectedMac?: string,
): Promise<KeptVerdict<N> | null> {
  const written = SCHEMAS[name].parse(body) as Body<N>;
  const text = JSON.stringify(written);
  const values = { body: text, mac: verdictMac(key, name, text), updated_at: new Date().toISOString() };
  const table = verdictTables(db);
  if (version === 0) {
    const inserted = await table
      .insertInto('audit_chain_verdicts')
      .values({ name, version: 1, ...values })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0 ? { body: written, version: 1, mac: values.mac, altered: false } : null;
  }
  const updated = await table
    .updateTable('audit_chain_verdicts')
    .set({ ...values, version: version + 1 })
    .where('name', '=', name)
    .where('version', '=', version)
    .$if(expectedMac !== undefined, (q) => q.where('mac', '=', expectedMac!))
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0 ? { body: written, version: version + 1, mac: values.mac, altered: false } : null;
}

/** Forgets the kept verdicts (a restore of the app database from elsewhere; tests). */
export async function clearVerdicts(db: Kysely<any>): Promise<void> { // eslint-disable-line @typescript-eslint/no-explicit-any
  await verdictTables(db).deleteFrom('audit_chain_verdicts').execute();
}
