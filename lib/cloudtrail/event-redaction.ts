import { arnRef, secretRef, ssmParameterRef, type ItemRef } from './event-mapping';

// One event may name several items (GetParameters, BatchGetSecretValue). A caller who may see only
// some of them gets the raw event with the others' names taken out, so the raw JSON never
// confirms that an item outside their grants exists.

type Raw = Record<string, unknown>;

function keepVisible(list: unknown, toRef: (v: unknown) => ItemRef | null, visible: ReadonlySet<string>): unknown {
  if (!Array.isArray(list)) return list;
  return list.filter((v) => {
    const ref = toRef(v);
    return ref !== null && visible.has(ref.itemName);
  });
}

/** The raw event naming only the items in `visible` (item names as the index maps them). A new object. */
export function redactOtherItems(raw: Raw, visible: ReadonlySet<string>): Raw {
  const copy: Raw = { ...raw };
  const params = raw.requestParameters;
  if (params && typeof params === 'object' && !Array.isArray(params)) {
    const p = { ...(params as Raw) };
    if ('names' in p) p.names = keepVisible(p.names, ssmParameterRef, visible);
    if ('secretIdList' in p) p.secretIdList = keepVisible(p.secretIdList, secretRef, visible);
    copy.requestParameters = p;
  }
  if (Array.isArray(raw.resources)) {
    copy.resources = raw.resources.filter((r: unknown) => {
      const ref = arnRef(r && typeof r === 'object' ? (r as Raw).ARN : undefined);
      return ref === null ? true : visible.has(ref.itemName);
    });
  }
  return copy;
}
