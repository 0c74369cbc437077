import 'server-only';
import { appDb } from '@/lib/db/app-db';

// Failed sign-ins are limited per account and per address within a sliding window.
export const WINDOW_MINUTES = 15;
export const MAX_FAILURES_PER_ACCOUNT = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;

const accountKey = (email: string) => `account:${email.toLowerCase()}`;
const addressKey = (address: string) => `address:${address}`;

async function recentFailures(key: string, since: string): Promise<{ count: number; oldest: string | null }> {
  const row = await (await appDb())
    .selectFrom('sign_in_failures')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('at').as('oldest')])
    .where('key', '=', key)
    .where('at', '>', since)
    .executeTakeFirstOrThrow();
  return { count: Number(row.n), oldest: (row.oldest as string | null) ?? null };
}

/** Minutes until the account or address may try again, or 0 when it may now. */
export async function signInBlockedFor(email: string, address: string): Promise<number> {
  const since = new Date(Date.now() - WINDOW_MINUTES * 60_000).toISOString();
  const checks: [string, number][] = [
    [accountKey(email), MAX_FAILURES_PER_ACCOUNT],
    [addressKey(address), MAX_FAILURES_PER_ADDRESS],
  ];
  for (const [key, max] of checks) {
    const { count, oldest } = await recentFailures(key, since);
    if (count >= max && oldest) return Math.max(1, Math.ceil((Date.parse(oldest) + WINDOW_MINUTES * 60_000 - Date.now()) / 60_000));
  }
  return 0;
}

export async function recordSignInFailure(email: string, address: string): Promise<void> {
  const at = new Date().toISOString();
  await (await appDb()).insertInto('sign_in_failures').values([{ key: accountKey(email), at }, { key: addressKey(address), at }]).execute();
  // Keep the table small: drop what no window can count any more.
  await (await appDb()).deleteFrom('sign_in_failures').where('at', '<', new Date(Date.now() - 2 * WINDOW_MINUTES * 60_000).toISOString()).execute();
}

export async function clearSignInFailures(email: string): Promise<void> {
  await (await appDb()).deleteFrom('sign_in_failures').where('key', '=', accountKey(email)).execute();
}
