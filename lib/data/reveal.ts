import 'server-only';
import { appendAudit } from '@/lib/audit/audit-log';
import { authorize, notFoundMessage } from '@/lib/auth/authorize';
import { actorOf, type Principal } from '@/lib/auth/principal';
import { ConflictError } from '@/lib/conflict-error';
import { getStore } from '@/lib/stores/registry';
import { canReadValues } from '@/lib/stores/types';
import { StoreError } from '@/lib/stores/errors';

// The one read of a plaintext value the dashboard offers (admins, only where ALLOW_REVEAL is on).
// Authorized and audited here, so no route handler reaches a store on its own.

export async function revealValue(principal: Principal, storeId: string, name: string): Promise<{ store: string; name: string; value: string }> {
  await authorize(principal, 'reveal', { storeId, name });
  const store = await getStore(storeId);
  if (!store || !(await store.getItem(name))) throw new StoreError('not-found', storeId, notFoundMessage({ storeId, name }));
  if (!canReadValues(store)) throw new ConflictError(`Store "${store.id}" does not support revealing values from the dashboard yet.`);
  const value = await store.readValue(name);
  await appendAudit({ actor: actorOf(principal), action: 'reveal', target: `${store.id}:${name}`, outcome: 'success' });
  return { store: store.id, name, value };
}
