// Finds malformed percent-encoding in a request's address: a "%" not followed by two hex digits
// ("%ZZ", a lone "%"), or escapes whose bytes are not UTF-8 ("%C0%AF", the truncated "%E0%A4").
// The proxy answers such addresses with a 400 before routing, because Next.js's own router fails
// on them with a 500 when it decodes route parameters. Pure and dependency-free, so the proxy
// (which cannot import server-only modules) and the tests can both use it.

const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first bad escape in `component` (one path segment or query key/value, still encoded):
 * a "%" with fewer than two hex digits after it, or a run of %XX escapes that is not UTF-8.
 * Null when the component decodes.
 */
export function firstBadEscape(component: string): string | null {
  if (decodes(component)) return null;
  let i = component.indexOf('%');
  while (i !== -1) {
    // A run of well-formed %XX escapes starting at i.
    let end = i;
    while (component[end] === '%' && HEX_PAIR.test(component.slice(end + 1, end + 3))) end += 3;
    let run = component.slice(i, end);
    // Leave out the escapes in front that decode on their own ("%41%C0%AF" names "%C0%AF").
    for (let k = run.length - 3; k > 0; k -= 3) {
      if (decodes(run.slice(0, k))) {
        run = run.slice(k);
        break;
      }
    }
    const broken = component[end] === '%' ? brokenEscapeAt(component, end) : '';
    // A run that is not UTF-8 ("%C0%AF"), with the broken escape that cuts it short ("%E0%A4%A").
    if (run !== '' && !decodes(run)) return run + broken;
    if (broken !== '') return broken;
    i = component.indexOf('%', end);
  }
  // decodeURIComponent failed but no single escape could be blamed; name the whole component.
  return component;
}

/** The "%" at `at` with what stands where its two hex digits should be ("%ZZ", "%A", "%"). */
function brokenEscapeAt(component: string, at: number): string {
  const after = component.slice(at + 1, at + 3);
  const cut = after.indexOf('%');
  return `%${cut === -1 ? after : after.slice(0, cut)}`;
}

const HOW_TO_FIX = 'Each "%" must start an escape of two hex digits that encode UTF-8 text; write %25 for a literal "%".';

/**
 * Null when every path segment and every query key and value of the address decodes; otherwise a
 * message naming the first malformed %-escape and where it is.
 *
 * @param pathname the raw (still encoded) path, e.g. "/browse/local/%ZZ"
 * @param search the raw query string, with or without its leading "?", e.g. "?q=%ZZ"
 */
export function malformedUrlProblem(pathname: string, search: string): string | null {
  for (const segment of pathname.split('/')) {
    const bad = firstBadEscape(segment);
    if (bad !== null) return `The address contains a malformed %-escape ("${bad}") in its path. ${HOW_TO_FIX}`;
  }
  const query = search.startsWith('?') ? search.slice(1) : search;
  if (query === '') return null;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    for (const [part, text] of [
      ['name', key],
      ['value', value],
    ] as const) {
      const bad = firstBadEscape(text);
      if (bad === null) continue;
      const where = part === 'name' ? 'a query parameter name' : `the value of query parameter "${describeKey(key)}"`;
      return `The address contains a malformed %-escape ("${bad}") in ${where}. ${HOW_TO_FIX}`;
    }
  }
  return null;
}

/** A query key as the user wrote it, decoded where possible, kept short. */
function describeKey(key: string): string {
  let text = key;
  try {
    text = decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    // keep it encoded
  }
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
