import 'server-only';
import { appDb } from '@/lib/db/app-db';

// "Run this now" for background work that another replica may be leading (e.g. a Refresh clicked on
// a page this replica served, while another replica holds the inventory sync's lease). The request
// waits in the app database until the leader takes it (runWhileLeader's onRequests polls for it).
// Asking twice for the same thing before the leader takes it counts once.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Asks the leader of `name` to run `payload`; false when the same request was already waiting. */
export async function requestRun(name: string, payload: JsonValue): Promise<boolean> {
  if (!name) throw new Error('a background request needs the name of the work');
  const db = await appDb();
  const inserted = await db
    .insertInto('background_requests')
    .values({ name, payload: JSON.stringify(payload), requested_at: new Date().toISOString() })
    .onConflict((oc) => oc.columns(['name', 'payload']).doNothing())
    .returning('name')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * Takes (and removes) every waiting request for `name`, oldest first. Each request is handed to one
 * caller only, even when two processes take at once. The payloads are JSON as asked; validate them
 * before use.
 */
export async function takeRequests(name: string): Promise<unknown[]> {
  const db = await appDb();
  const rows = await db.deleteFrom('background_requests').where('name', '=', name).returning(['payload', 'requested_at']).execute();
  return rows.sort((a, b) => a.requested_at.localeCompare(b.requested_at)).map((r) => JSON.parse(r.payload) as unknown);
}
