import 'server-only';
import type { VaultStoreConfig } from '@/lib/config/stores';
import { ConflictError } from '@/lib/conflict-error';
import type { InventoryRecord } from '@/lib/inventory/records';
import { checkFolderPath, checkItemName, folderOf } from '@/lib/validations/item-name';
import { clampPageSize, decodeCursor, encodeCursor, listingKey } from '../aws-paging';
import { refuseBadName, StoreError } from '../errors';
import type { InventoryPage, InventoryPageHints } from '../inventory-walk';
import type { ItemDetail, ItemMetadata, ItemVersion, ListOptions, ListPage, SecretStore, VaultKeySettings, WriteValueInput, WrittenVersion } from '../types';
import { VaultClient, type VaultAnswer, type VaultClientOptions } from './client';
import { decodeVaultWalkToken, encodeVaultWalkToken, nextWork, type VaultWalkToken } from './walk';

// HashiCorp Vault KV v2 as a store. Browsing reads metadata only: LIST on `metadata/` for folders
// and keys, GET `metadata/<key>` for versions, custom_metadata and the key's settings. `data/` is
// read only by readValue (reveal, and the read before a rotation) and written only by writeValue
// where the store is `writable: true`, always with check-and-set on the version read.
//
// Names: a key `apps/web/db` under the configured pathPrefix shows as `/apps/web/db`. The
// custom_metadata entry `description` is the item's description; every other entry is a tag (so
// `owner` and `team` work as they do for the AWS stores).

const PAGE_SIZE = 100;
/** A recursive listing outside the inventory gathers at most this many keys. */
const MAX_RECURSIVE_KEYS = 10_000;
const EPOCH = new Date(0).toISOString();

interface VaultMetadata {
  created_time?: string;
  updated_time?: string;
  current_version?: number;
  oldest_version?: number;
  max_versions?: number;
  cas_required?: boolean;
  delete_version_after?: string;
  custom_metadata?: Record<string, string> | null;
  versions?: Record<string, { created_time?: string; deletion_time?: string; destroyed?: boolean }>;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function isPast(time: string | undefined, now: number): boolean {
  if (!time) return false;
  const at = Date.parse(time);
  return !Number.isNaN(at) && at <= now;
}

export class VaultStore implements SecretStore {
  readonly kind = 'vault' as const;
  readonly writable: boolean;
  private mountChecked: Promise<void> | null = null;

  constructor(
    readonly id: string,
    readonly label: string,
    readonly client: VaultClient,
    private readonly mount: string,
    /** Folder of the mount browsed, '' or ending with '/'. */
    private readonly prefix: string,
    writable: boolean,
  ) {
    // isWritable() needs `writable === true`: a read-only store is never written by the dashboard.
    this.writable = writable;
  }

  /** Opens nothing: the first call logs in, so start-up works while Vault is away. */
  static fromConfig(config: VaultStoreConfig, overrides: Partial<VaultClientOptions> = {}): VaultStore {
    const client = new VaultClient({
      storeId: config.id,
      address: config.address,
      ...(config.namespace ? { namespace: config.namespace } : {}),
      auth: config.auth,
      ...(config.caFile ? { caFile: config.caFile } : {}),
      rate: config.rate,
      concurrency: config.concurrency,
      ...overrides,
    });
    const prefix = config.pathPrefix ? `${config.pathPrefix}/` : '';
    return new VaultStore(config.id, config.label ?? `${config.id} (Vault ${config.mount}/${prefix})`, client, config.mount, prefix, config.writable === true);
  }

  private head(): string {
    return `Store "${this.id}"`;
  }

  /** Closes the client's connections (tests, shutdown); the next call opens them again. */
  async close(): Promise<void> {
    this.client.close();
  }

  // ---- paths ----------------------------------------------------------------------------------

  /** The key under the mount for an item name ('/a/b' → 'prefix/a/b'). */
  private keyOf(name: string): string {
    return this.prefix + name.slice(1);
  }

  /** The item name of a key relative to the prefix ('a/b' → '/a/b'). */
  private nameOf(relative: string): string {
    return `/${relative}`;
  }

  private metadataPath(relative: string): string {
    return `${this.mount}/metadata/${encodePath(this.prefix + relative)}`;
  }

  /**
   * The mount must be KV v2 (checked once, on the first request): sys/internal/ui/mounts answers
   * its type and version. A KV v1 mount is refused with a message that says so; a token that may
   * not ask is given the benefit of the doubt (the metadata calls then tell).
   */
  private checkMount(): Promise<void> {
    this.mountChecked ??= (async () => {
      const answer = await this.client.request('GET', `sys/internal/ui/mounts/${encodePath(this.mount)}`);
      if (answer.status === 403) return;
      if (answer.status === 404 || answer.status === 400)
        throw new StoreError('not-found', this.id, `${this.head()}: Vault has no secrets engine mounted at "${this.mount}/"; fix mount in CONFIG_FILE.`);
      if (answer.status !== 200) return;
      const data = answer.body?.data ?? {};
      const type = typeof data.type === 'string' ? data.type : '';
      const version = String(data.options?.version ?? '1');
      if (type && type !== 'kv' && type !== 'generic')
        throw new StoreError('unavailable', this.id, `${this.head()}: the mount "${this.mount}/" is a ${type} secrets engine, not KV; point mount at a KV version 2 mount.`);
      if (version !== '2')
        throw new StoreError(
          'unavailable',
          this.id,
          `${this.head()}: the mount "${this.mount}/" is KV version 1, which keeps no versions or metadata; the dashboard reads KV version 2 only. Upgrade it (vault kv enable-versioning ${this.mount}/) or point mount at a KV v2 mount.`,
        );
    })();
    // A failure is not kept: Vault may be unsealed or the mount fixed meanwhile.
    this.mountChecked.catch(() => (this.mountChecked = null));
    return this.mountChecked;
  }

  private async call(method: 'GET' | 'POST' | 'LIST', path: string, body?: unknown): Promise<VaultAnswer> {
    await this.checkMount();
    return this.client.request(method, path, body);
  }

  private denied(what: string): StoreError {
    return new StoreError('access-denied', this.id, `${this.head()}: Vault's policy refuses ${what}; allow it in the token's policy (see the README's Vault section).`);
  }

  /** Keys and folders (ending '/') of a folder relative to the prefix ('' for the top); [] when none. */
  private async listKeys(relativeFolder: string): Promise<string[]> {
    const answer = await this.call('LIST', this.metadataPath(relativeFolder));
    if (answer.status === 404) return [];
    if (answer.status === 403) throw this.denied(`listing ${this.nameOf(relativeFolder)} (list on ${this.mount}/metadata/${this.prefix}${relativeFolder})`);
    if (answer.status !== 200) throw new StoreError('unavailable', this.id, `${this.head()}: listing ${this.nameOf(relativeFolder)} failed (HTTP ${answer.status}).`);
    const keys: unknown = answer.body?.data?.keys;
    return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string' && k.length > 0) : [];
  }

  private async readMetadata(relative: string): Promise<VaultMetadata | null> {
    const answer = await this.call('GET', this.metadataPath(relative));
    if (answer.status === 404) return null;
    if (answer.status === 403) throw this.denied(`reading the metadata of ${this.nameOf(relative)} (read on ${this.mount}/metadata/${this.prefix}${relative})`);
    if (answer.status !== 200) throw new StoreError('unavailable', this.id, `${this.head()}: reading the metadata of ${this.nameOf(relative)} failed (HTTP ${answer.status}).`);
    return (answer.body?.data ?? null) as VaultMetadata | null;
  }

  // ---- mapping --------------------------------------------------------------------------------

  private settingsOf(meta: VaultMetadata, now: number): VaultKeySettings {
    const current = meta.versions?.[String(meta.current_version ?? 0)];
    const after = meta.delete_version_after;
    return {
      maxVersions: meta.max_versions ? meta.max_versions : null,
      casRequired: meta.cas_required === true,
      deleteVersionAfter: after && after !== '0s' ? after : null,
      oldestVersion: meta.oldest_version ?? 0,
      currentDeleted: current ? current.destroyed === true || isPast(current.deletion_time, now) : false,
    };
  }

  private toMetadata(name: string, meta: VaultMetadata): ItemMetadata {
    const custom = { ...(meta.custom_metadata ?? {}) };
    const description = custom.description ?? null;
    delete custom.description;
    const current = String(meta.current_version ?? 0);
    const createdAt = meta.versions?.[current]?.created_time ?? meta.updated_time ?? meta.created_time ?? EPOCH;
    return {
      name,
      folder: folderOf(name),
      kind: 'secret',
      description,
      tags: custom,
      kmsKeyId: null,
      lastChangedAt: new Date(createdAt).toISOString(),
      lastChangedBy: null,
      currentVersion: current,
      labels: [],
    };
  }

  private versionsOf(meta: VaultMetadata, now: number): ItemVersion[] {
    return Object.entries(meta.versions ?? {})
      .map(([id, v]) => ({
        id,
        createdAt: v.created_time ? new Date(v.created_time).toISOString() : EPOCH,
        createdBy: null,
        labels: v.destroyed ? ['destroyed'] : isPast(v.deletion_time, now) ? ['deleted'] : [],
      }))
      .sort((a, b) => Number(b.id) - Number(a.id));
  }

  private record(name: string, meta: VaultMetadata): InventoryRecord {
    return { ...this.toMetadata(name, meta), extra: { vault: this.settingsOf(meta, Date.now()) } };
  }

  // ---- browsing -------------------------------------------------------------------------------

  private assertName(name: string): void {
    refuseBadName(this.id, checkItemName(name));
  }

  /** Metadata of several keys, in order; keys gone meanwhile are left out. */
  private async describeAll(relatives: string[]): Promise<ItemMetadata[]> {
    const metas = await Promise.all(relatives.map((r) => this.readMetadata(r)));
    return metas.flatMap((meta, i) => (meta ? [this.toMetadata(this.nameOf(relatives[i]!), meta)] : []));
  }

  /** Every key below a folder (relative names), breadth first, at most MAX_RECURSIVE_KEYS. */
  private async allKeysBelow(relativeFolder: string): Promise<string[]> {
    const out: string[] = [];
    let level = [relativeFolder];
    while (level.length > 0 && out.length < MAX_RECURSIVE_KEYS) {
      const listed = await Promise.all(level.map(async (folder) => (await this.listKeys(folder)).map((k) => folder + k)));
      level = [];
      for (const key of listed.flat()) (key.endsWith('/') ? level : out).push(key);
    }
    return out.slice(0, MAX_RECURSIVE_KEYS);
  }

  async list({ path, recursive = false, cursor, limit }: ListOptions): Promise<ListPage> {
    refuseBadName(this.id, checkFolderPath(path));
    const key = listingKey(path, recursive);
    const offset = cursor ? Number(decodeCursor(this.id, cursor, key).t ?? '0') : 0;
    const size = clampPageSize(limit, PAGE_SIZE);
    const relativeFolder = path.slice(1);
    const keys = recursive ? await this.allKeysBelow(relativeFolder) : (await this.listKeys(relativeFolder)).filter((k) => !k.endsWith('/')).map((k) => relativeFolder + k);
    const names = keys.filter((k) => !checkItemName(this.nameOf(k))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const page = names.slice(offset, offset + size);
    const items = await this.describeAll(page);
    const next = offset + size < names.length ? encodeCursor({ q: key, s: 0, t: String(offset + size) }) : undefined;
    return { items, ...(next ? { nextCursor: next } : {}) };
  }

  async listFolders(path: string): Promise<string[]> {
    refuseBadName(this.id, checkFolderPath(path));
    const keys = await this.listKeys(path.slice(1));
    return keys
      .filter((k) => k.endsWith('/') && !checkFolderPath(`${path}${k}`))
      .map((k) => `${path}${k}`)
      .sort();
  }

  async getItem(name: string): Promise<ItemDetail | null> {
    this.assertName(name);
    const meta = await this.readMetadata(name.slice(1));
    if (!meta) return null;
    const now = Date.now();
    const versions = this.versionsOf(meta, now);
    const metadata = this.toMetadata(name, meta);
    return { ...metadata, labels: versions.find((v) => v.id === metadata.currentVersion)?.labels ?? [], versions, details: { vault: this.settingsOf(meta, now) } };
  }

  /** The item as the inventory keeps it, straight after a write. */
  async inventoryRecord(name: string): Promise<InventoryRecord | null> {
    this.assertName(name);
    const meta = await this.readMetadata(name.slice(1));
    return meta ? this.record(name, meta) : null;
  }

  // ---- the inventory walk ---------------------------------------------------------------------

  /**
   * One request of the inventory walk: a LIST of one folder (its sub-folders and keys become work,
   * shared with new chains while the walk has room) or a GET of one key's metadata. A GET shares the
   * chain's remaining work too while the walk has room: a LIST of a big folder hands out only what
   * the room allowed then, and the chain that kept the rest would otherwise read it alone, one round
   * trip at a time, after the others ended. A 403 skips that folder or key and names it; everything
   * else goes on.
   */
  async inventoryPage(rawToken: string | undefined, hints?: InventoryPageHints): Promise<InventoryPage> {
    const token: VaultWalkToken = decodeVaultWalkToken(rawToken);
    const empty: InventoryPage = { records: [], skipped: 0 };
    const forkRoom = hints?.forkRoom ?? 0;
    if (token.g.length > 0) {
      const [relative, ...rest] = token.g;
      const after = nextWork({ l: token.l, g: rest }, [], [], forkRoom);
      let meta: VaultMetadata | null;
      try {
        meta = await this.readMetadata(relative!);
      } catch (error) {
        if (!(error instanceof StoreError) || error.code !== 'access-denied') throw error;
        return { ...empty, denied: { prefix: this.nameOf(relative!), message: error.message }, ...after };
      }
      return { ...empty, records: meta ? [this.record(this.nameOf(relative!), meta)] : [], ...after };
    }
    const [folder, ...restFolders] = token.l.length > 0 ? token.l : [''];
    let keys: string[];
    try {
      keys = await this.listKeys(folder!);
    } catch (error) {
      if (!(error instanceof StoreError) || error.code !== 'access-denied') throw error;
      return { ...empty, denied: { prefix: this.nameOf(folder!), message: error.message }, ...nextWork({ l: restFolders, g: [] }, [], [], forkRoom) };
    }
    const folders: string[] = [];
    const leaves: string[] = [];
    let skipped = 0;
    for (const key of keys) {
      const relative = folder + key;
      if (key.endsWith('/')) {
        if (checkFolderPath(this.nameOf(relative))) skipped++;
        else folders.push(relative);
      } else if (checkItemName(this.nameOf(relative))) skipped++;
      else leaves.push(relative);
    }
    return { ...empty, skipped, ...nextWork({ l: restFolders, g: [] }, folders, leaves, forkRoom) };
  }

  /** The status of a walk that read everything but some refused folders or keys. */
  refusedMessage(prefixes: readonly string[]): string {
    const named = prefixes.slice(0, 5).map((p) => `"${p}"`).join(', ');
    const more = prefixes.length > 5 ? ` and ${prefixes.length - 5} more` : '';
    return `${this.head()}: Vault's policy refused list or read on ${this.mount}/metadata/ under ${named}${more} (403 permission denied); everything else synced, and the items there keep what the last sync found. Allow list and read on those paths in the token's policy, or ignore this if they are meant to stay hidden.`;
  }

  // ---- values (reveal, rotate, generate) -------------------------------------------------------

  private async readData(name: string, version?: string): Promise<{ data: Record<string, unknown>; version: string }> {
    this.assertName(name);
    if (version !== undefined && !/^\d{1,10}$/.test(version)) throw new StoreError('not-found', this.id, `${name} has no version "${version}".`);
    const answer = await this.call('GET', `${this.mount}/data/${encodePath(this.keyOf(name))}${version ? `?version=${version}` : ''}`);
    if (answer.status === 403) throw this.denied(`reading ${name}'s value (read on ${this.mount}/data/${this.keyOf(name)})`);
    if (answer.status === 404) {
      const meta = answer.body?.data?.metadata;
      if (meta && (meta.destroyed || meta.deletion_time))
        throw new StoreError('not-found', this.id, `${this.head()}: version ${meta.version ?? version ?? ''} of ${name} is ${meta.destroyed ? 'destroyed' : 'deleted'} in Vault, so it has no value to read.`);
      throw new StoreError('not-found', this.id, `There is no item ${name}${version ? ` version ${version}` : ''} in store "${this.id}".`);
    }
    if (answer.status !== 200) throw new StoreError('unavailable', this.id, `${this.head()}: reading ${name} failed (HTTP ${answer.status}).`);
    const data = answer.body?.data?.data;
    const read = answer.body?.data?.metadata?.version;
    if (!data || typeof data !== 'object') throw new StoreError('not-found', this.id, `${this.head()}: ${name} has no data in that version.`);
    return { data: data as Record<string, unknown>, version: String(read ?? version ?? '') };
  }

  /** The secret's key/value object as JSON text (one version, or the current one). Never called by browsing. */
  async readValue(name: string, version?: string): Promise<string> {
    return JSON.stringify((await this.readData(name, version)).data);
  }

  /** The current value with the version it is, for a write that checks that version (CAS). */
  async readCurrentValue(name: string): Promise<{ value: string; version: string }> {
    const { data, version } = await this.readData(name);
    return { value: JSON.stringify(data), version };
  }

  /**
   * A new version with check-and-set: on the version the value was made from (basedOnVersion), else
   * on the current version. Someone else's version in between is refused by Vault, and nothing is
   * overwritten. The value is the secret's key/value object as JSON.
   */
  async writeValue(input: WriteValueInput): Promise<WrittenVersion> {
    this.assertName(input.name);
    let data: unknown;
    try {
      data = JSON.parse(input.value);
    } catch {
      data = undefined;
    }
    if (!data || typeof data !== 'object' || Array.isArray(data))
      throw new ConflictError(`${input.name} is a Vault secret, which holds key/value pairs; name the key whose value should be replaced.`);
    let cas = input.basedOnVersion;
    if (cas === undefined) {
      const meta = await this.readMetadata(input.name.slice(1));
      if (!meta) throw new StoreError('not-found', this.id, `There is no item ${input.name} in store "${this.id}".`);
      cas = String(meta.current_version ?? 0);
    }
    const answer = await this.call('POST', `${this.mount}/data/${encodePath(this.keyOf(input.name))}`, { options: { cas: Number(cas) }, data });
    if (answer.status === 400 && /check-and-set/i.test(JSON.stringify(answer.body?.errors ?? [])))
      throw new ConflictError(
        `${this.head()}: someone else wrote a new version of ${input.name} after version ${cas} was read; nothing was overwritten. Reload the item to see the new version, then try again.`,
      );
    if (answer.status === 403) throw this.denied(`writing ${input.name} (create and update on ${this.mount}/data/${this.keyOf(input.name)})`);
    if (answer.status !== 200 && answer.status !== 204)
      throw new StoreError('unavailable', this.id, `${this.head()}: Vault refused the new version of ${input.name} (HTTP ${answer.status}).`);
    const out = answer.body?.data ?? {};
    return { version: String(out.version ?? Number(cas) + 1), createdAt: out.created_time ? new Date(out.created_time).toISOString() : new Date().toISOString() };
  }
}
