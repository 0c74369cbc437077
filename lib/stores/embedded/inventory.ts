import 'server-only';
import { sql, type Kysely } from 'kysely';
import { dialectOf } from '@/lib/db/dialect';
import { freshnessColumnsOf, syncFreshnessColumns } from '@/lib/freshness/columns';
import { freshnessPolicies, type FreshnessPolicySet } from '@/lib/freshness/policies';
import { rebuildFolders } from '@/lib/inventory/inventory-db';
import { toInventoryRow, type InventoryRecord } from '@/lib/inventory/records';
import type { InventoryDatabase } from '@/lib/inventory/schema';
import type { ItemKind } from '../types';
import type { EmbeddedDatabase } from './schema';

// The built-in store's inventory rows, derived from its own tables. Its writes keep them current;
// this rebuilds them when they are missing or out of step (a database from before the inventory,
// or a store whose id changed in CONFIG_FILE).

export const LOCAL_DETAILS = { type: 'SecureString', dataType: 'text', tier: 'Standard' } as const;

interface ItemRow {
  id: number;
  name: string;
  folder: string;
  kind: string;
  description: string | null;
  kms_key_id: string | null;
  tags: string;
  current_version: number;
  updated_at: string;
  updated_by: string | null;
  failure_at: string | null;
  failure_message: string | null;
}

export interface RecordedRotationFailure {
  at: string;
  message: string;
}

/** The inventory's record of an item; a recorded rotation failure makes it "rotation failing". */
export function embeddedRecord(
  row: Omit<ItemRow, 'id' | 'failure_at' | 'failure_message'>,
  labels: string[],
  failure: RecordedRotationFailure | null = null,
): InventoryRecord {
  return {
    name: row.name,
    folder: row.folder,
    kind: row.kind as ItemKind,
    description: row.description,
    tags: JSON.parse(row.tags) as Record<string, string>,
    kmsKeyId: row.kms_key_id,
    lastChangedAt: row.updated_at,
    lastChangedBy: row.updated_by,
    currentVersion: String(row.current_version),
    labels: [...labels].sort(),
    extra: { ...LOCAL_DETAILS, type: row.kind, ...(failure ? { rotationFailure: { at: failure.at, message: failure.message } } : {}) },
  };
}

/** The inventory tables share the store's database; kysely sees them through their own schema type. */
export function inventoryDbOf(db: Kysely<EmbeddedDatabase>): Kysely<InventoryDatabase> {
  return db as unknown as Kysely<InventoryDatabase>;
}

/** Rows per INSERT: well under both dialects' limits on bound parameters (about 22 a row). */
const INSERT_BATCH = 200;

/**
 * Rebuilds the store's inventory when its item count differs from the store's; returns whether it
 * did. Either way the freshness columns are brought in line with the policies.
 */
export async function ensureEmbeddedInventory(
  db: Kysely<EmbeddedDatabase>,
  storeId: string,
  policies: FreshnessPolicySet = freshnessPolicies(),
): Promise<boolean> {
  const rebuilt = (await outOfStep(db, storeId)) ? await rebuild(db, storeId, policies) : false;
  await syncFreshnessColumns(inventoryDbOf(db), policies);
  return rebuilt;
}

async function outOfStep(db: Kysely<EmbeddedDatabase>, storeId: string): Promise<boolean> {
  const inv = inventoryDbOf(db);
  const count = (n: { n: number | string | bigint } | undefined) => Number(n?.n ?? 0);
  const items = count(await db.selectFrom('items').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst());
  const countOf = (op: '=' | '!=') =>
    inv.selectFrom('inv_items').select((eb) => eb.fn.countAll<number>().as('n')).where('store_id', op, storeId).executeTakeFirst();
  const indexed = count(await countOf('='));
  const others = count(await countOf('!='));
  return items !== indexed || others !== 0;
}

async function rebuild(db: Kysely<EmbeddedDatabase>, storeId: string, policies: FreshnessPolicySet): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    // Replicas starting together would each rebuild, and a write meanwhile could be lost from the
    // rebuilt rows: this lock waits for writes under way, holds new ones back and lets one
    // rebuilder at a time in; the next one finds the inventory in step.
    if (dialectOf(db) === 'postgres') {
      await sql`LOCK TABLE items IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
      if (!(await outOfStep(trx, storeId))) return false;
    }
    const inv = inventoryDbOf(trx);
    const rows: ItemRow[] = await trx
      .selectFrom('items as i')
      .leftJoin('rotation_failures as f', 'f.item_id', 'i.id')
      .select([
        'i.id',
        'i.name',
        'i.folder',
        'i.kind',
        'i.description',
        'i.kms_key_id',
        'i.tags',
        'i.current_version',
        'i.updated_at',
        'i.updated_by',
        'f.at as failure_at',
        'f.message as failure_message',
      ])
      .execute();
    // Labels on each item's current version, grouped here (json_group_array has no PostgreSQL twin).
    const labelRows = await trx
      .selectFrom('labels as l')
      .innerJoin('items as i', (join) => join.onRef('i.id', '=', 'l.item_id').onRef('i.current_version', '=', 'l.version'))
      .select(['l.item_id', 'l.label'])
      .execute();
    const labels = new Map<number, string[]>();
    for (const { item_id, label } of labelRows) labels.set(item_id, [...(labels.get(item_id) ?? []), label]);

    await inv.deleteFrom('inv_items').execute();
    for (let start = 0; start < rows.length; start += INSERT_BATCH) {
      const values = rows.slice(start, start + INSERT_BATCH).map((row) => {
        const failure = row.failure_at ? { at: row.failure_at, message: row.failure_message ?? '' } : null;
        const record = toInventoryRow(storeId, embeddedRecord(row, labels.get(row.id) ?? [], failure));
        return { ...record, ...freshnessColumnsOf(record, policies) };
      });
      await inv.insertInto('inv_items').values(values).execute();
    }
    // Folder rows of any earlier store id go too, as its items did.
    await inv.deleteFrom('inv_folders').execute();
    await rebuildFolders(inv, storeId);
    return true;
  });
}
