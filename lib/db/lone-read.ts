/**
 * A lone statement that only reads: a SELECT outside a transaction (kysely begins one with BEGIN,
 * START TRANSACTION or `begin`, and a write starts with its verb). Both dialects send such reads to
 * a connection of their own beside the writers (lib/db/postgres.ts, lib/db/sqlite-dialect.ts).
 */
export function isLoneRead(sqlText: string): boolean {
  return /^\s*select\b/i.test(sqlText);
}
