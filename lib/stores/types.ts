// The one interface every secret backend implements (embedded, Parameter Store, Secrets Manager).
// Everything here is metadata: no type in this file can carry a secret value, except the
// explicit `readValue` / `putValue` calls that the default UI never makes.

export const ITEM_KINDS = ['String', 'StringList', 'SecureString', 'secret'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

export const STORE_KINDS = ['local', 'ssm', 'secretsmanager', 'vault'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** Names are always '/'-separated and start with '/'; folders also end with '/'. */
export interface ItemMetadata {
  /** Full name, e.g. "/prod/payments/stripe-key". Secrets Manager names are shown with a leading '/'. */
  name: string;
  /** Parent folder, e.g. "/prod/payments/". */
  folder: string;
  kind: ItemKind;
  description: string | null;
  tags: Record<string, string>;
  kmsKeyId: string | null;
  /** ISO 8601. */
  lastChangedAt: string;
  lastChangedBy: string | null;
  /** SSM: the version number as a string; Secrets Manager: the AWSCURRENT version id. */
  currentVersion: string;
  /** Labels (SSM) or staging labels (Secrets Manager) on the current version. */
  labels: string[];
}

export interface ItemVersion {
  /** SSM and embedded: "1", "2", ...; Secrets Manager: the version id. */
  id: string;
  /** ISO 8601. */
  createdAt: string;
  createdBy: string | null;
  labels: string[];
  /**
   * The item's metadata as this version was written, where the backend keeps it per version (the
   * built-in store since version metadata was recorded; Parameter Store's history, without tags).
   * Absent fields are not known for this version. What "what changed" compares; never a value.
   */
  metadata?: VersionMetadata;
}

/** Metadata a backend keeps per version; a field left out is not recorded for that version. */
export interface VersionMetadata {
  description?: string | null;
  tags?: Record<string, string>;
  kmsKeyId?: string | null;
  type?: string;
  tier?: string;
  dataType?: string;
  policies?: ParameterPolicy[];
}

export interface ParameterPolicy {
  type: string; // Expiration | ExpirationNotification | NoChangeNotification
  status: string | null;
  text: string;
}

export interface RotationStatus {
  enabled: boolean;
  /** e.g. "rate(30 days)" or "cron(...)" */
  schedule: string | null;
  lastRotatedAt: string | null;
  nextRotationAt: string | null;
  lastAccessedAt: string | null;
  lambdaArn: string | null;
}

/** What a backend knows beyond the common metadata; every field optional. */
export interface ItemDetails {
  arn?: string;
  type?: string;
  tier?: string;
  dataType?: string;
  policies?: ParameterPolicy[];
  rotation?: RotationStatus;
  replicationRegions?: { region: string; status: string | null }[];
  vault?: VaultKeySettings;
}

/** Vault KV v2: a key's settings from its metadata (null: the mount's setting applies). */
export interface VaultKeySettings {
  maxVersions: number | null;
  casRequired: boolean;
  /** Vault's duration text, e.g. "768h0m0s"; null when versions are never deleted by age. */
  deleteVersionAfter: string | null;
  oldestVersion: number;
  /** The current version was deleted (soft) or destroyed: its data cannot be read. */
  currentDeleted: boolean;
}

export interface ItemDetail extends ItemMetadata {
  /** Newest first. */
  versions: ItemVersion[];
  details: ItemDetails;
}

export interface ListOptions {
  /** Folder to list, "/" for the root. Must end with '/'. */
  path: string;
  /** One level (default) or everything below the path. */
  recursive?: boolean;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  /** Page size; stores clamp it to what their backend allows. */
  limit?: number;
}

export interface ListPage {
  items: ItemMetadata[];
  /** Absent on the last page. */
  nextCursor?: string;
}

export interface SecretStore {
  readonly id: string;
  readonly kind: StoreKind;
  /** Human label for pickers, e.g. "prod-params (us-east-1)". */
  readonly label: string;

  /** Items in a folder (one level or recursive), sorted by name, metadata only. */
  list(options: ListOptions): Promise<ListPage>;
  /** Immediate sub-folders of a folder, sorted, each ending with '/'. */
  listFolders(path: string): Promise<string[]>;
  /** Metadata plus every version, or null when the item does not exist. Never reads a value. */
  getItem(name: string): Promise<ItemDetail | null>;
}

export interface PutValueInput {
  name: string;
  value: string;
  kind?: ItemKind;
  description?: string | null;
  tags?: Record<string, string>;
  actor: string;
  labels?: string[];
  /** Defaults to now; the demo seeder back-dates versions. */
  at?: Date;
}

/** What a write by the dashboard (rotate, generate) answers: the new version, never the value. */
export interface WrittenVersion {
  /** SSM and the built-in store: the version number; Secrets Manager: the version id. */
  version: string;
  /** ISO 8601. */
  createdAt: string;
  /** Secrets Manager rotation: the version is AWSPENDING until the rotation function promotes it. */
  pending?: boolean;
}

export interface WriteValueInput {
  name: string;
  value: string;
  actor: string;
  /**
   * The request's idempotency key (a UUID the browser makes once per confirmed dialog): Secrets
   * Manager's ClientRequestToken, so a retried request never writes twice.
   */
  requestId: string;
  /** Built-in store: labels for the new version (e.g. "rotated"). */
  labels?: string[];
  /**
   * Vault: the version the new value was made from (check-and-set): a store that supports it
   * refuses the write when someone else wrote a version since.
   */
  basedOnVersion?: string;
}

/** Stores whose values the server can read, always explicitly (reveal, merging a JSON secret). */
export interface ValueReader {
  /** Reads a plaintext value. Only for explicit, authorised server-side use (reveal, rotation). */
  readValue(name: string, version?: string): Promise<string>;
}

/** Stores the dashboard may write new values to (the built-in store; AWS stores with `writable: true`). */
export interface WritableSecretStore extends SecretStore, ValueReader {
  readonly writable: true;
  writeValue(input: WriteValueInput): Promise<WrittenVersion>;
}

/** Stores that read a value together with the version it is (Vault: the write then checks that version). */
export interface VersionedValueReader {
  readCurrentValue(name: string): Promise<{ value: string; version: string }>;
}

export function readsVersionedValues(store: SecretStore): store is SecretStore & VersionedValueReader {
  return typeof (store as Partial<VersionedValueReader>).readCurrentValue === 'function';
}

export function isWritable(store: SecretStore): store is WritableSecretStore {
  return (store as Partial<WritableSecretStore>).writable === true && typeof (store as Partial<WritableSecretStore>).writeValue === 'function';
}

export function canReadValues(store: SecretStore): store is SecretStore & ValueReader {
  return typeof (store as Partial<ValueReader>).readValue === 'function';
}

/** Stores that can tell whether two versions hold the same value without it leaving them (the built-in store). */
export interface ValueFingerprinter {
  /** Keyed fingerprints of the versions' values, by version; for comparing in the server only. */
  valueFingerprints(name: string, versions: string[]): Promise<Map<string, string>>;
}

export function canFingerprintValues(store: SecretStore): store is SecretStore & ValueFingerprinter {
  return typeof (store as Partial<ValueFingerprinter>).valueFingerprints === 'function';
}
