import { describe, expect, it } from 'vitest';
import { decodeVaultWalkToken, nextWork, type VaultWalkToken } from '@/lib/stores/vault/walk';

// How a Vault walk shares its work: every folder and key ends up in exactly one chain, and a page
// never forks more chains than the walk has room for.

const work = (page: { nextToken?: string; forks?: string[] }): VaultWalkToken[] => [page.nextToken, ...(page.forks ?? [])].filter((t): t is string => t !== undefined).map(decodeVaultWalkToken);

describe('nextWork', () => {
  const folders = Array.from({ length: 7 }, (_, i) => `f${i}/`);
  const keys = Array.from({ length: 130 }, (_, i) => `k${i}`);
  const rest = { l: ['old/'], g: ['old-key'] };

  it.each([0, 1, 3, 10, 100])('with room for %i forks: each folder and key once, at most that many forks', (room) => {
    const page = nextWork(rest, folders, keys, room);
    expect((page.forks ?? []).length).toBeLessThanOrEqual(room);
    const chains = work(page);
    expect(chains.flatMap((c) => c.l).sort()).toEqual([...rest.l, ...folders].sort());
    expect(chains.flatMap((c) => c.g).sort()).toEqual([...rest.g, ...keys].sort());
  });

  it('ends the chain when nothing is left', () => {
    expect(nextWork({ l: [], g: [] }, [], [], 5)).toEqual({});
  });

  it('refuses a malformed token', () => {
    expect(() => decodeVaultWalkToken('{"l":"x"}')).toThrow(/malformed/);
  });
});
