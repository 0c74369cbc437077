import type { ParameterStringFilter } from '@aws-sdk/client-ssm';

// How a Parameter Store inventory walk splits into chains that run concurrently. One
// DescribeParameters chain (NextToken after NextToken, 50 a call) is bound by latency (at 150 ms a
// call, 6.7 calls/s), below the configured DescribeParameters rate (10/s), so a big store is walked
// as several chains, all paced by the sync's one DescribeParameters rate limiter.
//
// A chain is a set of name prefixes (a `Name` filter, Option `BeginsWith`, whose up to 50 Values
// match when any does), or a set of exact names (Option `Equals`), or the whole store (no filter).
// DescribeParameters has no negated filter, so a chain splits by covering its prefixes with longer
// ones: a prefix v whose names were seen to share the longer prefix q is replaced, for every node x
// from v to q (x = v, v+q[len v], …, q), by x+c for every character c that parameter names may
// hold (a-zA-Z0-9_.- and '/', as AWS documents them, plus any other character seen there) but the
// one leading on to q, and by the exact name x itself (Equals). Every name that starts with v is
// either some x or starts with exactly one of those x+c, whatever order AWS answers in, so the
// children cover the parent exactly; the seen names only decide where the cut is. The new prefixes
// are spread over the children (hot ones, those the seen names fall in, first, one per child), up to
// 50 a filter; most are empty and cost nothing but a value in a filter. The whole store splits into
// a few chains only (its first pages show where it starts, not where it is big: in an organisation's
// store all of /scale/ lies after /bulk/), and those split again after their own first page. The
// children re-read what the parent read before it split; pages carry identities (the parameter's name), so the sync counts
// every parameter once, and a looser match on AWS's side (e.g. a leading '/' ignored) could only
// make chains overlap, never miss a parameter.
//
// A call AWS refuses (AccessDeniedException, e.g. an account that denies DescribeParameters under
// some prefixes) does not fail the walk: a chain of several prefixes is halved; a chain of one
// prefix v asks for the exact name v first (Equals v): refused, everything under v is refused and v
// is reported; answered, the walk goes on into v+c for every character c. So the walk narrows down
// to the refused prefixes, reads everything else, and names what it could not read.

/** The characters AWS allows in parameter names ('/' delimits the hierarchy), in byte order. */
export const PARAMETER_NAME_CHARACTERS = [...'-./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'];
/** A DescribeParameters filter takes at most 50 values. */
export const MAX_FILTER_VALUES = 50;
/** Pages the whole-store chain reads before it splits, so stores up to this many pages cost no extra call. */
export const ROOT_PAGES_BEFORE_SPLIT = 3;
/** Pages any other chain reads before it may split (its children re-read them). */
export const PAGES_BEFORE_SPLIT = 1;
/** A chain that has read more pages than this does not split any more (its children would re-read them all). */
export const LATE_SPLIT_UNTIL = 3;
/** Most chains one split makes (filters of 50 values and the exact names). */
export const MAX_SPLIT_CHAINS = 32;
/** Most chains the whole store's split makes. */
export const ROOT_SPLIT_CHAINS = 4;
/** Nodes below a prefix a split expands at most (each costs 65 values in the children's filters). */
const DEPTHS = [24, 12, 6, 3, 1, 0];

export interface SsmChain {
  /** BeginsWith values (any matches); absent with `e` absent: the whole store. */
  b?: string[];
  /** Equals values: exact names. */
  e?: string[];
}

/** The sync's token for one chain: where it is and what it has seen. Opaque to the sync. */
export interface SsmWalkToken extends SsmChain {
  /** AWS NextToken to continue with. */
  t?: string;
  /** Pages this chain has read. */
  k: number;
  /** Names this chain has read, kept while it may still split. */
  s?: string[];
  /** Set once a split was tried and could not be made: the chain does not try again. */
  x?: true;
  /** The Equals call of a refused prefix: answered, the walk goes on below it; refused, the prefix is reported. */
  d?: true;
  /** Made by narrowing a refused chain down, not by a split: it splits after its first page, as the whole store would. */
  r?: true;
  /** Splits that made this chain. */
  g?: number;
}

export function encodeSsmWalkToken(token: SsmWalkToken): string {
  return JSON.stringify(token);
}

export function decodeSsmWalkToken(raw: string | undefined): SsmWalkToken {
  if (raw === undefined) return { k: 0 };
  const parsed = JSON.parse(raw) as SsmWalkToken;
  const strings = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((s) => typeof s === 'string'));
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.k !== 'number' || !strings(parsed.b) || !strings(parsed.e) || !strings(parsed.s) || (parsed.g !== undefined && typeof parsed.g !== 'number'))
    throw new Error('malformed inventory walk token');
  return parsed;
}

/** The DescribeParameters filters of a chain (none for the whole store). */
export function chainFilters(chain: SsmChain): ParameterStringFilter[] | undefined {
  if (chain.e) return [{ Key: 'Name', Option: 'Equals', Values: chain.e }];
  if (chain.b) return [{ Key: 'Name', Option: 'BeginsWith', Values: chain.b }];
  return undefined;
}

/** The chain's filter values alone. */
export function chainOf(token: SsmChain): SsmChain {
  return { ...(token.b ? { b: token.b } : {}), ...(token.e ? { e: token.e } : {}) };
}

/** Whether the chain is the whole store. */
export function isRoot(chain: SsmChain): boolean {
  return chain.b === undefined && chain.e === undefined;
}

/**
 * Whether this chain should split now, having read `pagesRead` pages with more to come: the whole
 * store after its first pages; any other chain in its first pages only while the walk has fewer
 * chains than the rate can keep busy (a split costs a re-read page and a call per child, most of
 * them nearly empty, so it is made only where the walk would otherwise wait on latency).
 */
export function wantsSplit(chain: SsmWalkToken, pagesRead: number, hints: { forkRoom: number; idle?: boolean }): boolean {
  if (hints.forkRoom < 2 || chain.e || chain.x) return false;
  if (isRoot(chain)) return pagesRead === ROOT_PAGES_BEFORE_SPLIT;
  if (chain.r && pagesRead === PAGES_BEFORE_SPLIT) return true;
  // A chain of the whole store's split splits after its first page while the walk has room: the
  // store's first pages show only where it starts (in name order), so a big part of the rest may
  // sit in one of these chains (in the organisation's stores, all of /scale/ after /bulk/).
  if (chain.g === 1 && pagesRead === PAGES_BEFORE_SPLIT) return true;
  return hints.idle === true && pagesRead >= PAGES_BEFORE_SPLIT && pagesRead <= LATE_SPLIT_UNTIL;
}

/** Whether the chain keeps the names it reads (it may still split). */
export function keepsNames(chain: SsmWalkToken, pagesRead: number): boolean {
  return !chain.e && !chain.x && pagesRead <= (isRoot(chain) ? ROOT_PAGES_BEFORE_SPLIT : LATE_SPLIT_UNTIL);
}

function commonPrefix(names: readonly string[]): string {
  let prefix = names[0] ?? '';
  for (const name of names) {
    let i = 0;
    while (i < prefix.length && i < name.length && prefix[i] === name[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

interface Leaf {
  value: string;
  /** Seen names under it. */
  weight: number;
}

/** The prefixes and exact names that cover `values` exactly, expanding at most `depth` nodes below each. */
function expand(values: readonly string[], seen: readonly string[], depth: number): { leaves: Leaf[]; exact: string[]; expanded: boolean } {
  const leaves: Leaf[] = [];
  const exact: string[] = [];
  let expanded = false;
  for (const v of values) {
    const under = seen.filter((name) => name.startsWith(v));
    if (under.length === 0) {
      leaves.push({ value: v, weight: 0 });
      continue;
    }
    expanded = true;
    const q = commonPrefix(under);
    const stop = Math.min(q.length, v.length + depth);
    for (let i = v.length; i <= stop; i++) {
      const x = q.slice(0, i);
      if (x !== '') exact.push(x);
      const onPath = i < stop ? q[i] : undefined;
      // Every name under v starts with q, so with x: a name is under x + c when its character at i
      // is c. One pass counts them all (not one pass over the names per character).
      const counts = new Map<string, number>();
      for (const name of under) if (name.length > i) counts.set(name[i]!, (counts.get(name[i]!) ?? 0) + 1);
      // Every allowed character, and any other one a seen name has there (never rely on the documented set alone).
      const next = new Set([...PARAMETER_NAME_CHARACTERS, ...counts.keys()]);
      for (const c of [...next].sort()) {
        if (c === onPath) continue;
        leaves.push({ value: x + c, weight: counts.get(c) ?? 0 });
      }
    }
  }
  return { leaves, exact, expanded };
}

export interface ChainSplit {
  /** BeginsWith chains, each at most 50 values. */
  prefixes: string[][];
  /** Equals chains of the exact names (the nodes split at), each at most 50. */
  exact: string[][];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Splits the chain of prefixes `values` (undefined: the whole store) that read `seen` into at most
 * `room` chains that cover it exactly; null when it cannot (no seen name to split at, or no room).
 */
export function splitChain(values: readonly string[] | undefined, seen: readonly string[], room: number): ChainSplit | null {
  // The whole store splits into a few chains that split again on their first page (each then sees its own names).
  const limit = Math.min(room, values === undefined ? ROOT_SPLIT_CHAINS : MAX_SPLIT_CHAINS);
  for (const depth of DEPTHS) {
    const { leaves, exact, expanded } = expand(values ?? [''], seen, depth);
    if (!expanded) return null;
    const exactChains = Math.ceil(exact.length / MAX_FILTER_VALUES);
    const hot = leaves.filter((leaf) => leaf.weight > 0).sort((a, b) => b.weight - a.weight);
    const needed = Math.ceil(leaves.length / MAX_FILTER_VALUES);
    if (needed + exactChains > limit) continue;
    // At least one chain per hot prefix (as room allows), so what the seen names show is spread.
    const count = Math.max(needed, Math.min(hot.length, limit - exactChains));
    if (count < 2 && exactChains === 0) return null;
    const prefixes: string[][] = Array.from({ length: count }, () => []);
    let next = 0;
    const place = (value: string) => {
      while (prefixes[next % count]!.length >= MAX_FILTER_VALUES) next++;
      prefixes[next % count]!.push(value);
      next++;
    };
    for (const leaf of hot) place(leaf.value);
    // Prefixes none of the seen names fall in, after the last seen name: if AWS answers in name order
    // (the simulator does; AWS documents no order) the rest of the chain lies there, so they go to the
    // chains without a hot prefix (round-robin, neighbours apart), and the ones before it (likely
    // empty) fill the rest. Only the cost depends on this; the cover is exact in any order.
    const last = seen.reduce((a, b) => (b > a ? b : a), '');
    const coldChains = count - Math.min(hot.length, count);
    let turn = 0;
    for (const leaf of leaves) {
      if (leaf.weight > 0 || !(leaf.value > last)) continue;
      const open = Array.from({ length: coldChains }, (_, i) => hot.length + ((turn + i) % coldChains)).find((i) => prefixes[i]!.length < MAX_FILTER_VALUES);
      if (open === undefined) place(leaf.value);
      else {
        prefixes[open]!.push(leaf.value);
        turn = open - hot.length + 1;
      }
    }
    for (const leaf of leaves) if (leaf.weight === 0 && !(leaf.value > last)) place(leaf.value);
    return { prefixes: prefixes.filter((chain) => chain.length > 0), exact: chunks(exact, MAX_FILTER_VALUES) };
  }
  return null;
}

/** What a refused chain becomes: narrower chains to try, or the prefix (or name) that is refused whole. */
export function afterRefusal(chain: SsmWalkToken): { forks: SsmWalkToken[] } | { refused: string } {
  if (chain.e) {
    if (chain.e.length > 1) return { forks: halves(chain.e).map((e) => ({ e, k: 0, r: true as const })) };
    return { refused: chain.e[0]! };
  }
  const values = chain.b ?? [''];
  if (values.length > 1) return { forks: halves(values).map((b) => ({ b, k: 0, r: true as const })) };
  const v = values[0]!;
  // The whole store: go on into every first character (no name is "").
  if (v === '') return { forks: descend('') };
  // One prefix: is its own name refused too (then all of it is)? The answer decides.
  return { forks: [{ e: [v], k: 0, d: true }] };
}

/** The chains below prefix v: v+c for every allowed character, 50 to a chain. */
export function descend(v: string): SsmWalkToken[] {
  return chunks(
    PARAMETER_NAME_CHARACTERS.map((c) => v + c),
    MAX_FILTER_VALUES,
  ).map((b) => ({ b, k: 0, r: true as const }));
}

function halves<T>(items: readonly T[]): T[][] {
  const mid = Math.ceil(items.length / 2);
  return [items.slice(0, mid), items.slice(mid)];
}
