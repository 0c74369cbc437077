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
// even the slices are. A chain too long to split that still runs at the walk's tail gets a twin
// reading it in descending order; each half stops on a page holding a name the other half read (the
// descending order is the ascending one reversed, so together they have read it all). The excluded prefixes go up to 10 to a filter: the simulator (and the natural
// reading) excludes a name matching any of them; were AWS to read several negated values more
// loosely, the rest would only overlap its siblings, which the sync's count-once absorbs: no secret
// is ever missed. Positive prefixes are never combined in one filter, since a stricter reading of
// that would drop secrets. A chain splits after its first page(s) were read; its children re-read those
// names, and the sync counts every secret once by name.

/** ListSecrets takes at most 10 filters a call. */
export const MAX_FILTERS = 10;
/** Pages the whole-store chain reads before it splits, so stores up to this many pages cost no extra call. */
export const ROOT_PAGES_BEFORE_SPLIT = 3;
/** Pages any other chain reads before it splits (its children re-read them). */
export const PAGES_BEFORE_SPLIT = 1;
/** Pages a chain reads past its first split chance before it splits at the walk's tail. */
const LATE_SPLIT_AFTER = 2;
/** A chain that has read more pages than this does not split any more (its children would re-read them all). */
const LATE_SPLIT_UNTIL = 4;
/** Characters between the first and last names' own that a split gives chains of their own when many lie between. */
export const SPREAD_CHARACTERS = 3;
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
  /** A few names of the chain's first page, spread over it (for the split). */
  s?: string[];
  /** Set once a split was tried and could not be made: the chain is not probed again. */
  x?: true;
  /** A chain read from both ends: the pair's id (the ascending half and its descending twin). */
  tw?: string;
  /** The descending twin. */
  d?: true;
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

/** ListSecrets takes at most 10 values a filter. */
export const MAX_FILTER_VALUES = 10;
/** Most prefixes one chain may exclude: every filter but the positive one, full. */
export const MAX_EXCLUDED = (MAX_FILTERS - 1) * MAX_FILTER_VALUES;
/** Most children one split makes (besides the rest). */
export const MAX_CHILDREN = 12;

export function chainFilters(chain: WalkChain): Filter[] | undefined {
  const filters: Filter[] = chain.p !== '' ? [{ Key: 'name', Values: [chain.p] }] : [];
  for (let i = 0; i < chain.n.length; i += MAX_FILTER_VALUES)
    filters.push({ Key: 'name', Values: chain.n.slice(i, i + MAX_FILTER_VALUES).map((prefix) => `!${prefix}`) });
  return filters.length > 0 ? filters : undefined;
}

/** Pages a chain reads before it may split. */
export function pagesBeforeSplit(chain: WalkChain): number {
  return chain.p === '' && chain.n.length === 0 ? ROOT_PAGES_BEFORE_SPLIT : PAGES_BEFORE_SPLIT;
}

/**
 * Whether this chain should probe for a split now, having read `pagesRead` pages with more to come:
 * once when it has read its first page(s), and again, a few pages on, when the walk has idle room
 * (its tail is bound by latency, so re-reading those pages in parallel costs no time).
 */
export function wantsSplit(chain: WalkToken, pagesRead: number, hints: { forkRoom: number; idle?: boolean }): boolean {
  if (hints.forkRoom < 2 || chain.n.length >= MAX_EXCLUDED || chain.x || chain.tw) return false;
  const after = pagesBeforeSplit(chain);
  return pagesRead === after || (pagesRead >= after + LATE_SPLIT_AFTER && pagesRead <= LATE_SPLIT_UNTIL && hints.idle === true);
}

/**
 * Whether a chain too far along to split (its children would re-read it all) should get a twin
 * reading it from the other end (descending) at the walk's tail; the two stop where they meet.
 */
export function wantsTwin(chain: WalkToken, pagesRead: number, hints: { forkRoom: number; idle?: boolean }): boolean {
  return hints.idle === true && hints.forkRoom >= 1 && !chain.tw && pagesRead > LATE_SPLIT_UNTIL;
}

/** Up to `count` names spread over a page, for the split. */
export function sampleNames(names: readonly string[], count = 10): string[] {
  if (names.length <= count) return [...names];
  return Array.from({ length: count }, (_, i) => names[Math.floor((i * (names.length - 1)) / (count - 1))]!);
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

/**
 * Splits chain (P, N) whose first name is `first` and last name `last` (and whose first page showed
 * `seen`) into children and a rest, at most `forkRoom` chains in all; null when it cannot split.
 */
export function splitChain(chain: WalkChain, first: string, last: string, forkRoom: number, seen: readonly string[] = []): WalkChain[] | null {
  let q = commonPrefix(first, last);
  // With a case-insensitive filter the names might not start with P; then split right after P.
  if (!q.startsWith(chain.p)) q = chain.p;
  const lo = first[q.length];
  const hi = last[q.length];
  // The characters most likely to hold the names: the first and last names' own, those the first
  // page shows, then a few spread between (names can be anywhere; this only evens the slices).
  const candidates: string[] = [];
  const add = (c: string | undefined) => {
    if (c !== undefined && SECRET_NAME_CHARACTERS.includes(c) && !candidates.includes(c)) candidates.push(c);
  };
  add(lo);
  add(hi);
  for (const name of seen) if (name.startsWith(q)) add(name[q.length]);
  const from = lo === undefined ? 0 : SECRET_NAME_CHARACTERS.indexOf(lo) + 1;
  const to = hi === undefined ? 0 : SECRET_NAME_CHARACTERS.indexOf(hi);
  const between = SECRET_NAME_CHARACTERS.slice(Math.max(0, from), Math.max(0, to));
  const room = Math.min(MAX_CHILDREN, MAX_EXCLUDED - chain.n.length, forkRoom - 1);
  // Few characters between: each its own chain; many (the names are spread out): a few of them.
  const spread = Math.min(between.length <= MAX_CHILDREN ? between.length : SPREAD_CHARACTERS, Math.max(0, room - candidates.length));
  for (let i = 0; i < spread; i++) add(between[Math.floor(((i + 0.5) * between.length) / spread)]);
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
