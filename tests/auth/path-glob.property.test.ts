import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { grantCoversName, grantCoversSubtree, grantReachesFolder } from '@/lib/auth/grants';
import { globCoversSubtree, globMatchesName, globReachesFolder, globsPattern, matchesNamePattern, nameRanges } from '@/lib/auth/path-glob';
import { FC_PARAMS, foldersAbove, folderArb, globArb, nameArb, oracleMatches, witnessesBelow } from './support/access-arbitraries';

// The one matcher against a brute-force oracle, over random globs and names (shared prefixes,
// dots, "." and ".." levels, look-alike unicode). Every shortcut (folder reach, whole-subtree
// cover, the SQL pattern, the index ranges) must agree with what the oracle says of names.

const inRanges = (ranges: NonNullable<ReturnType<typeof nameRanges>>, name: string) =>
  ranges.names.includes(name) || ranges.prefixes.some((p) => name.startsWith(p));

describe('the grant matcher (property tests)', () => {
  it('matches a name exactly when the oracle does', () => {
    fc.assert(
      fc.property(globArb, fc.array(nameArb, { minLength: 1, maxLength: 20 }), (glob, names) => {
        for (const name of names) expect(globMatchesName(glob, name), `${glob} ${name}`).toBe(oracleMatches(glob, name));
      }),
      FC_PARAMS,
    );
  });

  it('matches names the glob was filled in from (so matches are not rare)', () => {
    fc.assert(
      fc.property(globArb, folderArb, (glob, folder) => {
        for (const name of witnessesBelow(glob, folder)) expect(globMatchesName(glob, name), `${glob} ${name}`).toBe(oracleMatches(glob, name));
      }),
      FC_PARAMS,
    );
  });

  it('reaches every folder above a name it matches, and no folder below which nothing can match', () => {
    fc.assert(
      fc.property(globArb, nameArb, folderArb, (glob, name, folder) => {
        if (oracleMatches(glob, name)) for (const f of foldersAbove(name)) expect(globReachesFolder(glob, f), `${glob} reaches ${f} (holds ${name})`).toBe(true);
        const witnessed = witnessesBelow(glob, folder).some((n) => oracleMatches(glob, n));
        expect(globReachesFolder(glob, folder), `${glob} reaches ${folder}`).toBe(witnessed);
      }),
      FC_PARAMS,
    );
  });

  it('covers a subtree only when every name below the folder matches', () => {
    fc.assert(
      fc.property(globArb, folderArb, fc.array(fc.array(fc.constantFrom('prod', 'x', '.', '..', 'payments', 'one', 'db', ''), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 10 }), (glob, folder, tails) => {
        if (!globCoversSubtree(glob, folder)) return;
        for (const tail of tails) expect(oracleMatches(glob, `${folder}${tail.join('/')}`), `${glob} covers ${folder}`).toBe(true);
      }),
      FC_PARAMS,
    );
  });

  it('gives the SQL pattern and the index ranges the same names', () => {
    fc.assert(
      fc.property(fc.array(globArb, { minLength: 1, maxLength: 3 }), fc.array(nameArb, { minLength: 1, maxLength: 30 }), (globs, names) => {
        const pattern = globsPattern(globs);
        const ranges = nameRanges(globs);
        for (const name of names) {
          const expected = globs.some((g) => oracleMatches(g, name));
          expect(matchesNamePattern(pattern, name), `${globs.join(' ')} ${name}`).toBe(expected);
          if (ranges && expected) expect(inRanges(ranges, name), `${name} in the ranges of ${globs.join(' ')}`).toBe(true);
          if (ranges?.exact && !expected) expect(inRanges(ranges, name), `${name} outside the exact ranges of ${globs.join(' ')}`).toBe(false);
        }
      }),
      FC_PARAMS,
    );
  });
});

describe('the grant matcher at the edges a mutation would move', () => {
  const grant = (...paths: string[]) => ({ role: 'viewer' as const, stores: null, paths });
  it.each([
    // [glob, folder, reaches, covers whole subtree]
    ['/prod/payments/**', '/prod/paymentsx/', false, false],
    ['/prod/payments/**', '/prod/payments/', true, true],
    ['/prod/payments/**', '/prod/payments/db/', true, true],
    ['/prod/payments/**', '/prod/', true, false],
    ['/prod/payments/**', '/', true, false],
    ['/prod/payments/*', '/prod/payments/', true, false],
    ['/prod/payments/*', '/prod/payments/db/', false, false],
    ['/prod/paymentsx/one', '/prod/paymentsx/', true, false],
    ['/prod/paymentsx/one', '/prod/payments/', false, false],
    ['/prod/*/db', '/prod/web/', true, false],
    ['/prod/*/db', '/prod/web/db/', false, false],
    ['/**', '/', true, true],
    ['/**', '/a/b/', true, true],
    ['/*/**', '/', true, false],
    ['/prod/**/password', '/prod/a/b/', true, false],
  ])('%s: folder %s reached %s, whole subtree %s', (glob, folder, reaches, covers) => {
    expect(grantReachesFolder(grant(glob), folder)).toBe(reaches);
    expect(grantCoversSubtree(grant(glob), folder)).toBe(covers);
  });

  it.each([
    ['/prod/payments/**', '/prod/payments', true],
    ['/prod/payments/**', '/prod/paymentsx', false],
    ['/prod/payments/**', '/prod/paymentsx/one', false],
    ['/prod/payments/**', '/prod/payments/../../staging/KEY', true],
    ['/prod/payments/*', '/prod/payments/db/password', false],
    ['/prod/payments/*', '/prod/payments/.hidden', true],
    ['/prod/pay?ents/*', '/prod/payments/k', true],
    ['/prod/pay?ents/*', '/prod/pay/ents/k', false],
    ['/prod/{web,db}/k', '/prod/db/k', true],
    ['/prod/{web,db}/k', '/prod/api/k', false],
    ['/prod/a.b', '/prod/aXb', false],
    ['/prod/*', '/prоd/x', false],
  ])('%s covers %s: %s', (glob, name, expected) => {
    expect(grantCoversName(grant(glob), name)).toBe(expected);
    expect(matchesNamePattern(globsPattern([glob]), name)).toBe(expected);
  });
});
