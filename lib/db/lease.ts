import 'server-only';
import { sql } from 'kysely';
import { appDb } from './app-db';
import { databaseNow } from './database-clock';
import { dialectOf } from './dialect';

// Leases: a named right to do some background work (the inventory sync, the CloudTrail sync) that
// one process at a time holds, in the app area's `leases` table so every replica sees the same
// row. A holder keeps its lease by renewing it before it expires; a holder that dies simply stops
// renewing, and once the lease has expired anyone may take it over. Times come from the
// database's clock, so replicas on hosts whose clocks disagree still agree on who holds what.

export interface LeaseState {
  holder: string;
  /** ISO 8601 (database clock). */
  expiresAt: string;
  acquiredAt: string;
}

function checkArguments(name: string, holder: string, ttlMs?: number): void {
  if (!name) throw new Error('a lease needs a name');
  if (!holder) throw new Error(`lease "${name}": the holder id is empty`);
  if (ttlMs !== undefined && !(Number.isInteger(ttlMs) && ttlMs > 0)) throw new Error(`lease "${name}": the time to live must be a positive whole number of milliseconds, not ${ttlMs}`);
}

/**
 * Takes the lease `name` for `holder` for `ttlMs` from now: when nobody holds it, when its holder
 * let it expire, or when `holder` already holds it (a renewal, which keeps its acquired time).
 * True when `holder` holds it afterwards. One statement, so two processes racing for a free or
 * expired lease never both win: PostgreSQL locks the row for the conflicting insert and re-checks
 * the condition against what the winner wrote; SQLite runs one writer at a time.
 */
export async function tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
  if (await acquireOnce(name, holder, ttlMs)) return true;
  // On SQLite every process sharing the file runs on this host: a restarted server need not wait
  // out its dead predecessor's lease. (On PostgreSQL replicas live on other hosts; the ttl decides.)
  if (dialectOf(await appDb()) !== 'sqlite') return false;
  return (await releaseDeadLocalHolder(name, holder)) && acquireOnce(name, holder, ttlMs);
}

/**
 * Frees the lease when its holder is a process of this host that is gone (holder ids are
 * host:pid:random): one with our pid is our predecessor (a container restarted as pid 1), another
 * pid that no longer runs has died. True when it freed it.
 */
async function releaseDeadLocalHolder(name: string, me: string): Promise<boolean> {
  const current = await leaseHolder(name);
  if (!current || current.holder === me) return false;
  const [host, pidText] = current.holder.split(':');
  const [myHost, myPid] = me.split(':');
  if (host !== myHost || !pidText || !/^\d+$/.test(pidText)) return false;
  const pid = Number(pidText);
  if (String(pid) !== myPid && processRuns(pid)) return false;
  const db = await appDb();
  const freed = await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', current.holder).executeTakeFirst();
  return Number(freed.numDeletedRows) > 0;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquireOnce(name: string, holder: string, ttlMs: number): Promise<boolean> {
  checkArguments(name, holder, ttlMs);
  const db = await appDb();
  const dialect = dialectOf(db);
  const now = databaseNow(dialect);
  const row = await db
    .insertInto('leases')
    .values({ name, holder, expires_at: databaseNow(dialect, ttlMs), acquired_at: now })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({
          holder: (eb) => eb.ref('excluded.holder'),
          expires_at: (eb) => eb.ref('excluded.expires_at'),
          acquired_at: sql<string>`CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END`,
        })
        .where((eb) => eb.or([eb('leases.expires_at', '<', now), eb('leases.holder', '=', holder)])),
    )
    // Only an inserted or updated row comes back: none means someone else holds an unexpired lease.
    .returning('holder')
    .executeTakeFirst();
  return row?.holder === holder;
}

/** Gives the lease up at once (if `holder` still holds it), so another process need not wait for it to expire. */
export async function release(name: string, holder: string): Promise<void> {
  checkArguments(name, holder);
  const db = await appDb();
  await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
}

/** Who holds the lease now (unexpired), or null (status pages, tests). */
export async function leaseHolder(name: string): Promise<LeaseState | null> {
  checkArguments(name, '-');
  const db = await appDb();
  const row = await db
    .selectFrom('leases')
    .select(['holder', 'expires_at', 'acquired_at'])
    .where('name', '=', name)
    .where('expires_at', '>=', databaseNow(dialectOf(db)))
    .executeTakeFirst();
  return row ? { holder: row.holder, expiresAt: row.expires_at, acquiredAt: row.acquired_at } : null;
}
