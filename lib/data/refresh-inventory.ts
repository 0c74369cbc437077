import 'server-only';
import { appendAudit } from '@/lib/audit/audit-log';
import { authorize } from '@/lib/auth/authorize';
import { actorOf, type Principal } from '@/lib/auth/principal';
import { ConflictError } from '@/lib/conflict-error';
import { inventorySync } from '@/lib/inventory/inventory';
import { getStore } from '@/lib/stores/registry';

// Refresh: queue a walk of one AWS store now (operators and admins). The built-in store is its own
// inventory and never needs one.

export async function requestInventorySync(principal: Principal, storeId: string): Promise<{ state: 'started' | 'queued' }> {
  await authorize(principal, 'refresh-inventory', { storeId, folder: '/' });
  const store = await getStore(storeId);
  if (!store) throw new ConflictError(`There is no store "${storeId}".`);
  if (store.kind === 'local') throw new ConflictError(`Store "${storeId}" is the built-in store: its inventory is always current.`);
  const state = inventorySync()?.request(storeId) ?? 'unknown';
  if (state === 'unknown') throw new ConflictError(`The inventory sync is not running on this server; restart it to sync "${storeId}".`);
  await appendAudit({ actor: actorOf(principal), action: 'refresh-inventory', target: `${storeId}:/`, outcome: 'success', details: { state } });
  return { state };
}
