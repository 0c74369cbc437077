import type Database from 'better-sqlite3';

// SQLite has no REGEXP of its own. The inventory and the CloudTrail index cut queries to a caller's
// grants with one regular expression compiled from their path globs, so grants filter inside SQL
// and keyset pages stay exact. Compiled expressions are kept, since one query tests many rows.

const compiled = new Map<string, RegExp>();

export function registerRegexp(conn: Database.Database): void {
  conn.function('regexp', { deterministic: true }, (pattern: unknown, value: unknown) => {
    if (typeof pattern !== 'string' || typeof value !== 'string') return 0;
    let re = compiled.get(pattern);
    if (!re) {
      if (compiled.size > 500) compiled.clear();
      compiled.set(pattern, (re = new RegExp(pattern)));
    }
    return re.test(value) ? 1 : 0;
  });
}
