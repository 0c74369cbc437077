import { arnRef, secretRef, ssmParameterRef, ssmPathRef } from './event-mapping';

// A raw CloudTrail event as a scoped caller sees it. One event may name several items
// (GetParameters' names, BatchGetSecretValue's secretIdList, its resources' ARNs, an errors list in
// the response); a caller who may see only some of them gets the event naming only those, so the
// raw JSON never confirms that anything outside their grants exists. Not only the lists the mapper
// reads are cut: every ARN anywhere in the event (but the caller's identity, which the timeline
// shows anyway) and every field that names an item is kept only when it names an item the caller
// may see; what cannot be mapped to one (a KMS key's ARN, a partial name, a filter) is removed, not
// kept. The input is never modified.

type Raw = Record<string, unknown>;

export interface EventVisibility {
  /** Names of the event's items (folders, ending in '/', for path reads) the caller may see, as the index maps them. */
  visible: ReadonlySet<string>;
  /** Every item the event maps to is one the caller may see (then its free-text error message may be shown). */
  everyItemVisible: boolean;
}

/** Fields (any case) whose text names an item: kept only when it is one of the visible ones. */
const NAME_FIELDS = new Set(['name', 'names', 'secretid', 'secretidlist', 'path', 'resourceid', 'arn', 'secretarn', 'parameter_arn', 'parameterarn', 'parametername']);
/** Fields that select items by pattern or prefix: never an item, so never shown to a scoped caller. */
const SELECTOR_FIELDS = new Set(['filters', 'parameterfilters', 'values']);
/** Who made the call: the timeline shows it anyway, and its ARNs are roles and users, not items. */
const IDENTITY_FIELDS = new Set(['userIdentity']);
const ARN_TOKEN = /arn:[^\s"',;()[\]{}]+/g;

const HIDDEN = Symbol('hidden');
type Cut = unknown | typeof HIDDEN;

/** Whether the text names a visible item: a folder when it is a GetParametersByPath `path`, else a parameter, secret or ARN. */
function namesVisibleItem(text: string, visible: ReadonlySet<string>, isPath = false): boolean {
  const refs = isPath ? [ssmPathRef(text, true)] : [ssmParameterRef(text), secretRef(text), arnRef(text)];
  return refs.some((ref) => ref !== null && visible.has(ref.itemName));
}

/**
 * One value, cut. `field` is the lower-cased key it sits under (an array's elements sit under the
 * array's). An object naming a hidden item in one of its own fields is about that item and goes as
 * a whole (a resource, an entry of an errors list); `top` objects only lose the field.
 */
function cut(value: unknown, field: string, visible: ReadonlySet<string>, top = false): Cut {
  if (typeof value === 'string') {
    if (NAME_FIELDS.has(field)) return namesVisibleItem(value.trim(), visible, field === 'path') ? value : HIDDEN;
    // Any other text (an ARN on its own, a description, a message) goes when it quotes an ARN of anything the caller may not see.
    return quotesOnlyVisibleArns(value, visible) ? value : HIDDEN;
  }
  if (Array.isArray(value)) return value.map((v) => cut(v, field, visible)).filter((v) => v !== HIDDEN);
  if (value === null || typeof value !== 'object') return value;
  const copy: Raw = {};
  for (const [key, inner] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (SELECTOR_FIELDS.has(lower)) continue;
    const kept = cut(inner, lower, visible);
    if (kept !== HIDDEN) copy[key] = kept;
    else if (!top) return HIDDEN;
  }
  return copy;
}

function quotesOnlyVisibleArns(text: string, visible: ReadonlySet<string>): boolean {
  return (text.match(ARN_TOKEN) ?? []).every((arn) => namesVisibleItem(arn.replace(/[.:]+$/, ''), visible));
}

/** A free-text message is shown when every item of the event is visible and it quotes no other ARN. */
function messageVisible(message: unknown, visibility: EventVisibility): boolean {
  if (typeof message !== 'string') return true;
  return visibility.everyItemVisible && quotesOnlyVisibleArns(message, visibility.visible);
}

/** The raw event naming only the visible items (see the top of this file). A new object. */
export function redactOtherItems(raw: Raw, visibility: EventVisibility): Raw {
  const copy: Raw = {};
  for (const [key, value] of Object.entries(raw)) {
    if (IDENTITY_FIELDS.has(key)) copy[key] = value;
    else if (key === 'errorMessage') {
      if (messageVisible(value, visibility)) copy[key] = value;
    } else {
      const kept = cut(value, key.toLowerCase(), visibility.visible, true);
      if (kept !== HIDDEN) copy[key] = kept;
    }
  }
  return copy;
}
