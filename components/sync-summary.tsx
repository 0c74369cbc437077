import Link from 'next/link';
import { formatDistanceToNowStrict } from 'date-fns';
import type { InventoryStatus } from '@/lib/data/inventory-types';
import { browseHref } from '@/lib/links';

/** In the header of every page: how fresh the synced stores' (AWS, Vault) inventories are, worst first. */
export function SyncSummary({ statuses }: { statuses: InventoryStatus[] }) {
  const synced = statuses.filter((s) => !s.live);
  if (synced.length === 0) return null;
  // A walk refused under some prefixes only completed: not a failure (its store's strip names them).
  const failing = synced.find((s) => s.error && !s.error.partial);
  const walking = synced.find((s) => s.walking && !s.syncedAt);
  const oldest = synced
    .filter((s) => s.syncedAt)
    .sort((a, b) => Date.parse(a.syncedAt!) - Date.parse(b.syncedAt!))[0];
  const target = failing ?? walking ?? oldest ?? synced[0]!;
  const text = failing
    ? `Sync of ${failing.storeId} failed`
    : walking
      ? `Syncing ${walking.storeId}…`
      : oldest
        ? `Synced ${formatDistanceToNowStrict(new Date(oldest.syncedAt!), { addSuffix: true })}`
        : 'Not synced yet';
  return (
    <Link
      href={browseHref(target.storeId, '/')}
      data-testid="sync-summary"
      title={synced.map((s) => `${s.storeId}: ${s.syncedAt ? `synced ${s.syncedAt}` : 'not synced yet'}${s.error ? (s.error.partial ? ` (except under ${s.kind === 'vault' ? "paths Vault's policy refused" : 'prefixes AWS refused'}: ${s.error.code})` : ` (last sync failed: ${s.error.code})`) : ''}`).join('\n')}
      className={`text-xs ${failing ? 'text-red-700' : 'text-slate-500'} hover:underline`}
    >
      {text}
    </Link>
  );
}
