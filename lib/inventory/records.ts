import { hash } from 'node:crypto';
import type { ItemMetadata, ParameterPolicy, RotationStatus, VaultKeySettings } from '@/lib/stores/types';
import { leafOf } from '@/lib/validations/item-name';
import type { InventoryItemsTable } from './schema';

// What the inventory keeps of one item: the common metadata plus the store-specific extras a
// listing call already returns (Secrets Manager rotation fields, SSM tier and policies). Never a value.

export interface InventoryExtra {
  arn?: string;
  tier?: string;
  type?: string;
  dataType?: string;
  policies?: ParameterPolicy[];
  rotation?: RotationStatus;
  /** Secrets Manager: the version holding AWSPENDING but not AWSCURRENT (a rotation under way, or stuck). */
  pendingVersion?: string;
  /** Secrets Manager: how many versions carry a staging label; 1 means the secret still holds its first value. */
  stagedVersions?: number;
  /** Built-in store: its last rotation failed (cleared by the next successful write). Never a value. */
  rotationFailure?: { at: string; message: string };
  /** Vault KV v2: the key's settings (max_versions, cas_required, delete_version_after). */
  vault?: VaultKeySettings;
}

export interface InventoryRecord extends ItemMetadata {
  extra: InventoryExtra;
}

/** What a walk or a write produces; the freshness columns are derived from it (lib/freshness/columns.ts). */
export type InventoryRow = Omit<InventoryItemsTable, 'id' | 'tags_synced_at' | `fresh_${string}`>;

/** Numbers sort as numbers ("2" before "10"); anything else as text after them. */
export function versionKey(version: string): string {
  return /^\d{1,15}$/.test(version) ? version.padStart(15, '0') : `~${version}`;
}

export function tagText(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k} ${v}`)
    .join(' ');
}

/** The row for an item; `withTags: false` leaves tags out of the fingerprint (SSM lists carry none). */
export function toInventoryRow(storeId: string, record: InventoryRecord, withTags = true): InventoryRow {
  const tags = JSON.stringify(record.tags);
  const text = tagText(record.tags);
  // Built once and finished in place (a walk maps every item through here): the fingerprint is the
  // hash of the row's JSON without it, with the tags blanked when they are kept out of it.
  const row = {
    store_id: storeId,
    name: record.name,
    folder: record.folder,
    leaf: leafOf(record.name),
    kind: record.kind,
    description: record.description,
    tags: withTags ? tags : '',
    tag_text: withTags ? text : '',
    kms_key_id: record.kmsKeyId,
    last_changed_at: record.lastChangedAt,
    // '' rather than NULL, so keyset paging by this column never meets NULL.
    last_changed_by: record.lastChangedBy ?? '',
    version: record.currentVersion,
    version_key: versionKey(record.currentVersion),
    labels: JSON.stringify(record.labels),
    extra: JSON.stringify(record.extra),
  } as InventoryRow;
  // crypto.hash: one call instead of a Hash object per item; the same SHA-256.
  row.fingerprint = hash('sha256', JSON.stringify(row), 'base64url').slice(0, 22);
  row.tags = tags;
  row.tag_text = text;
  return row;
}

export const ROW_COLUMNS = [
  'store_id',
  'name',
  'folder',
  'leaf',
  'kind',
  'description',
  'tags',
  'tag_text',
  'kms_key_id',
  'last_changed_at',
  'last_changed_by',
  'version',
  'version_key',
  'labels',
  'extra',
  'fingerprint',
] as const satisfies readonly (keyof InventoryRow)[];
