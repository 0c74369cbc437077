import type { InventoryRecord } from '@/lib/inventory/records';

// What an AWS adapter gives the inventory sync: one page of a whole-store walk at a time, each one
// AWS call made once (the sync paces, retries and counts the calls itself).

export interface InventoryPage {
  records: InventoryRecord[];
  /** Items left out because their names cannot be shown in the tree (see checkItemName). */
  skipped: number;
  nextToken?: string;
}

export interface InventoryWalkable {
  readonly id: string;
  readonly kind: 'ssm' | 'secretsmanager';
  inventoryPage(token: string | undefined): Promise<InventoryPage>;
  /** Parameter Store only: tags cost one call per item, so they are fetched apart from the walk. */
  inventoryTags?(name: string): Promise<Record<string, string>>;
}

export function isInventoryWalkable<T extends { kind: string }>(store: T): store is T & InventoryWalkable {
  return (store.kind === 'ssm' || store.kind === 'secretsmanager') && typeof (store as Partial<InventoryWalkable>).inventoryPage === 'function';
}
