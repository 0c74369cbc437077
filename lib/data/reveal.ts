import 'server-only';
import { appendAudit } from '@/lib/audit/audit-log';
import { authorize, notFoundMessage } from '@/lib/auth/authorize';
import { actorOf, type Principal } from '@/lib/auth/principal';
import { ConflictError } from '@/lib/conflict-error';
import { getStore } from '@/lib/stores/registry';
import { canReadValues } from '@/lib/stores/types';
import { isStoreError, StoreError } from '@/lib/stores/errors';

// The one read of a plaintext value the dashboard offers (admins, only where ALLOW_REVEAL is on).
// Authorized and audited here, so no route handler reaches a store on its own. Every attempt past
// authorization is audited with its reason (not secret); the value never goes into the log.

export interface RevealedValue {
  store: string;
  name: string;
  /** The version read: the item's current version when the read began. */
  version?: string;
  value: string;
}

export async function revealValue(principal: Principal, storeId: string, name: string, reason: string): Promise<RevealedValue> {
  await authorize(principal, 'reveal', { storeId, name });
  const audit = (outcome: 'success' | 'failure', extra: Record<string, string>) =>
    appendAudit({ actor: actorOf(principal), action: 'reveal', target: `${storeId}:${name}`, outcome, details: { reason, ...extra } });
  try {
    const store = await getStore(storeId);
    const item = store ? await store.getItem(name) : null;
    if (!store || !item) throw new StoreError('not-found', storeId, notFoundMessage({ storeId, name }));
    if (!canReadValues(store)) throw new ConflictError(`Store "${store.id}" does not support revealing values from the dashboard yet.`);
    // Read the version just looked up, so the version answered is the one whose value is shown
    // even if a write lands in between.
    const value = await store.readValue(name, item.currentVersion);
    await audit('success', { version: item.currentVersion });
    return { store: store.id, name, version: item.currentVersion, value };
  } catch (error) {
    // The code only: a message could quote more than the auditors need.
    await audit('failure', { code: failureCode(error) });
    throw error;
  }
}

function failureCode(error: unknown): string {
  if (isStoreError(error)) return error.code;
  if (error instanceof ConflictError) return 'unsupported';
  return error instanceof Error ? error.name : 'unknown';
}
