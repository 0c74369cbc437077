import type Database from 'better-sqlite3';
import { namePatternRegExp } from '@/lib/auth/path-glob';

// SQLite has no REGEXP of its own. The inventory and the CloudTrail index cut queries to a caller's
// grants with one regular expression compiled from their path globs, so grants filter inside SQL
// and keyset pages stay exact. The expression is compiled as the grant matcher compiles it (flag u,
// kept, since one query tests many rows), so SQL and JavaScript agree to the character.

export function registerRegexp(conn: Database.Database): void {
  conn.function('regexp', { deterministic: true }, (pattern: unknown, value: unknown) => {
    if (typeof pattern !== 'string' || typeof value !== 'string') return 0;
    return namePatternRegExp(pattern).test(value) ? 1 : 0;
  });
}
