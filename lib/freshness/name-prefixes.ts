// Where a caller's names begin: the literal beginnings of their path globs ("/prod/payments/**" ->
// "/prod/payments/"), so freshness queries cut to grants walk only the names under them (ranges of
// the (store_id, name) index) instead of matching the grants' regular expression against every row
// of a store. When every glob is a plain folder ("P/**") or a plain name, the ranges are exactly
// what the globs match and the regular expression can be left out; otherwise it still decides.

export interface NameRanges {
  /** Names beginning with any of these. */
  prefixes: string[];
  /** And these names exactly. */
  names: string[];
  /** The ranges hold exactly the globs' names (no regular expression needed). */
  exact: boolean;
}

const GLOB_CHARS = /[*?{}[\]()!+@,]/;

/** Ranges covering every name the globs match (picomatch, dot: true); null when a glob may match anything. */
export function nameRanges(globs: readonly string[]): NameRanges | null {
  const prefixes = new Set<string>();
  const names = new Set<string>();
  let exact = true;
  for (const glob of globs) {
    if (!GLOB_CHARS.test(glob)) {
      names.add(glob);
      continue;
    }
    const folder = glob.endsWith('/**') ? glob.slice(0, -2) : null;
    if (folder !== null && folder.length > 1 && !GLOB_CHARS.test(folder)) {
      // "P/**" matches P/ and everything below it, and the name P itself.
      prefixes.add(folder);
      names.add(folder.slice(0, -1));
      continue;
    }
    exact = false;
    const at = glob.search(GLOB_CHARS);
    const literal = glob.slice(0, at);
    if (literal === '/' || literal === '') return null;
    prefixes.add(literal);
  }
  // A prefix inside another one adds nothing; nor does a name under a prefix.
  const sorted = [...prefixes].sort();
  const kept = sorted.filter((p, i) => !sorted.slice(0, i).some((q) => p.startsWith(q)));
  return { prefixes: kept, names: [...names].filter((n) => !kept.some((p) => n.startsWith(p))).sort(), exact };
}
