import 'server-only';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type pg from 'pg';
import { appDb } from '@/lib/db/app-db';
import { databaseNow } from '@/lib/db/database-clock';
import { dialectOf } from '@/lib/db/dialect';
import { postgresPool } from '@/lib/db/postgres';
import { readEnv } from '@/lib/config/env';
import { processHolderId } from '@/lib/background/process-holder';

// Two guarantees for writes: writes to one item run one at a time (so a JSON secret is read and
// merged against the value the previous write left, never half-merged), and a request id is
// carried out once (a double click, a retried POST) and its first answer is given to every repeat.
// Within a process both hold through promises kept on globalThis (Next.js bundles server code more
// than once). With DATABASE_URL, replicas share nothing but the database, so both also hold there:
// a PostgreSQL advisory lock per item, and a claim row per request id in `write_requests`. On
// SQLite the dashboard is one process, and the in-process guarantees are all there is to it.

const REMEMBER_MS = 15 * 60_000;
/** A claim whose process stops renewing it (killed mid-write) is given up after this long. */
const RUNNING_CLAIM_MS = 60_000;
const RENEW_CLAIM_MS = 20_000;
const POLL_MS = 150;

interface GuardState {
  tails: Map<string, Promise<unknown>>;
  requests: Map<string, { at: number; result: Promise<unknown> }>;
  /** Processes' item locks each hold a pooled connection; at most the pool's size at once (see lockPool). */
  lockSlots: { inUse: number; waiting: (() => void)[] };
}

const g = globalThis as unknown as { __writeGuard?: GuardState };
const state: GuardState = (g.__writeGuard ??= { tails: new Map(), requests: new Map(), lockSlots: { inUse: 0, waiting: [] } });
state.lockSlots ??= { inUse: 0, waiting: [] }; // a state made by an earlier version of this module

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `work` after every earlier call for the same key has settled (in this process and, with DATABASE_URL, in every replica). */
export function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
  const url = readEnv().DATABASE_URL;
  const guarded = url ? () => underItemLock(url, key, work) : work;
  // The in-process chain stays in front: one process waits for itself without holding connections.
  const previous = state.tails.get(key) ?? Promise.resolve();
  const run = previous.then(guarded, guarded);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  state.tails.set(key, tail);
  void tail.then(() => {
    if (state.tails.get(key) === tail) state.tails.delete(key);
  });
  return run;
}

/**
 * The item locks' connections come from a pool of their own (the "public" one, which otherwise only
 * checks the database at start): the work under the lock appends to the audit log through the app
 * area's pool, and if lock holders could take every app connection, their own appends would wait
 * for connections that never come back.
 */
function lockPool(url: string): pg.Pool {
  return postgresPool(url, 'public');
}

async function lockSlot(pool: pg.Pool): Promise<() => void> {
  const slots = state.lockSlots;
  const max = Math.max(1, pool.options.max ?? 5);
  // Wait here rather than in the pool's queue, which gives up after its connection timeout.
  while (slots.inUse >= max) await new Promise<void>((resolve) => slots.waiting.push(resolve));
  slots.inUse++;
  return () => {
    slots.inUse--;
    slots.waiting.shift()?.();
  };
}

/** Runs `work` holding a session advisory lock on `key`, on a connection kept for the work's length. */
async function underItemLock<T>(url: string, key: string, work: () => Promise<T>): Promise<T> {
  const pool = lockPool(url);
  const freeSlot = await lockSlot(pool);
  try {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      // hashtextextended: a 64-bit key from the text, the same in every replica.
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`write-guard:${key}`]);
      try {
        return await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`write-guard:${key}`]).catch((error: Error) => {
          broken = error;
        });
      }
    } catch (error) {
      broken ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      // A connection that failed is closed rather than pooled: closing it also ends any lock it still holds.
      client.release(broken);
    }
  } finally {
    freeSlot();
  }
}

/**
 * Runs `work` once per request key; a repeat while it runs or within 15 minutes gets the same
 * answer (with DATABASE_URL, also a repeat sent to another replica). A failed request is
 * forgotten, so trying again really tries again. Answers must be plain JSON (strings, numbers,
 * booleans, arrays, objects; ISO strings for dates): a replica that did not run the work gets the
 * answer back from JSON.
 */
export function oncePerRequest<T>(key: string, work: () => Promise<T>): Promise<T> {
  const now = Date.now();
  for (const [k, entry] of state.requests) if (now - entry.at > REMEMBER_MS) state.requests.delete(k);
  const seen = state.requests.get(key);
  if (seen) return seen.result as Promise<T>;
  const url = readEnv().DATABASE_URL;
  const result = url ? oncePerRequestShared(key, work) : work();
  state.requests.set(key, { at: now, result });
  result.catch(() => {
    if (state.requests.get(key)?.result === result) state.requests.delete(key);
  });
  return result;
}

/** The key as stored: fixed length, and the actor and item names it is made of stay out of the table. */
function claimKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

async function oncePerRequestShared<T>(key: string, work: () => Promise<T>): Promise<T> {
  const db = await appDb();
  const dialect = dialectOf(db);
  const requestKey = claimKey(key);
  const holder = processHolderId();
  for (;;) {
    await db.deleteFrom('write_requests').where('expires_at', '<', databaseNow(dialect)).execute();
    const claimed = await db
      .insertInto('write_requests')
      .values({ request_key: requestKey, state: 'running', result: null, holder, created_at: databaseNow(dialect), expires_at: databaseNow(dialect, RUNNING_CLAIM_MS) })
      .onConflict((oc) => oc.column('request_key').doNothing())
      .returning('request_key')
      .executeTakeFirst();
    if (claimed) return runClaimed(requestKey, holder, work);

    // Another process has it: wait for its answer, or for its claim to go (the work failed, or the
    // process died mid-write and stopped renewing it; the next round removes an expired claim).
    for (;;) {
      const row = await db
        .selectFrom('write_requests')
        .select(['state', 'result', sql<boolean>`expires_at < ${databaseNow(dialect)}`.as('expired')])
        .where('request_key', '=', requestKey)
        .executeTakeFirst();
      if (!row || row.expired) break;
      if (row.state === 'done') return (row.result === null ? undefined : JSON.parse(row.result)) as T;
      await sleep(POLL_MS);
    }
  }
}

async function runClaimed<T>(requestKey: string, holder: string, work: () => Promise<T>): Promise<T> {
  const db = await appDb();
  const dialect = dialectOf(db);
  const mine = () => db.updateTable('write_requests').where('request_key', '=', requestKey).where('holder', '=', holder);
  // While the work runs, the claim is renewed, so a long write is not taken for a dead one.
  const renewal = setInterval(() => {
    void mine()
      .set({ expires_at: databaseNow(dialect, RUNNING_CLAIM_MS) })
      .where('state', '=', 'running')
      .execute()
      .catch(() => undefined);
  }, RENEW_CLAIM_MS);
  renewal.unref();
  let result: T;
  try {
    result = await work();
  } catch (error) {
    clearInterval(renewal);
    await db.deleteFrom('write_requests').where('request_key', '=', requestKey).where('holder', '=', holder).execute().catch(() => undefined);
    throw error;
  }
  clearInterval(renewal);
  const answer = result === undefined ? null : JSON.stringify(result);
  // The write happened; if storing its answer fails, this process still answers, and a repeat
  // elsewhere waits for the claim to expire and then runs again (rare: the database just failed).
  await mine()
    .set({ state: 'done', result: answer, expires_at: databaseNow(dialect, REMEMBER_MS) })
    .execute()
    .catch(() => undefined);
  return result;
}
