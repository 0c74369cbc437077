import type { Filter } from '@aws-sdk/client-secrets-manager';

// How a Secrets Manager inventory walk splits into chains that run concurrently. One ListSecrets
// chain (NextToken after NextToken) is bound by latency (30 ms a call is 33 calls/s), far below the
// ListSecrets quota (100/s), so a big store is walked as several chains, each a disjoint slice of
// the names, all paced by the sync's one ListSecrets rate limiter.
//
// A chain is a name filter: a positive prefix P ("" for every secret) and negated prefixes N, i.e.
// the secrets whose name starts with P and with none of N. AWS documents the `name` filter as a
// case-sensitive prefix match and a leading '!' as its negation; the filters of one call must all
// match. A split of chain (P, N) into children (Q+c, N under Q+c) for a few characters c and a rest
// (P, N + every Q+c) is therefore an exact partition whatever Q and the characters are, and whatever
// order AWS sorts in: the choice of Q and c (from the chain's first and last names) only decides how
// even the slices are. A chain splits after its first page(s) were read; its children re-read those
// names, and the sync counts every secret once by name.

/** ListSecrets takes at most 10 filters a call. */
export const MAX_FILTERS = 10;
/** Pages the whole-store chain reads before it splits, so stores up to this many pages cost no extra call. */
export const ROOT_PAGES_BEFORE_SPLIT = 3;
/** Pages any other chain reads before it splits. */
export const PAGES_BEFORE_SPLIT = 1;
/** The characters a secret name may contain, in byte order. */
export const SECRET_NAME_CHARACTERS = [...'+-./0123456789=@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'];

export interface WalkChain {
  /** Positive name prefix; "" means no positive filter. */
  p: string;
  /** Negated name prefixes. */
  n: string[];
}

/** The sync's token for one chain: where it is and what it has seen. Opaque to the sync. */
export interface WalkToken extends WalkChain {
  /** AWS NextToken to continue with. */
  t?: string;
  /** Pages this chain has read. */
  k: number;
  /** The first name this chain saw (ascending). */
  f?: string;
  /** Set when the next call is the split probe: the chain's last name (descending, 1 result). */
  probe?: true;
}

export function encodeWalkToken(token: WalkToken): string {
  return JSON.stringify(token);
}

export function decodeWalkToken(raw: string | undefined): WalkToken {
  if (raw === undefined) return { p: '', n: [], k: 0 };
  const parsed = JSON.parse(raw) as WalkToken;
  if (typeof parsed.p !== 'string' || !Array.isArray(parsed.n) || typeof parsed.k !== 'number') throw new Error('malformed inventory walk token');
  return parsed;
}

export function chainFilters(chain: WalkChain): Filter[] | undefined {
  const filters: Filter[] = [
    ...(chain.p !== '' ? [{ Key: 'name' as const, Values: [chain.p] }] : []),
    ...chain.n.map((prefix) => ({ Key: 'name' as const, Values: [`!${prefix}`] })),
  ];
  return filters.length > 0 ? filters : undefined;
}

function filterCount(chain: WalkChain): number {
  return (chain.p !== '' ? 1 : 0) + chain.n.length;
}

/** Whether this chain should probe for a split now (after reading `pagesRead` pages, more to come). */
export function wantsSplit(chain: WalkChain, pagesRead: number, forkRoom: number): boolean {
  const after = chain.p === '' && chain.n.length === 0 ? ROOT_PAGES_BEFORE_SPLIT : PAGES_BEFORE_SPLIT;
  return pagesRead === after && forkRoom >= 2 && filterCount(chain) < MAX_FILTERS;
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

/**
 * Splits chain (P, N) whose first name is `first` and last name `last` into children and a rest,
 * at most `forkRoom` chains in all; null when it cannot split (no room for another filter).
 */
export function splitChain(chain: WalkChain, first: string, last: string, forkRoom: number): WalkChain[] | null {
  let q = commonPrefix(first, last);
  // With a case-insensitive filter the names might not start with P; then split right after P.
  if (!q.startsWith(chain.p)) q = chain.p;
  const lo = first[q.length];
  const hi = last[q.length];
  // The characters most likely to hold the names: the first and last names' own, then those between.
  const candidates: string[] = [];
  for (const c of [lo, hi]) if (c !== undefined && SECRET_NAME_CHARACTERS.includes(c) && !candidates.includes(c)) candidates.push(c);
  const from = lo === undefined ? 0 : SECRET_NAME_CHARACTERS.indexOf(lo) + 1;
  const to = hi === undefined ? -1 : SECRET_NAME_CHARACTERS.indexOf(hi);
  for (let i = Math.max(0, from); i < to; i++) if (!candidates.includes(SECRET_NAME_CHARACTERS[i]!)) candidates.push(SECRET_NAME_CHARACTERS[i]!);
  const room = Math.min(MAX_FILTERS - filterCount(chain), forkRoom - 1);
  const children: WalkChain[] = [];
  for (const c of candidates) {
    if (children.length >= room) break;
    const prefix = q + c;
    // A child inside an excluded prefix would be empty.
    if (chain.n.some((excluded) => prefix.startsWith(excluded))) continue;
    children.push({ p: prefix, n: chain.n.filter((excluded) => excluded.startsWith(prefix)) });
  }
  if (children.length === 0) return null;
  return [...children, { p: chain.p, n: [...chain.n, ...children.map((child) => child.p)] }];
}
