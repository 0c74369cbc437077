// The truth the audit benchmark checks the /audit chart against: the own log's reads and writes
// per day under the filters and the caller's grants, counted with plain SQL over audit_log. It is
// written from what the filters and grants mean (README, lib/validations/audit-filters.ts), not
// from the app's code, so a chart that undercounts or overcounts shows as a difference.
import { sql, type Kysely } from 'kysely';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { OWN_READ_ACTIONS, OWN_WRITE_ACTIONS } from './audit-data';

export interface DayCounts {
  reads: number;
  writes: number;
}

/**
 * `grantPaths`: null for an auditor of everything; else folders ('/prod/team03/') whose subtrees
 * the caller may audit in every store. Only item and folder targets ("store:/name") can be reads or
 * writes; an item is readable inside a granted folder, a folder when it lies inside one.
 */
export async function ownChartTruth(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  dialect: 'sqlite' | 'postgres',
  filters: AuditFilters,
  grantPaths: string[] | null,
): Promise<Map<string, DayCounts>> {
  const out = new Map<string, DayCounts>();
  // Source IP and error code exist only in CloudTrail: no own entry passes them.
  if (filters.ip !== undefined || filters.error !== undefined) return out;
  const colon = dialect === 'postgres' ? sql`strpos(target, ':/')` : sql`instr(target, ':/')`;
  const storeOf = sql`substr(target, 1, ${colon} - 1)`;
  const nameOf = sql`substr(target, ${colon} + 1)`;
  const startsWith = (prefix: string) => sql`substr(${nameOf}, 1, ${prefix.length}) = ${prefix}`;
  const where = [sql`action IN (${sql.join([...OWN_READ_ACTIONS, ...OWN_WRITE_ACTIONS])})`, sql`${colon} > 0`];
  if (filters.actor !== undefined) {
    const wanted = filters.actor.toLowerCase();
    const found = dialect === 'postgres' ? sql`strpos(lower(actor), ${wanted})` : sql`instr(lower(actor), ${wanted})`;
    where.push(filters.actorMatch === 'exact' ? sql`lower(actor) = ${wanted}` : sql`${found} > 0`);
  }
  if (filters.event?.length) where.push(sql`action IN (${sql.join(filters.event)})`);
  if (filters.access === 'read') where.push(sql`action IN (${sql.join(OWN_READ_ACTIONS)})`);
  if (filters.access === 'write') where.push(sql`action IN (${sql.join(OWN_WRITE_ACTIONS)})`);
  if (filters.store !== undefined) where.push(sql`${storeOf} = ${filters.store}`);
  if (filters.item !== undefined) where.push(sql`${nameOf} = ${filters.item}`);
  if (filters.path !== undefined) where.push(startsWith(filters.path));
  if (filters.from !== undefined) where.push(sql`at >= ${filters.from}`);
  if (filters.to !== undefined) where.push(sql`at <= ${filters.to}`);
  if (filters.outcome === 'success') where.push(sql`outcome NOT IN ('denied', 'failure')`);
  if (filters.outcome === 'error') where.push(sql`outcome IN ('denied', 'failure')`);
  if (grantPaths) where.push(sql`(${sql.join(grantPaths.map(startsWith), sql` OR `)})`);
  const reads = sql.join(OWN_READ_ACTIONS);
  const { rows } = await sql<{ day: string; reads: number | string; writes: number | string }>`
    SELECT substr(at, 1, 10) AS day,
           sum(CASE WHEN action IN (${reads}) THEN 1 ELSE 0 END) AS reads,
           sum(CASE WHEN action IN (${reads}) THEN 0 ELSE 1 END) AS writes
    FROM audit_log WHERE ${sql.join(where, sql` AND `)} GROUP BY substr(at, 1, 10)`.execute(db);
  for (const r of rows) out.set(r.day, { reads: Number(r.reads), writes: Number(r.writes) });
  return out;
}
