import 'server-only';
import { sql, type Kysely } from 'kysely';
import type { ItemConsumers } from './evaluate';
import type { StoreConsumers } from './evaluate-store';

// What the consumer scan keeps, beside the findings (lib/consumers/consumer-scan.ts): which
// workloads name which items, which environment variables look like secrets, and how each
// connection's last scan of each service went. Names, ARNs, variable names and detector names only:
// the environment values the scan examined are never written anywhere.

export const CONSUMER_KINDS = ['lambda-function', 'ecs-task-definition'] as const;
export type ConsumerKind = (typeof CONSUMER_KINDS)[number];

/**
 * How a reference came out: `resolved` to an inventory item; `deleted`, a Secrets Manager secret
 * scheduled for deletion (the inventory leaves those out); `not-found`, a store covers its account
 * and region but holds no such item; `unresolved`, no configured store covers its account and region.
 */
export const RESOLUTIONS = ['resolved', 'deleted', 'not-found', 'unresolved'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export interface ConsumerReferencesTable {
  connection_key: string;
  consumer_kind: string;
  consumer_arn: string;
  consumer_name: string;
  /** ECS: the container; Lambda: null. */
  container: string | null;
  /** The secret's or environment variable's NAME (never its value). */
  variable: string;
  service: string;
  account: string | null;
  region: string | null;
  resolution: string;
  store_id: string | null;
  /**
   * The item's name in the dashboard: the item a resolved or deleted reference names; for not-found
   * and unresolved ones, the name the reference gives (no such item exists in the dashboard).
   */
  item_name: string | null;
  item_arn: string | null;
  deleted_at: string | null;
  seen_at: string;
}

export interface PlainSightTable {
  connection_key: string;
  resource_kind: string;
  resource_arn: string;
  resource_name: string;
  account: string | null;
  region: string | null;
  container: string | null;
  variable: string;
  detector: string;
  seen_at: string;
}

export interface ConsumerScansTable {
  connection_key: string;
  service: string;
  region: string;
  account: string | null;
  /** JSON list of the store ids reached through the connection. */
  store_ids: string;
  attempted_at: string;
  /** When the references and plain-sight rows of this service were last replaced (null: never). */
  scanned_at: string | null;
  /** What the last attempt could not read (null: nothing). */
  error: string | null;
  /** 1 when the last attempt read every workload of the service (so "referenced by nothing" can be told), else 0. */
  complete: number;
  resources: number;
}

export interface ConsumersDatabase {
  consumer_references: ConsumerReferencesTable;
  plain_sight: PlainSightTable;
  consumer_scans: ConsumerScansTable;
}

export interface ConsumerReference {
  consumerKind: ConsumerKind;
  consumerArn: string;
  consumerName: string;
  container: string | null;
  variable: string;
  service: 'ssm' | 'secretsmanager';
  account: string | null;
  region: string | null;
  resolution: Resolution;
  storeId: string | null;
  itemName: string | null;
  itemArn: string | null;
  deletedAt: string | null;
  seenAt: string;
}

export interface PlainSightVariable {
  resourceKind: ConsumerKind;
  resourceArn: string;
  resourceName: string;
  account: string | null;
  region: string | null;
  container: string | null;
  variable: string;
  detector: string;
  seenAt: string;
}

export interface ConsumerScan {
  connectionKey: string;
  service: ConsumerKind;
  region: string;
  account: string | null;
  storeIds: string[];
  attemptedAt: string;
  scannedAt: string | null;
  error: string | null;
  /** The last attempt read every workload of the service. */
  complete: boolean;
  resources: number;
}

const WRITE_BATCH = 200;
/** The resolutions that name an item of the inventory (or a secret scheduled for deletion): what the Used by panel and the evaluation read. */
const NAMING_AN_ITEM: Resolution[] = ['resolved', 'deleted'];

function toReference(r: ConsumerReferencesTable): ConsumerReference {
  return {
    consumerKind: r.consumer_kind as ConsumerKind,
    consumerArn: r.consumer_arn,
    consumerName: r.consumer_name,
    container: r.container,
    variable: r.variable,
    service: r.service as ConsumerReference['service'],
    account: r.account,
    region: r.region,
    resolution: r.resolution as Resolution,
    storeId: r.store_id,
    itemName: r.item_name,
    itemArn: r.item_arn,
    deletedAt: r.deleted_at,
    seenAt: r.seen_at,
  };
}

function toScan(r: ConsumerScansTable): ConsumerScan {
  return {
    connectionKey: r.connection_key,
    service: r.service as ConsumerKind,
    region: r.region,
    account: r.account,
    storeIds: JSON.parse(r.store_ids) as string[],
    attemptedAt: r.attempted_at,
    scannedAt: r.scanned_at,
    error: r.error,
    complete: Number(r.complete) === 1,
    resources: Number(r.resources),
  };
}

export class ConsumersDb {
  constructor(private readonly db: Kysely<ConsumersDatabase>) {}

  /**
   * One service's scan of one connection read to the end: its references and plain-sight
   * variables replace the previous scan's, in one transaction, with the scan's outcome.
   */
  async replaceScan(scan: Omit<ConsumerScan, 'scannedAt'> & { scannedAt: string }, references: ConsumerReference[], plain: PlainSightVariable[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('consumer_references').where('connection_key', '=', scan.connectionKey).where('consumer_kind', '=', scan.service).execute();
      await trx.deleteFrom('plain_sight').where('connection_key', '=', scan.connectionKey).where('resource_kind', '=', scan.service).execute();
      const refRows: ConsumerReferencesTable[] = references.map((r) => ({
        connection_key: scan.connectionKey,
        consumer_kind: r.consumerKind,
        consumer_arn: r.consumerArn,
        consumer_name: r.consumerName,
        container: r.container,
        variable: r.variable,
        service: r.service,
        account: r.account,
        region: r.region,
        resolution: r.resolution,
        store_id: r.storeId,
        item_name: r.itemName,
        item_arn: r.itemArn,
        deleted_at: r.deletedAt,
        seen_at: r.seenAt,
      }));
      for (let i = 0; i < refRows.length; i += WRITE_BATCH) await trx.insertInto('consumer_references').values(refRows.slice(i, i + WRITE_BATCH)).execute();
      const plainRows: PlainSightTable[] = plain.map((p) => ({
        connection_key: scan.connectionKey,
        resource_kind: p.resourceKind,
        resource_arn: p.resourceArn,
        resource_name: p.resourceName,
        account: p.account,
        region: p.region,
        container: p.container,
        variable: p.variable,
        detector: p.detector,
        seen_at: p.seenAt,
      }));
      for (let i = 0; i < plainRows.length; i += WRITE_BATCH) await trx.insertInto('plain_sight').values(plainRows.slice(i, i + WRITE_BATCH)).execute();
      await this.putScanRow(trx, scan);
    });
  }

  /** An attempt that read nothing usable (refused, failed): the previous scan's rows stay. */
  async putScanFailure(scan: Omit<ConsumerScan, 'scannedAt' | 'resources' | 'complete'> & { error: string }): Promise<void> {
    const previous = await this.db
      .selectFrom('consumer_scans')
      .select(['scanned_at', 'resources'])
      .where('connection_key', '=', scan.connectionKey)
      .where('service', '=', scan.service)
      .executeTakeFirst();
    await this.putScanRow(this.db, { ...scan, complete: false, scannedAt: previous?.scanned_at ?? null, resources: Number(previous?.resources ?? 0) });
  }

  private async putScanRow(db: Kysely<ConsumersDatabase>, scan: ConsumerScan): Promise<void> {
    const row = {
      region: scan.region,
      account: scan.account,
      store_ids: JSON.stringify(scan.storeIds),
      attempted_at: scan.attemptedAt,
      scanned_at: scan.scannedAt,
      error: scan.error,
      complete: scan.complete ? 1 : 0,
      resources: scan.resources,
    };
    await db
      .insertInto('consumer_scans')
      .values({ connection_key: scan.connectionKey, service: scan.service, ...row })
      .onConflict((oc) => oc.columns(['connection_key', 'service']).doUpdateSet(row))
      .execute();
  }

  async scans(): Promise<ConsumerScan[]> {
    const rows = await this.db.selectFrom('consumer_scans').selectAll().orderBy('connection_key').orderBy('service').execute();
    return rows.map(toScan);
  }

  /** Workloads naming one item (resolved, or a secret scheduled for deletion), by consumer. */
  async referencesOfItem(storeId: string, itemName: string): Promise<ConsumerReference[]> {
    const rows = await this.db
      .selectFrom('consumer_references')
      .selectAll()
      .where('store_id', '=', storeId)
      .where('item_name', '=', itemName)
      .where('resolution', 'in', NAMING_AN_ITEM)
      .orderBy('consumer_kind')
      .orderBy('consumer_name')
      .orderBy('container')
      .orderBy('variable')
      .execute();
    return rows.map(toReference);
  }

  /** Every reference into a store that names an item (resolved or deleted), for its evaluation. */
  async referencesIntoStore(storeId: string): Promise<ConsumerReference[]> {
    const rows = await this.db.selectFrom('consumer_references').selectAll().where('store_id', '=', storeId).where('resolution', 'in', NAMING_AN_ITEM).execute();
    return rows.map(toReference);
  }

  /**
   * What an evaluation of a store asks of the scan: who names each item, which secrets scheduled for
   * deletion are still named, and whether the scan of the store's own connection read everything.
   */
  async forEvaluation(storeId: string): Promise<StoreConsumers> {
    const [references, scans] = await Promise.all([this.referencesIntoStore(storeId), this.scans()]);
    const byItem = new Map<string, ItemConsumers['consumers']>();
    const deleted: StoreConsumers['deleted'] = new Map();
    for (const r of references) {
      const consumer = { kind: r.consumerKind, name: r.consumerName, arn: r.consumerArn, via: r.container ? `${r.container} ${r.variable}` : r.variable };
      if (r.resolution === 'deleted') {
        const entry = deleted.get(r.itemName!) ?? { deletedAt: r.deletedAt!, arn: r.itemArn, consumers: [] };
        entry.consumers.push(consumer);
        deleted.set(r.itemName!, entry);
      } else {
        const list = byItem.get(r.itemName!) ?? [];
        list.push(consumer);
        byItem.set(r.itemName!, list);
      }
    }
    const own = scans.filter((s) => s.storeIds.includes(storeId));
    const scanComplete = CONSUMER_KINDS.every((kind) => own.some((s) => s.service === kind && s.complete && s.scannedAt !== null));
    const scannedAt = own.length === CONSUMER_KINDS.length ? own.map((s) => s.scannedAt ?? '').reduce((a, b) => (a < b ? a : b)) || null : null;
    return { byItem, deleted, scanComplete, scannedAt };
  }

  /** References that name no item (not found, or outside every configured store). */
  async unresolvedReferences(): Promise<ConsumerReference[]> {
    const rows = await this.db
      .selectFrom('consumer_references')
      .selectAll()
      .where('resolution', 'in', ['not-found', 'unresolved'])
      .orderBy('consumer_kind')
      .orderBy('consumer_name')
      .orderBy('variable')
      .execute();
    return rows.map(toReference);
  }

  async plainSight(): Promise<PlainSightVariable[]> {
    const rows = await this.db.selectFrom('plain_sight').selectAll().orderBy('resource_arn').orderBy('container').orderBy('variable').execute();
    return rows.map((r) => ({
      resourceKind: r.resource_kind as ConsumerKind,
      resourceArn: r.resource_arn,
      resourceName: r.resource_name,
      account: r.account,
      region: r.region,
      container: r.container,
      variable: r.variable,
      detector: r.detector,
      seenAt: r.seen_at,
    }));
  }

  /** Changes whenever a scan writes: part of every evaluation's inputs. */
  async stamp(): Promise<string> {
    const { rows } = await sql<{ n: number; last: string | null }>`SELECT count(*) AS n, max(attempted_at) AS last FROM consumer_scans`.execute(this.db);
    return `${Number(rows[0]?.n ?? 0)}:${rows[0]?.last ?? ''}`;
  }

  /** Forgets connections no longer configured (their workloads are not scanned any more). */
  async keepConnections(keys: readonly string[]): Promise<void> {
    for (const table of ['consumer_references', 'plain_sight', 'consumer_scans'] as const) {
      await this.db
        .deleteFrom(table)
        .$if(keys.length > 0, (q) => q.where('connection_key', 'not in', [...keys]))
        .execute();
    }
  }
}
