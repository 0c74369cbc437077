import { ConflictError } from '@/lib/conflict-error';

// A new value for one key of a JSON secret ({"username": …, "password": …}): the other keys stay as
// they were. Runs on the server only; the current value never leaves it. Errors name keys (the
// secret's structure), never a value.

const MAX_KEYS_NAMED = 20;

function keyList(object: Record<string, unknown>): string {
  const keys = Object.keys(object);
  const shown = keys.slice(0, MAX_KEYS_NAMED).map((k) => `"${k.length > 64 ? `${k.slice(0, 64)}…` : k}"`);
  return keys.length > MAX_KEYS_NAMED ? `${shown.join(', ')} and ${keys.length - MAX_KEYS_NAMED} more` : shown.join(', ');
}

function asObject(text: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The value to write: `fresh` alone for a plain secret, or the JSON object with `key` set to
 * `fresh`. A JSON secret without a key, a key it does not have, or a key on a plain secret is
 * refused, so nothing is ever overwritten by mistake.
 */
export function valueWithNewSecret(item: string, current: string, key: string | undefined, fresh: string): string {
  const object = asObject(current);
  if (!object) {
    if (key !== undefined)
      throw new ConflictError(`${item} does not hold a JSON object, so it has no key "${key}"; leave the JSON key empty to replace the whole value.`);
    return fresh;
  }
  if (key === undefined) throw new ConflictError(`${item} holds JSON with the keys ${keyList(object)}; name the key whose value should be replaced.`);
  if (!Object.hasOwn(object, key)) throw new ConflictError(`${item} has no JSON key "${key}"; its keys are ${keyList(object)}.`);
  return JSON.stringify({ ...object, [key]: fresh });
}

/** The only key of a JSON object with exactly one key (a Vault secret such as {"password": …}), else undefined. */
export function soleKeyOf(text: string): string | undefined {
  const object = asObject(text);
  const keys = object ? Object.keys(object) : [];
  return keys.length === 1 ? keys[0] : undefined;
}
