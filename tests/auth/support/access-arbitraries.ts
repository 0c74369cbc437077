// Random grants and names for the property tests of the access code, and a brute-force oracle for
// what a glob matches, written level by level and character by character with no regular
// expression, so the matcher (lib/auth/path-glob.ts) is checked against something independent.
import fc from 'fast-check';
import type { Grant } from '@/lib/auth/grants';
import type { Role } from '@/lib/auth/roles';

/** Seeded and reproducible: each run prints its seed, and FC_SEED=… runs that seed again. */
export const FC_SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;
export const FC_PARAMS = { numRuns: Number(process.env.FC_RUNS ?? 300), seed: FC_SEED };
console.info(`property tests: fast-check seed ${FC_SEED} (FC_SEED=${FC_SEED} runs the same cases again)`);

/** Levels of names: shared prefixes, dots, look-alike unicode, literal "." and "..", a rare empty level. */
export const NAME_LEVELS: readonly string[] = [
  'prod', 'payments', 'paymentsx', 'pay', 'staging', 'web', 'db', 'one', 'key', 'a.b', '.hidden', '.', '..',
  'payments.old', 'x-1', 'k_2', 'ＰＲＯＤ', 'prоd', 'pаyments', '😀', 'p?y', 'db*', 'a\nb',
];

/** Levels of globs: the name vocabulary a grant may write, and wildcards. */
const GLOB_LITERALS = ['prod', 'payments', 'paymentsx', 'pay', 'staging', 'web', 'db', 'one', 'key', 'a.b', '.hidden', 'payments.old', 'x-1', 'k_2'] as const;
const GLOB_WILDCARDS = ['*', '**', '**', 'pay*', '*x', 'p?y', '{payments,web}', 'db*', '?', '*.*', '{one,key}'] as const;

export const nameArb = fc
  .array(fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...NAME_LEVELS) }, { weight: 1, arbitrary: fc.constant('') }), { minLength: 1, maxLength: 7 })
  .map((levels) => `/${levels.join('/')}`);

export const globArb = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...GLOB_LITERALS) }, { weight: 2, arbitrary: fc.constantFrom(...GLOB_WILDCARDS) }), { minLength: 1, maxLength: 5 })
  .map((levels) => `/${levels.join('/')}`);

/** A folder path: "/" or "/a/b/". */
export const folderArb = fc
  .array(fc.constantFrom(...NAME_LEVELS.filter((l) => l !== '')), { minLength: 0, maxLength: 5 })
  .map((levels) => (levels.length ? `/${levels.join('/')}/` : '/'));

const ROLE_WEIGHTS: [Role, number][] = [['viewer', 3], ['auditor', 3], ['operator', 2], ['admin', 1]];
export const grantArb = (storeIds: readonly string[]): fc.Arbitrary<Grant> =>
  fc.record({
    role: fc.oneof(...ROLE_WEIGHTS.map(([role, weight]) => ({ weight, arbitrary: fc.constant(role) }))),
    stores: fc.oneof(fc.constant(null), fc.subarray([...storeIds], { minLength: 1 })),
    paths: fc.array(globArb, { minLength: 1, maxLength: 3 }),
  });
export const grantsArb = (storeIds: readonly string[]) => fc.array(grantArb(storeIds), { minLength: 0, maxLength: 3 });

// ---- the oracle ----

function expand(glob: string): string[] {
  const open = glob.indexOf('{');
  if (open < 0) return [glob];
  const close = glob.indexOf('}', open);
  const rest = expand(glob.slice(close + 1));
  return glob.slice(open + 1, close).split(',').flatMap((alt) => rest.map((r) => glob.slice(0, open) + alt + r));
}

/** One level against one level pattern: "*" any run, "?" one character (code point). */
function levelMatches(pattern: string[], text: string[]): boolean {
  if (pattern.length === 0) return text.length === 0;
  if (pattern[0] === '*') return levelMatches(pattern.slice(1), text) || (text.length > 0 && levelMatches(pattern, text.slice(1)));
  if (text.length === 0) return false;
  return (pattern[0] === '?' || pattern[0] === text[0]) && levelMatches(pattern.slice(1), text.slice(1));
}

function levelsMatch(glob: string[], name: string[]): boolean {
  if (glob.length === 0) return name.length === 0;
  if (glob[0] === '**') return levelsMatch(glob.slice(1), name) || (name.length > 0 && levelsMatch(glob, name.slice(1)));
  return name.length > 0 && levelMatches([...glob[0]!], [...name[0]!]) && levelsMatch(glob.slice(1), name.slice(1));
}

/** Whether the glob matches the name, decided the slow and obvious way. */
export function oracleMatches(glob: string, name: string): boolean {
  if (!name.startsWith('/')) return false;
  const nameLevels = name.split('/').slice(1);
  return expand(glob).some((g) => levelsMatch(g.split('/').slice(1), nameLevels));
}

/** Names below a folder that would match the glob if any can: each suffix of the glob's levels, filled in plainly. */
export function witnessesBelow(glob: string, folder: string): string[] {
  const out: string[] = [];
  for (const g of expand(glob)) {
    const levels = g.split('/').slice(1);
    for (let k = 0; k < levels.length; k++) {
      const rest = levels.slice(k);
      const choices = rest.reduce<string[][]>(
        (tails, level) =>
          level === '**'
            ? tails.flatMap((t) => [t, [...t, 'x']])
            : tails.map((t) => [...t, level.replace(/\*+/g, '').replace(/\?/g, 'q')]),
        [[]],
      );
      for (const tail of choices) if (tail.length) out.push(`${folder}${tail.join('/')}`);
    }
  }
  return out;
}

/** The levels of a name's folders, root first: "/a/b/c" -> ["/", "/a/", "/a/b/"]. */
export function foldersAbove(name: string): string[] {
  const levels = name.split('/').slice(1, -1);
  return ['/', ...levels.map((_, i) => `/${levels.slice(0, i + 1).join('/')}/`)];
}
