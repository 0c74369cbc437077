import 'server-only';
import type Database from 'better-sqlite3';
import { FRESHNESS_COLUMNS, freshnessColumnsOf, syncFreshnessColumns } from '@/lib/freshness/columns';
import { freshnessPolicies, type FreshnessPolicySet } from '@/lib/freshness/policies';
import { writeFolderCounts } from '@/lib/inventory/inventory-db';
import { ROW_COLUMNS, toInventoryRow, type InventoryRecord } from '@/lib/inventory/records';
import type { ItemKind } from '../types';

// The built-in store's inventory rows, derived from its own tables. Its writes keep them current;
// this rebuilds them when they are missing or out of step (a database from before the inventory,
// or a store whose id changed in CONFIG_FILE).

export const LOCAL_DETAILS = { type: 'SecureString', dataType: 'text', tier: 'Standard' } as const;

interface ItemWithLabels {
  name: string;
  folder: string;
  kind: string;
  description: string | null;
  kms_key_id: string | null;
  tags: string;
  current_version: number;
  updated_at: string;
  updated_by: string | null;
  labels: string | null;
  failure_at: string | null;
  failure_message: string | null;
}

export interface RecordedRotationFailure {
  at: string;
  message: string;
}

/** The inventory's record of an item; a recorded rotation failure makes it "rotation failing". */
export function embeddedRecord(
  row: Omit<ItemWithLabels, 'labels' | 'failure_at' | 'failure_message'>,
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

/**
 * Rebuilds the store's inventory when its item count differs from the store's; returns whether it
 * did. Either way the freshness columns are brought in line with the policies.
 */
export function ensureEmbeddedInventory(conn: Database.Database, storeId: string, policies: FreshnessPolicySet = freshnessPolicies()): boolean {
  const rebuilt = rebuildIfOutOfStep(conn, storeId, policies);
  syncFreshnessColumns(conn, policies);
  return rebuilt;
}

function rebuildIfOutOfStep(conn: Database.Database, storeId: string, policies: FreshnessPolicySet): boolean {
  const items = conn.prepare('SELECT count(*) FROM items').pluck().get() as number;
  const indexed = conn.prepare('SELECT count(*) FROM inv_items WHERE store_id = ?').pluck().get(storeId) as number;
  const others = conn.prepare('SELECT count(*) FROM inv_items WHERE store_id != ?').pluck().get(storeId) as number;
  if (items === indexed && others === 0) return false;
  const rows = conn
    .prepare(
      `SELECT i.name, i.folder, i.kind, i.description, i.kms_key_id, i.tags, i.current_version, i.updated_at, i.updated_by,
              (SELECT json_group_array(l.label) FROM labels l WHERE l.item_id = i.id AND l.version = i.current_version) AS labels,
              f.at AS failure_at, f.message AS failure_message
       FROM items i LEFT JOIN rotation_failures f ON f.item_id = i.id`,
    )
    .all() as ItemWithLabels[];
  const columns = [...ROW_COLUMNS, ...FRESHNESS_COLUMNS];
  const insert = conn.prepare(`INSERT INTO inv_items (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
  conn.transaction(() => {
    conn.prepare('DELETE FROM inv_items').run();
    for (const row of rows) {
      const failure = row.failure_at ? { at: row.failure_at, message: row.failure_message ?? '' } : null;
      const record = toInventoryRow(storeId, embeddedRecord(row, JSON.parse(row.labels ?? '[]') as string[], failure));
      insert.run({ ...record, ...freshnessColumnsOf(record, policies) });
    }
    const direct = conn.prepare('SELECT folder, count(*) AS n FROM inv_items WHERE store_id = ? GROUP BY folder').all(storeId) as { folder: string; n: number }[];
    conn.prepare('DELETE FROM inv_folders').run();
    writeFolderCounts(conn, storeId, direct);
  })();
  return true;
}
