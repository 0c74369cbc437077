// The Vault inventory walk's tokens: the work one chain still has, folders to LIST (`l`) and keys
// whose metadata to GET (`g`), all relative to the store's path prefix. Every page is one request.
// A LIST hands what it found to new chains while the walk has room (the sync runs chains
// concurrently under the store's one rate limiter), and keeps the rest. Chains never overlap: each
// folder and key is in exactly one chain's work.

export interface VaultWalkToken {
  l: string[];
  g: string[];
}

/** Keys per chain when found keys are shared out. */
const KEYS_PER_CHAIN = 25;

export function encodeVaultWalkToken(token: VaultWalkToken): string {
  return JSON.stringify(token);
}

export function decodeVaultWalkToken(raw: string | undefined): VaultWalkToken {
  if (raw === undefined) return { l: [], g: [] };
  const parsed = JSON.parse(raw) as VaultWalkToken;
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (typeof parsed !== 'object' || parsed === null || !strings(parsed.l) || !strings(parsed.g)) throw new Error('malformed inventory walk token');
  return parsed;
}

/**
 * What follows a page: the chain's remaining work plus what the page found, as the chain's next
 * token and, with room, forks (at most `forkRoom`, each a folder or a run of keys).
 */
export function nextWork(rest: VaultWalkToken, folders: string[], keys: string[], forkRoom: number): { nextToken?: string; forks?: string[] } {
  const all: VaultWalkToken = { l: [...rest.l, ...folders], g: [...rest.g, ...keys] };
  if (all.l.length === 0 && all.g.length === 0) return {};
  if (forkRoom < 1) return { nextToken: encodeVaultWalkToken(all) };
  const units: VaultWalkToken[] = [];
  for (let i = 0; i < all.g.length; i += KEYS_PER_CHAIN) units.push({ l: [], g: all.g.slice(i, i + KEYS_PER_CHAIN) });
  for (const folder of all.l) units.push({ l: [folder], g: [] });
  const [own, ...others] = units;
  const forks = others.slice(0, forkRoom);
  const kept = others.slice(forkRoom);
  const mine: VaultWalkToken = { l: [...own!.l, ...kept.flatMap((u) => u.l)], g: [...own!.g, ...kept.flatMap((u) => u.g)] };
  return { nextToken: encodeVaultWalkToken(mine), ...(forks.length ? { forks: forks.map(encodeVaultWalkToken) } : {}) };
}
