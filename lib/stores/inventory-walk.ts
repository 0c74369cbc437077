import type { InventoryRecord } from '@/lib/inventory/records';

// What an AWS adapter gives the inventory sync: one page of a whole-store walk at a time, each one
// AWS call made once (the sync paces, retries and counts the calls itself).
//
// A walk may be several chains at once: a page can hand back `forks`, tokens of further chains the
// sync walks concurrently (all under the store's one rate limiter per operation). The chains of a
// walk may overlap (a chain split part-way re-reads what it had read); pages that can overlap carry
// `identities`, so the sync counts and stages every item once.

export interface InventoryPage {
  records: InventoryRecord[];
  /** Items left out because their names cannot be shown in the tree (see checkItemName). */
  skipped: number;
  nextToken?: string;
  /** Tokens of further chains to walk, each from its first page (concurrently with this one). */
  forks?: string[];
  /** One identity (unique in the store) per record, in order, and per skipped item. */
  identities?: { records: string[]; skipped: string[] };
  /**
   * AWS refused this call (AccessDeniedException) and the chain narrowed down instead of failing
   * (Parameter Store): `prefix` when it ended at a name prefix refused whole, which the walk could
   * not read; `message` is the refusal as a StoreError words it (no item, no AWS text).
   */
  denied?: { prefix?: string; message: string };
  /** The chain ended without calling AWS (e.g. its other half had read it all): not a call. */
  noCall?: true;
}

/** Where a store is, for a status that names what fails: the account (when known) and the region. */
export interface StoreLocation {
  account: string | null;
  region: string;
  /** Which credentials the store uses (stores that share them are in one account). */
  credentials: string;
}

export interface InventoryPageHints {
  /** How many more chains this walk accepts; a page forks only if all its forks fit. */
  forkRoom: number;
  /** Whether workers of the walk are idle for want of chains (a chain may split now). */
  idle?: boolean;
  /** Items the last complete walk found (null on the first): a small store need not split. */
  expectedItems?: number | null;
}

export interface InventoryWalkable {
  readonly id: string;
  readonly kind: 'ssm' | 'secretsmanager' | 'vault';
  inventoryPage(token: string | undefined, hints?: InventoryPageHints): Promise<InventoryPage>;
  /** The account and region, when the store knows them (a failing store's status names them). */
  location?(): StoreLocation;
  /** How the store's status names a walk's refused prefixes (default: AWS's words). */
  refusedMessage?(prefixes: readonly string[]): string;
  /** Parameter Store only: tags cost one call per item, so they are fetched apart from the walk. */
  inventoryTags?(name: string): Promise<Record<string, string>>;
}

export function isInventoryWalkable<T extends { kind: string }>(store: T): store is T & InventoryWalkable {
  return (store.kind === 'ssm' || store.kind === 'secretsmanager' || store.kind === 'vault') && typeof (store as Partial<InventoryWalkable>).inventoryPage === 'function';
}
