import { sql, type RawBuilder } from 'kysely';
import type { DialectName } from './dialect';

// "Now" read from the database's clock, as an ISO 8601 string (the same text JavaScript's
// toISOString() gives: 2025-01-31T12:00:00.000Z), so expiry times that several replicas compare
// (leases, write claims) do not depend on each host's clock agreeing.

/** The database's current time plus `plusMs` (may be negative), as ISO text with milliseconds, in UTC. */
export function databaseNow(dialect: DialectName, plusMs = 0): RawBuilder<string> {
  if (!Number.isFinite(plusMs)) throw new Error(`databaseNow: not a number of milliseconds: ${plusMs}`);
  if (dialect === 'postgres') {
    // clock_timestamp(), not now(): now() is the transaction's start, which a long transaction would keep old.
    return sql<string>`to_char((clock_timestamp() AT TIME ZONE 'UTC') + ${Math.round(plusMs)} * interval '1 millisecond', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  }
  const seconds = `${plusMs < 0 ? '-' : '+'}${(Math.abs(plusMs) / 1000).toFixed(3)} seconds`;
  return sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ${seconds})`;
}
