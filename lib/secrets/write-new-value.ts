import 'server-only';
import { appendAudit } from '@/lib/audit/audit-log';
import { ConflictError } from '@/lib/conflict-error';
import { actorOf, type Principal } from '@/lib/auth/principal';
import { getStore } from '@/lib/stores/registry';
import { isWritable } from '@/lib/stores/types';
import { generateSecretValue, type AlphabetName } from './generate-value';

/**
 * Writes a freshly generated value as a new version of an existing item. The value never leaves
 * the server: the caller gets the new version number, the audit log gets names only.
 */
export async function writeNewValue(
  principal: Principal,
  input: { storeId: string; name: string; length: number; alphabet: AlphabetName; action: 'generate' | 'rotate' },
): Promise<{ version: string }> {
  const store = await getStore(input.storeId);
  const item = store ? await store.getItem(input.name) : null;
  if (!store || !item) throw new ConflictError(`There is no item ${input.name} in store "${input.storeId}".`);
  if (!isWritable(store))
    throw new ConflictError(`Store "${store.id}" is read-only in the dashboard for now; ${input.action} it in AWS.`);
  const { version } = await store.writeValue({
    name: item.name,
    value: generateSecretValue(input.length, input.alphabet),
    actor: actorOf(principal),
    requestId: crypto.randomUUID(),
    labels: input.action === 'rotate' ? ['rotated'] : [],
  });
  await appendAudit({
    actor: actorOf(principal),
    action: input.action,
    target: `${store.id}:${item.name}`,
    outcome: 'success',
    details: { version, length: input.length, alphabet: input.alphabet },
  });
  return { version };
}
