import 'server-only';
import { appendAudit } from '@/lib/audit/audit-log';
import { notFoundMessage } from '@/lib/auth/authorize';
import { actorOf, type Principal } from '@/lib/auth/principal';
import { ConflictError } from '@/lib/conflict-error';
import { inventoryDb } from '@/lib/inventory/inventory';
import type { InventoryRecord } from '@/lib/inventory/records';
import { logger } from '@/lib/logger';
import { isStoreError } from '@/lib/stores/errors';
import { getStore } from '@/lib/stores/registry';
import { isWritable, readsVersionedValues, type SecretStore, type WritableSecretStore, type WrittenVersion } from '@/lib/stores/types';
import { DEFAULT_ROTATE_SPEC, generateSpecDetails, type GenerateSpec } from './generate-presets';
import { generateSecretValue } from './generate-value';
import { soleKeyOf, valueWithNewSecret } from './json-secret';
import { oncePerRequest, oneAtATime } from './write-guard';

// Rotate and generate, for every writable store. The new value is made here, written, and
// forgotten: the caller gets the new version's id and time, the audit log gets names, the reason
// and the request id. Writes to one item run one at a time, and a request id is carried out once.

export interface WriteRequest {
  storeId: string;
  name: string;
  action: 'rotate' | 'generate';
  /** Why, in the user's words (required, at most 500 characters); goes into the audit log. */
  reason: string;
  /** Made by the browser once per confirmed dialog; a repeat gets the first answer. */
  requestId: string;
  /** For a JSON secret: the key whose value is replaced; the other keys stay. */
  jsonKey?: string;
  /** What to generate; rotate defaults to a 32-character password. */
  spec?: GenerateSpec;
  /**
   * Vault: the version the user saw when confirming; the write's check-and-set is on it, so a
   * version written since (between opening the dialog and confirming) is reported, not overwritten.
   */
  basedOnVersion?: string;
}

export interface WriteOutcome extends WrittenVersion {
  /** How it was written: RotateSecret, PutSecretValue, PutParameter or the built-in store. */
  via: 'RotateSecret' | 'PutSecretValue' | 'PutParameter' | 'built-in' | 'vault-kv';
}

/** What the Secrets Manager adapter adds for rotation through a function (checked by shape). */
interface RotatingStore {
  hasRotationFunction(name: string): Promise<boolean>;
  rotateNow(name: string, requestId: string): Promise<WrittenVersion>;
}

function rotatesInAws(store: SecretStore): store is SecretStore & RotatingStore {
  return store.kind === 'secretsmanager' && typeof (store as Partial<RotatingStore>).rotateNow === 'function';
}

/** AWS adapters give the inventory's record of one item, so pages show a write before the next walk. */
function recordSource(store: SecretStore): ((name: string) => Promise<InventoryRecord | null>) | null {
  const fn = (store as { inventoryRecord?: (name: string) => Promise<InventoryRecord | null> }).inventoryRecord;
  return typeof fn === 'function' ? fn.bind(store) : null;
}

export function readOnlyMessage(storeId: string): string {
  return `Store "${storeId}" is read-only in the dashboard: an admin can set "writable: true" for it in CONFIG_FILE (the README lists the IAM permissions it then needs).`;
}

/** The writable store holding an existing item, or a ConflictError that says why not; nothing is written. */
export async function writableStoreFor(storeId: string, name: string): Promise<WritableSecretStore> {
  const store = await getStore(storeId);
  if (!store) throw new ConflictError(notFoundMessage({ storeId, name }));
  if (!isWritable(store)) throw new ConflictError(readOnlyMessage(store.id));
  return store;
}

async function perform(store: WritableSecretStore, actor: string, request: WriteRequest): Promise<WriteOutcome> {
  const { name } = request;
  if (request.action === 'rotate' && rotatesInAws(store) && (await store.hasRotationFunction(name))) {
    if (request.jsonKey !== undefined)
      throw new ConflictError(`${name} rotates through its own function in AWS, which decides every key; leave the JSON key empty.`);
    return { ...(await store.rotateNow(name, request.requestId)), via: 'RotateSecret' };
  }
  const fresh = generateSecretValue(request.spec ?? DEFAULT_ROTATE_SPEC);
  // Vault: a secret is always a key/value object; the new version is checked against the version
  // read (check-and-set), so a version someone else wrote meanwhile is never overwritten. A secret
  // with a single key needs no key named.
  if (readsVersionedValues(store)) {
    const current = await store.readCurrentValue(name);
    const value = valueWithNewSecret(name, current.value, request.jsonKey ?? soleKeyOf(current.value), fresh);
    const written = await store.writeValue({ name, value, actor, requestId: request.requestId, basedOnVersion: request.basedOnVersion ?? current.version });
    return { ...written, via: 'vault-kv' };
  }
  // Secrets Manager secrets are often JSON; read first so a JSON secret is never replaced whole.
  const value = store.kind === 'secretsmanager' || request.jsonKey !== undefined ? valueWithNewSecret(name, await store.readValue(name), request.jsonKey, fresh) : fresh;
  const written = await store.writeValue({ name, value, actor, requestId: request.requestId, labels: request.action === 'rotate' ? ['rotated'] : [] });
  const via = store.kind === 'secretsmanager' ? 'PutSecretValue' : store.kind === 'ssm' ? 'PutParameter' : 'built-in';
  return { ...written, via };
}

/** The built-in store keeps its last failed rotation, so the item shows as "rotation failing" (AWS keeps its own). */
async function recordRotationFailure(store: SecretStore, name: string, code: string): Promise<void> {
  const record = (store as { recordRotationFailure?: (name: string, message: string) => Promise<void> }).recordRotationFailure;
  if (typeof record !== 'function') return;
  await record.call(store, name, `The dashboard's rotation failed (${code}).`).catch(() => undefined);
}

async function refreshInventory(store: SecretStore, name: string): Promise<void> {
  const source = recordSource(store);
  if (!source) return; // The built-in store writes its inventory with every change.
  try {
    const record = await source(name);
    if (record) await (await inventoryDb()).upsertItem(store.id, record, store.kind === 'ssm');
  } catch (error) {
    // The write happened; the next walk brings the inventory up to date.
    logger.warn({ store: store.id, name, err: isStoreError(error) ? error.code : 'unknown' }, 'could not refresh the inventory after a write');
  }
}

/** Writes a new value (or starts the secret's rotation function) and answers with the new version only. */
export async function writeNewValue(principal: Principal, request: WriteRequest): Promise<WriteOutcome> {
  const actor = actorOf(principal);
  const store = await writableStoreFor(request.storeId, request.name);
  const target = `${store.id}:${request.name}`;
  return oncePerRequest(`${actor}\n${target}\n${request.requestId}`, () =>
    oneAtATime(target, async () => {
      const base = { reason: request.reason, requestId: request.requestId, ...(request.jsonKey !== undefined ? { jsonKey: request.jsonKey } : {}) };
      try {
        const outcome = await perform(store, actor, request);
        await appendAudit({
          actor,
          action: request.action,
          target,
          outcome: 'success',
          details: { ...base, version: outcome.version, via: outcome.via, ...(outcome.via === 'RotateSecret' ? {} : generateSpecDetails(request.spec ?? DEFAULT_ROTATE_SPEC)) },
        });
        await refreshInventory(store, request.name);
        return outcome;
      } catch (error) {
        const code = isStoreError(error) ? error.code : error instanceof ConflictError ? 'refused' : 'error';
        await appendAudit({ actor, action: request.action, target, outcome: 'failure', details: { ...base, error: code } });
        if (request.action === 'rotate' && isStoreError(error) && error.code !== 'not-found') await recordRotationFailure(store, request.name, code);
        if (isStoreError(error) && error.code === 'not-found') throw new ConflictError(notFoundMessage({ storeId: store.id, name: request.name }));
        throw error;
      }
    }),
  );
}
