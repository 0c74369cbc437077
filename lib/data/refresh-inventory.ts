import 'server-only';
import { appendAudit } from '@/lib/audit/audit-log';
import { authorize } from '@/lib/auth/authorize';
import { actorOf, type Principal } from '@/lib/auth/principal';
import { ConflictError } from '@/lib/conflict-error';
import { requestInventoryWalk } from '@/lib/inventory/inventory';
import { StoreError } from '@/lib/stores/errors';
import { isInventoryWalkable } from '@/lib/stores/inventory-walk';
import { getStore } from '@/lib/stores/registry';

// Refresh: queue a walk of one AWS store now (operators and admins). The built-in store is its own
// inventory and never needs one.

export async function requestInventorySync(principal: Principal, storeId: string): Promise<{ state: 'started' | 'queued' }> {
  await authorize(principal, 'refresh-inventory', { storeId, folder: '/' });
  const store = await getStore(storeId);
  if (!store) throw new StoreError('not-found', storeId, `There is no store "${storeId}".`);
  if (store.kind === 'local') throw new ConflictError(`Store "${storeId}" is the built-in store: its inventory is always current.`);
  if (!isInventoryWalkable(store)) throw new ConflictError(`Store "${storeId}" has no inventory to sync.`);
  // Whichever replica holds the sync lease walks; asked from another, the walk is queued for it.
  const state = await requestInventoryWalk(storeId);
  await appendAudit({ actor: actorOf(principal), action: 'refresh-inventory', target: `${storeId}:/`, outcome: 'success', details: { state } });
  return { state };
}
