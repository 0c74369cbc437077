import 'server-only';
import { Kysely, sql, type Generated, type RawBuilder, type SqlBool } from 'kysely';
import { openPostgresArea, openSqliteArea } from '@/lib/db/area-db';
import { dialectOf, type DialectName } from '@/lib/db/dialect';
import { migrateArea } from '@/lib/db/migrate';
import { FINDINGS_MIGRATIONS } from '@/lib/db/migrations/findings';
import { nameScopeCondition, type NameScope } from '@/lib/db/name-scope';
import { controlOf } from './controls';
import { ConsumersDb, type ConsumersDatabase } from './consumers-db';
import type { PolicyReading } from './resource-policy';
import { CONTROL_IDS, SEVERITIES, type ControlId, type FindingEvidence, type FindingRecord, type FindingStatus, type Severity } from './types';

// The findings store: what each store's last evaluation raised (and what it raised before and no
// longer does, as resolved), the suppressions reviewers gave, and each store's last evaluation.
// Queries take the caller's grants as one name pattern per store (lib/auth/authorize.ts), so every
// page, count and export is cut by the same check as the other surfaces.

export const FINDINGS_DB_FILE = 'findings.db';
export const FINDINGS_SCHEMA = 'findings';

/** The findings area's migrations (lib/db/migrations/findings.ts), run as the store opens. */
const migrate = (db: Kysely<FindingsDatabase>) => migrateArea(db, 'findings', FINDINGS_MIGRATIONS, FINDINGS_SCHEMA);
const WRITE_BATCH = 500;

export interface FindingsTable {
  store_id: string;
  item_name: string;
  control: string;
  severity_rank: number;
  kind: string;
  arn: string | null;
  account: string | null;
  owner: string | null;
  first_seen_at: string;
  resolved_at: string | null;
  evidence: string;
}

export interface SuppressionsTable {
  id: Generated<number>;
  store_id: string;
  item_name: string;
  control: string;
  reason: string;
  expires_at: string;
  created_by: string;
  created_at: string;
  lifted_at: string | null;
  lifted_by: string | null;
}

export interface RunsTable {
  store_id: string;
  evaluated_at: string;
  inputs: string;
  items: number;
  raised: number;
  duration_ms: number;
}

export interface PoliciesTable {
  store_id: string;
  item_name: string;
  read_at: string;
  reading: string;
}

export interface FindingsDatabase extends ConsumersDatabase {
  resource_policies: PoliciesTable;
  findings: FindingsTable;
  finding_suppressions: SuppressionsTable;
  finding_runs: RunsTable;
}

type Db = Kysely<FindingsDatabase>;

/** One finding as an evaluation raises it, ready to store. */
export interface RaisedRow {
  itemName: string;
  control: ControlId;
  kind: string;
  arn: string | null;
  account: string | null;
  owner: string | null;
  evidence: FindingEvidence;
}

export interface StoreEvaluation {
  storeId: string;
  evaluatedAt: string;
  /** What the evaluation read (inventory sync time, events, day): the next one is skipped when these are unchanged. */
  inputs: string;
  items: number;
  durationMs: number;
  raised: RaisedRow[];
  /** An incremental pass: the items it evaluated (their findings are replaced; every other item's stay as they are). */
  only?: string[];
}

export interface ApplyCounts {
  raised: number;
  resolved: number;
  updated: number;
}

/** The caller's reach in one store: null pattern for every name. */
/** A caller's reach in one store (lib/db/name-scope.ts). */
export type FindingScope = NameScope;

export type StoredFinding = FindingRecord;

export interface FindingsWhere {
  scopes: FindingScope[];
  controls?: readonly ControlId[];
  severities?: readonly Severity[];
  accounts?: readonly string[];
  owners?: readonly string[];
  statuses?: readonly FindingStatus[];
  item?: { storeId: string; name: string };
  now: Date;
}

export interface FindingPosition {
  rank: number;
  storeId: string;
  itemName: string;
  control: string;
}

export interface StoredSuppression {
  id: number;
  storeId: string;
  itemName: string;
  control: ControlId;
  reason: string;
  expiresAt: string;
  createdBy: string;
  createdAt: string;
  liftedAt: string | null;
  liftedBy: string | null;
}

export const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);
const keyOf = (itemName: string, control: string) => `${itemName}\n${control}`;

export class FindingsDb {
  private readonly dialect: DialectName;
  /** The consumer scan's tables, in the same database. */
  readonly consumers: ConsumersDb;

  constructor(
    private readonly db: Db,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.dialect = dialectOf(db);
    this.consumers = new ConsumersDb(db as unknown as Kysely<ConsumersDatabase>);
  }

  static async open(dataDir: string): Promise<FindingsDb> {
    const db = await openSqliteArea<FindingsDatabase>(dataDir, FINDINGS_DB_FILE, migrate);
    return new FindingsDb(db, () => db.destroy());
  }

  static async openPostgres(url: string): Promise<FindingsDb> {
    return new FindingsDb(await openPostgresArea<FindingsDatabase>(url, FINDINGS_SCHEMA, migrate));
  }

  close(): Promise<void> {
    return this.onClose();
  }

  /** The inputs of the store's last evaluation, to skip one that would read the same. */
  async lastRun(storeId: string): Promise<{ evaluatedAt: string; inputs: string } | null> {
    const row = await this.db.selectFrom('finding_runs').select(['evaluated_at', 'inputs']).where('store_id', '=', storeId).executeTakeFirst();
    return row ? { evaluatedAt: row.evaluated_at, inputs: row.inputs } : null;
  }

  async runs(): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('finding_runs').select(['store_id', 'evaluated_at']).execute();
    return new Map(rows.map((r) => [r.store_id, r.evaluated_at]));
  }

  /**
   * Stores one evaluation of a store: new findings raised (or raised again after being resolved),
   * findings still raised keep their first-seen date and take the new evidence, those no longer
   * raised are resolved. Only rows that change are written; one transaction, so readers see the
   * evaluation before or after, never half of it. An incremental evaluation (`only`) reads and
   * replaces the findings of its items alone.
   */
  async applyEvaluation(evaluation: StoreEvaluation): Promise<ApplyCounts> {
    const { storeId, evaluatedAt, only } = evaluation;
    return this.db.transaction().execute(async (trx) => {
      const columns = ['item_name', 'control', 'severity_rank', 'kind', 'arn', 'account', 'owner', 'resolved_at', 'evidence'] as const;
      const existing = [];
      if (!only) existing.push(...(await trx.selectFrom('findings').select(columns).where('store_id', '=', storeId).execute()));
      else
        for (let i = 0; i < only.length; i += WRITE_BATCH)
          existing.push(...(await trx.selectFrom('findings').select(columns).where('store_id', '=', storeId).where('item_name', 'in', only.slice(i, i + WRITE_BATCH)).execute()));
      const before = new Map(existing.map((r) => [keyOf(r.item_name, r.control), r]));
      const inserts: FindingsTable[] = [];
      const updates: FindingsTable[] = [];
      let raisedAgain = 0;
      const seen = new Set<string>();
      for (const f of evaluation.raised) {
        const key = keyOf(f.itemName, f.control);
        if (seen.has(key)) continue;
        seen.add(key);
        const row: FindingsTable = {
          store_id: storeId,
          item_name: f.itemName,
          control: f.control,
          severity_rank: severityRank(controlOf(f.control).severity),
          kind: f.kind,
          arn: f.arn,
          account: f.account,
          owner: f.owner,
          first_seen_at: evaluatedAt,
          resolved_at: null,
          evidence: JSON.stringify(f.evidence),
        };
        const old = before.get(key);
        if (!old) {
          inserts.push(row);
        } else if (old.resolved_at !== null) {
          raisedAgain++;
          updates.push(row);
        } else if (old.evidence !== row.evidence || old.owner !== row.owner || old.arn !== row.arn || old.account !== row.account || old.kind !== row.kind || old.severity_rank !== row.severity_rank) {
          updates.push({ ...row, first_seen_at: '' });
        }
      }
      const resolve = existing.filter((r) => r.resolved_at === null && !seen.has(keyOf(r.item_name, r.control)));
      for (let i = 0; i < inserts.length; i += WRITE_BATCH) await trx.insertInto('findings').values(inserts.slice(i, i + WRITE_BATCH)).execute();
      for (const row of updates) {
        const { store_id, item_name, control, first_seen_at, ...set } = row;
        await trx
          .updateTable('findings')
          .set(first_seen_at ? { ...set, first_seen_at } : set)
          .where('store_id', '=', store_id)
          .where('item_name', '=', item_name)
          .where('control', '=', control)
          .execute();
      }
      for (let i = 0; i < resolve.length; i += WRITE_BATCH) {
        // A list of keys, found through the primary key (an OR of 500 ANDs took four times as long on SQLite).
        const keys = sql.join(resolve.slice(i, i + WRITE_BATCH).map((r) => sql`(${r.item_name}, ${r.control})`));
        await sql`UPDATE findings SET resolved_at = ${evaluatedAt} WHERE store_id = ${storeId} AND (item_name, control) IN (VALUES ${keys})`.execute(trx);
      }
      // An incremental pass knows the store's raised findings from the last run's count and what it changed.
      let raisedNow = seen.size;
      if (only) {
        const last = await trx.selectFrom('finding_runs').select('raised').where('store_id', '=', storeId).executeTakeFirst();
        raisedNow = Number(last?.raised ?? 0) + inserts.length + raisedAgain - resolve.length;
      }
      const run = { evaluated_at: evaluatedAt, inputs: evaluation.inputs, items: evaluation.items, raised: raisedNow, duration_ms: Math.round(evaluation.durationMs) };
      await trx
        .insertInto('finding_runs')
        .values({ store_id: storeId, ...run })
        .onConflict((oc) => oc.column('store_id').doUpdateSet(run))
        .execute();
      return { raised: inserts.length + raisedAgain, resolved: resolve.length, updated: updates.length - raisedAgain };
    });
  }

  /** Each secret's resource policy as last read, for the evaluation. */
  async policyReadings(storeId: string): Promise<Map<string, PolicyReading & { readAt: string }>> {
    const rows = await this.db.selectFrom('resource_policies').select(['item_name', 'read_at', 'reading']).where('store_id', '=', storeId).execute();
    return new Map(rows.map((r) => [r.item_name, { ...(JSON.parse(r.reading) as PolicyReading), readAt: r.read_at }]));
  }

  /** When each secret's policy was last read (the reader picks those never or long ago read). */
  async policyReadTimes(storeId: string): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('resource_policies').select(['item_name', 'read_at']).where('store_id', '=', storeId).execute();
    return new Map(rows.map((r) => [r.item_name, r.read_at]));
  }

  async putPolicyReading(storeId: string, itemName: string, reading: PolicyReading, readAt: string): Promise<void> {
    const row = { read_at: readAt, reading: JSON.stringify(reading) };
    await this.db
      .insertInto('resource_policies')
      .values({ store_id: storeId, item_name: itemName, ...row })
      .onConflict((oc) => oc.columns(['store_id', 'item_name']).doUpdateSet(row))
      .execute();
  }

  /** Forgets a store that is no longer configured. */
  async dropStore(storeId: string): Promise<void> {
    await this.db.deleteFrom('findings').where('store_id', '=', storeId).execute();
    await this.db.deleteFrom('finding_runs').where('store_id', '=', storeId).execute();
    await this.db.deleteFrom('resource_policies').where('store_id', '=', storeId).execute();
  }

  private suppressedSql(now: Date): RawBuilder<SqlBool> {
    return sql<SqlBool>`EXISTS (SELECT 1 FROM finding_suppressions s WHERE s.store_id = findings.store_id AND s.item_name = findings.item_name
      AND s.control = findings.control AND s.lifted_at IS NULL AND s.expires_at > ${now.toISOString()})`;
  }

  private statusSql(status: FindingStatus, now: Date): RawBuilder<SqlBool> {
    if (status === 'resolved') return sql<SqlBool>`findings.resolved_at IS NOT NULL`;
    const suppressed = this.suppressedSql(now);
    return status === 'suppressed' ? sql<SqlBool>`(findings.resolved_at IS NULL AND ${suppressed})` : sql<SqlBool>`(findings.resolved_at IS NULL AND NOT ${suppressed})`;
  }

  /**
   * The WHERE of every query: the caller's stores and names first, then the filters. `inOrder`:
   * the query walks the page order's index; on SQLite a store compared as `+store_id` keeps the
   * planner from choosing the primary key for it (and sorting everything) when every store is whole.
   */
  private whereSql(where: FindingsWhere, inOrder = false): RawBuilder<SqlBool> {
    const parts: RawBuilder<SqlBool>[] = [];
    if (where.scopes.length === 0) return sql<SqlBool>`1 = 0`;
    const whole = where.scopes.every((s) => s.namePattern === null);
    const storeColumn = inOrder && whole && this.dialect === 'sqlite' ? sql<string>`+findings.store_id` : sql<string>`findings.store_id`;
    parts.push(nameScopeCondition(this.dialect, where.scopes, storeColumn, sql<string>`findings.item_name`));
    const inList = (column: string, values: readonly (string | number)[] | undefined) => {
      if (values && values.length > 0) parts.push(sql<SqlBool>`${sql.ref(`findings.${column}`)} IN (${sql.join(values.map((v) => sql`${v}`))})`);
    };
    inList('control', where.controls);
    inList('severity_rank', where.severities?.map(severityRank));
    inList('account', where.accounts);
    inList('owner', where.owners);
    if (where.item) parts.push(sql<SqlBool>`findings.store_id = ${where.item.storeId} AND findings.item_name = ${where.item.name}`);
    const statuses = where.statuses?.length ? where.statuses : (['open'] as const);
    if (statuses.length < 3) parts.push(sql<SqlBool>`(${sql.join(statuses.map((s) => this.statusSql(s, where.now)), sql` OR `)})`);
    return sql<SqlBool>`${sql.join(parts, sql` AND `)}`;
  }

  /**
   * A page in severity, store, item, control order, after `after`. Suppressed findings alone are
   * found from the suppressions in force (few), each joined to its finding, instead of walking the
   * page order past every open finding; the same WHERE cuts them.
   */
  async page(where: FindingsWhere, limit: number, after: FindingPosition | null): Promise<StoredFinding[]> {
    const position = after
      ? sql<SqlBool>` AND (findings.severity_rank, findings.store_id, findings.item_name, findings.control) > (${after.rank}, ${after.storeId}, ${after.itemName}, ${after.control})`
      : sql``;
    const now = where.now.toISOString();
    const suppressedOnly = where.statuses?.length === 1 && where.statuses[0] === 'suppressed';
    // SQLite takes a CROSS JOIN's left side as the outer loop; PostgreSQL plans the join from its statistics.
    const from = suppressedOnly
      ? sql`(SELECT DISTINCT store_id, item_name, control FROM finding_suppressions WHERE lifted_at IS NULL AND expires_at > ${now}) AS held
        CROSS JOIN findings`
      : sql`findings`;
    const held = suppressedOnly ? sql<SqlBool>` AND findings.store_id = held.store_id AND findings.item_name = held.item_name AND findings.control = held.control` : sql``;
    const { rows } = await sql<FindingsTable & { evaluated_at: string | null; s_id: number | null; s_reason: string | null; s_expires_at: string | null; s_created_by: string | null; s_created_at: string | null }>`
      SELECT findings.*, r.evaluated_at, s.id AS s_id, s.reason AS s_reason, s.expires_at AS s_expires_at, s.created_by AS s_created_by, s.created_at AS s_created_at
      FROM ${from}
      LEFT JOIN finding_runs r ON r.store_id = findings.store_id
      LEFT JOIN finding_suppressions s ON s.id = (SELECT max(x.id) FROM finding_suppressions x WHERE x.store_id = findings.store_id
        AND x.item_name = findings.item_name AND x.control = findings.control AND x.lifted_at IS NULL AND x.expires_at > ${now})
      WHERE ${this.whereSql(where, !suppressedOnly)}${held}${position}
      ORDER BY findings.severity_rank, findings.store_id, findings.item_name, findings.control
      LIMIT ${limit}`.execute(this.db);
    return rows.map((r) => {
      const suppression =
        r.s_id !== null && r.resolved_at === null
          ? { id: Number(r.s_id), reason: r.s_reason!, expiresAt: r.s_expires_at!, createdBy: r.s_created_by!, createdAt: r.s_created_at! }
          : null;
      return {
        storeId: r.store_id,
        itemName: r.item_name,
        control: r.control as ControlId,
        severity: SEVERITIES[Number(r.severity_rank)]!,
        status: r.resolved_at !== null ? 'resolved' : suppression ? 'suppressed' : 'open',
        kind: r.kind,
        arn: r.arn,
        account: r.account,
        owner: r.owner,
        firstSeenAt: r.first_seen_at,
        lastSeenAt: r.resolved_at ?? r.evaluated_at ?? r.first_seen_at,
        resolvedAt: r.resolved_at,
        evidence: JSON.parse(r.evidence) as FindingEvidence,
        suppression,
      };
    });
  }

  /**
   * Counts per control and status (open, suppressed, resolved) under the filters (statuses ignored):
   * raised and resolved from one pass over the counts index, the suppressed from the suppressions in
   * force (few) joined to their findings, open the difference.
   */
  async counts(where: Omit<FindingsWhere, 'statuses'>): Promise<{ control: ControlId; status: FindingStatus; n: number }[]> {
    const all = { ...where, statuses: ['open', 'suppressed', 'resolved'] as FindingStatus[] };
    const [raised, suppressed] = await Promise.all([
      sql<{ control: string; resolved: number; n: number }>`
        SELECT control, CASE WHEN resolved_at IS NULL THEN 0 ELSE 1 END AS resolved, count(*) AS n
        FROM findings WHERE ${this.whereSql(all)} GROUP BY 1, 2`.execute(this.db),
      sql<{ control: string; n: number }>`
        SELECT findings.control, count(*) AS n FROM findings
        WHERE ${this.whereSql(all)} AND findings.resolved_at IS NULL AND (findings.store_id, findings.item_name, findings.control) IN (
          SELECT store_id, item_name, control FROM finding_suppressions WHERE lifted_at IS NULL AND expires_at > ${where.now.toISOString()})
        GROUP BY 1`.execute(this.db),
    ]);
    const known = (control: string): control is ControlId => (CONTROL_IDS as readonly string[]).includes(control);
    const out: { control: ControlId; status: FindingStatus; n: number }[] = [];
    const suppressedOf = new Map(suppressed.rows.map((r) => [r.control, Number(r.n)]));
    for (const r of raised.rows) {
      if (!known(r.control)) continue;
      if (Number(r.resolved) === 1) {
        out.push({ control: r.control, status: 'resolved', n: Number(r.n) });
        continue;
      }
      const held = suppressedOf.get(r.control) ?? 0;
      out.push({ control: r.control, status: 'open', n: Number(r.n) - held });
      if (held > 0) out.push({ control: r.control, status: 'suppressed', n: held });
    }
    return out;
  }

  /** Open (unsuppressed, unresolved) findings of one control whose items are of a kind, for cost estimates. */
  async countOpen(where: Omit<FindingsWhere, 'statuses'>, control: ControlId, kind?: string, tier?: string): Promise<number> {
    const extra = kind ? sql<SqlBool>` AND findings.kind = ${kind}` : sql``;
    const tierSql = tier ? sql<SqlBool>` AND findings.evidence LIKE ${`%"tier":"${tier}"%`}` : sql``;
    const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM findings
      WHERE ${this.whereSql({ ...where, controls: [control], statuses: ['open'] })}${extra}${tierSql}`.execute(this.db);
    return Number(rows[0]?.n ?? 0);
  }

  /** Whether the finding is raised now (open or suppressed) inside the scopes. */
  async isRaised(scopes: FindingScope[], storeId: string, itemName: string, control: ControlId, now: Date): Promise<boolean> {
    const rows = await this.page({ scopes, item: { storeId, name: itemName }, controls: [control], statuses: ['open', 'suppressed'], now }, 1, null);
    return rows.length > 0;
  }

  async addSuppression(input: Omit<StoredSuppression, 'id' | 'liftedAt' | 'liftedBy'>): Promise<number> {
    const row = await this.db
      .insertInto('finding_suppressions')
      .values({
        store_id: input.storeId,
        item_name: input.itemName,
        control: input.control,
        reason: input.reason,
        expires_at: input.expiresAt,
        created_by: input.createdBy,
        created_at: input.createdAt,
        lifted_at: null,
        lifted_by: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async suppression(id: number): Promise<StoredSuppression | null> {
    const row = await this.db.selectFrom('finding_suppressions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toSuppression(row) : null;
  }

  /** Lifts a suppression still in force; false when it was lifted already. */
  async liftSuppression(id: number, by: string, at: string): Promise<boolean> {
    const result = await this.db.updateTable('finding_suppressions').set({ lifted_at: at, lifted_by: by }).where('id', '=', id).where('lifted_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Suppressions inside the scopes, newest first. */
  async suppressions(scopes: FindingScope[], limit: number): Promise<StoredSuppression[]> {
    if (scopes.length === 0) return [];
    const cut = nameScopeCondition(this.dialect, scopes, sql<string>`store_id`, sql<string>`item_name`);
    const { rows } = await sql<Omit<SuppressionsTable, 'id'> & { id: number }>`SELECT * FROM finding_suppressions WHERE ${cut} ORDER BY id DESC LIMIT ${limit}`.execute(this.db);
    return rows.map(toSuppression);
  }
}

function toSuppression(row: Omit<SuppressionsTable, 'id'> & { id: number }): StoredSuppression {
  return {
    id: Number(row.id),
    storeId: row.store_id,
    itemName: row.item_name,
    control: row.control as ControlId,
    reason: row.reason,
    expiresAt: row.expires_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
    liftedAt: row.lifted_at,
    liftedBy: row.lifted_by,
  };
}
