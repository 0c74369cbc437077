// The one matcher behind every grant. A path glob is compiled once into its levels and one regular
// expression; whether a grant covers a name, reaches a folder or covers a folder's whole subtree,
// and the SQL shortcuts (name ranges, the regular expression queries run) all come from here, so
// no two places can disagree about which names a grant holds.
//
// Names are taken literally: "." and ".." are levels like any other (AWS does not resolve them,
// and the built-in store refuses to write them). Globs: "**" as a whole level is any number of
// levels (none included); "*" is any run of characters within one level; "?" one character;
// "{a,b}" alternatives (expanded before anything else, so they may hold "/").

/** One level of a glob: any number of levels, or a pattern for exactly one level. */
export type GlobLevel = { anyDepth: true } | { anyDepth: false; literal: string | null; source: string };

export interface CompiledGlob {
  /** The brace-free glob this was compiled from. */
  glob: string;
  /** Its levels after the leading "/". */
  levels: GlobLevel[];
  /** The whole glob as one anchored regular expression: the same in JavaScript (flag u), SQLite and PostgreSQL. */
  regex: string;
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\]/g;
const escape = (text: string) => text.replace(REGEX_SPECIAL, '\\$&');
const WILDCARD = /[*?]/;

/** "{a,b}" alternatives expanded, left to right ("/x/{a,b}/{c,d}" gives four globs). */
export function expandBraces(glob: string): string[] {
  const open = glob.indexOf('{');
  if (open < 0) return [glob];
  const close = glob.indexOf('}', open);
  if (close < 0) return [glob];
  const head = glob.slice(0, open);
  const tail = expandBraces(glob.slice(close + 1));
  return glob
    .slice(open + 1, close)
    .split(',')
    .flatMap((alternative) => tail.map((rest) => `${head}${alternative}${rest}`));
}

function compileLevel(level: string): GlobLevel {
  if (level === '**') return { anyDepth: true };
  if (!WILDCARD.test(level)) return { anyDepth: false, literal: level, source: escape(level) };
  // "**" inside a level is a "*" (as picomatch reads it): neither crosses a "/".
  const source = level
    .replace(/\*+/g, '*')
    .split('')
    .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : escape(c)))
    .join('');
  return { anyDepth: false, literal: null, source };
}

const compiledCache = new Map<string, CompiledGlob[]>();

/** A glob as written in a grant, compiled: one entry per brace alternative. */
export function compileGlob(glob: string): CompiledGlob[] {
  let compiled = compiledCache.get(glob);
  if (!compiled) {
    compiled = expandBraces(glob).map((plain) => {
      const levels = plain.split('/').slice(1).map(compileLevel);
      const regex = `^${levels.map((l) => (l.anyDepth ? '(?:/[^/]*)*' : `/${l.source}`)).join('')}$`;
      return { glob: plain, levels, regex };
    });
    if (compiledCache.size > 10_000) compiledCache.clear();
    compiledCache.set(glob, compiled);
  }
  return compiled;
}

const regexCache = new Map<string, RegExp>();

/** A pattern from this module (or several joined with "|") as a JavaScript RegExp, as SQL applies it. */
export function namePatternRegExp(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    if (regexCache.size > 1_000) regexCache.clear();
    regexCache.set(pattern, (re = new RegExp(pattern, 'u')));
  }
  return re;
}

/** Whether a name matches a pattern from globsPattern, exactly as SQL's REGEXP / ~ decides. */
export function matchesNamePattern(pattern: string, name: string): boolean {
  return namePatternRegExp(pattern).test(name);
}

/** One regular expression matching a name when any of the globs does. */
export function globsPattern(globs: readonly string[]): string {
  return globs.flatMap(compileGlob).map((c) => `(?:${c.regex})`).join('|');
}

function levelMatches(level: GlobLevel & { anyDepth: false }, text: string): boolean {
  return level.literal !== null ? level.literal === text : namePatternRegExp(`^${level.source}$`).test(text);
}

/** The levels of a folder path: "/a/b/" -> ["a", "b"], "/" -> []. */
export function folderLevels(folder: string): string[] {
  return folder === '/' ? [] : folder.slice(1, -1).split('/');
}

/** Whether the glob matches a name. */
export function globMatchesName(glob: string, name: string): boolean {
  return compileGlob(glob).some((c) => matchesNamePattern(c.regex, name));
}

/**
 * Whether some name strictly below the folder could match the glob: the folder's levels are a
 * beginning the glob's levels accept, with at least one level of the glob left for the rest.
 */
export function globReachesFolder(glob: string, folder: string): boolean {
  const levels = folderLevels(folder);
  return compileGlob(glob).some((c) => {
    for (let i = 0; i < levels.length; i++) {
      const level = c.levels[i];
      if (level === undefined) return false;
      // "**" takes whatever levels the folder has left, and stays a level for the names below it.
      if (level.anyDepth) return true;
      if (!levelMatches(level, levels[i]!)) return false;
    }
    return c.levels.length > levels.length;
  });
}

/**
 * Whether every name strictly below the folder matches the glob: the folder's levels match the
 * glob's levels one for one and all the glob has left is "**". (A glob that covers a subtree in a
 * more roundabout way, such as "/a/*\/**" below "/a/", is answered false: callers then match
 * name by name, which is slower but never wrong.)
 */
export function globCoversSubtree(glob: string, folder: string): boolean {
  const levels = folderLevels(folder);
  return compileGlob(glob).some((c) => {
    for (let i = 0; i < c.levels.length; i++) {
      const level = c.levels[i]!;
      if (level.anyDepth) return c.levels.slice(i).every((l) => l.anyDepth);
      if (i >= levels.length || !levelMatches(level, levels[i]!)) return false;
    }
    return false;
  });
}

/** Why a glob in a grant can never match a name, or null. */
export function globNeverMatches(glob: string): string | null {
  for (const plain of expandBraces(glob)) {
    const levels = plain.split('/').slice(1);
    if (levels.length === 0 || levels.some((l) => l === '')) return `"${plain}" has an empty level (a "//" or a trailing "/"); write /prod/** for a folder`;
    const dots = levels.find((l) => l === '.' || l === '..');
    if (dots) return `"${plain}" has a "${dots}" level, and no name can: names are taken literally, never resolved`;
  }
  return null;
}

const GLOB = /^\/[a-zA-Z0-9_.\-/*?{},]*$/;
/** Why a path glob as grants (and alert rules' selectors) write it is not valid or can never match, or null. */
export function globProblem(glob: string): string | null {
  if (!GLOB.test(glob)) return 'a path glob starts with "/" and holds only letters, digits, _ . - / and the glob characters * ? { } ,';
  if (/\*{3,}/.test(glob)) return 'a path glob may use * or **, not ***';
  let depth = 0;
  for (const c of glob) {
    depth += c === '{' ? 1 : c === '}' ? -1 : 0;
    if (depth < 0 || depth > 1) return 'a path glob has unbalanced or nested { }';
  }
  if (depth !== 0) return 'a path glob has an unclosed {';
  return globNeverMatches(glob);
}

/** Ranges of names for index scans: what the globs match lies within them. */
export interface NameRanges {
  /** Names beginning with any of these (none inside another). */
  prefixes: string[];
  /** And these names exactly (each one the globs match; none under a prefix). */
  names: string[];
  /** The ranges hold exactly the globs' names (no regular expression needed). */
  exact: boolean;
  /**
   * When not exact: the prefixes whose every name the globs match, so rows there need no regular
   * expression either (absent when there are none); the pattern is needed only in the other prefixes.
   */
  exactPrefixes?: string[];
}

/** Whether every name beginning with this prefix of the ranges matches the globs (no regular expression needed there). */
export function prefixIsExact(ranges: NameRanges, prefix: string): boolean {
  return ranges.exact || (ranges.exactPrefixes?.includes(prefix) ?? false);
}

/** A level that is literal text and then only stars ("pay*", "*"): it matches that text followed by anything but "/". */
const LITERAL_THEN_STAR = /^([^*?]*)\*+$/;

/** Ranges covering every name the globs match; null when a glob may match names with any beginning. */
export function nameRanges(globs: readonly string[]): NameRanges | null {
  // Each prefix, and whether every name beginning with it matches (one glob saying so is enough).
  const prefixes = new Map<string, boolean>();
  const names = new Set<string>();
  const addPrefix = (prefix: string, exact: boolean) => prefixes.set(prefix, exact || (prefixes.get(prefix) ?? false));
  for (const c of globs.flatMap(compileGlob)) {
    // The literal levels before the first wildcard.
    const literals: string[] = [];
    for (const level of c.levels) {
      if (level.anyDepth || level.literal === null) break;
      literals.push(level.literal);
    }
    if (literals.length === c.levels.length) {
      names.add(c.glob);
      continue;
    }
    const literal = `/${literals.join('/')}`;
    const rest = c.levels.slice(literals.length);
    if (literals.length > 0 && rest.every((l) => l.anyDepth)) {
      // "P/**" matches the name P, and P/ with everything after it.
      addPrefix(`${literal}/`, true);
      names.add(literal);
      continue;
    }
    // "P/text*" followed only by "**" levels ("/prod/app-*/**", "/prod/*/**") matches P/text and
    // everything after it: [^/]* then any number of /[^/]* is any text at all.
    const text = LITERAL_THEN_STAR.exec(c.glob.split('/')[literals.length + 1] ?? '')?.[1];
    if (text !== undefined && rest.length > 1 && rest.slice(1).every((l) => l.anyDepth)) {
      const prefix = `${literals.length ? `${literal}/` : '/'}${text}`;
      if (prefix === '/') return null;
      addPrefix(prefix, true);
      continue;
    }
    // The glob's text up to its first wildcard is a beginning every name it matches shares.
    const head = c.glob.slice(0, c.glob.search(WILDCARD));
    if (head === '/' || head === '') return null;
    addPrefix(head, false);
  }
  // A prefix inside another one adds nothing; nor does a name under a prefix.
  const sorted = [...prefixes.keys()].sort();
  const kept = sorted.filter((p, i) => !sorted.slice(0, i).some((q) => p.startsWith(q)));
  return withExactness(
    kept.map((prefix) => ({ prefix, exact: prefixes.get(prefix)! })),
    [...names].filter((n) => !kept.some((p) => n.startsWith(p))).sort(),
  );
}

function withExactness(prefixes: { prefix: string; exact: boolean }[], names: string[]): NameRanges {
  const exact = prefixes.every((p) => p.exact);
  const exactPrefixes = prefixes.filter((p) => p.exact).map((p) => p.prefix);
  return { prefixes: prefixes.map((p) => p.prefix), names, exact, ...(!exact && exactPrefixes.length ? { exactPrefixes } : {}) };
}

/**
 * The ranges cut to the names at or below a folder ("/a/b/"): a prefix the folder lies inside
 * becomes the folder itself (every name below it, when that prefix was exact), ranges elsewhere go.
 */
export function nameRangesBelow(ranges: NameRanges, folder: string): NameRanges {
  if (folder === '/') return ranges;
  const prefixes = ranges.prefixes.flatMap((prefix) =>
    prefix.startsWith(folder) ? [{ prefix, exact: prefixIsExact(ranges, prefix) }] : folder.startsWith(prefix) ? [{ prefix: folder, exact: prefixIsExact(ranges, prefix) }] : [],
  );
  return withExactness(prefixes, ranges.names.filter((n) => n.startsWith(folder)));
}
