import 'server-only';
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { dialectOf, type DialectName } from '@/lib/db/dialect';
import { decryptValue, DecryptionError, encryptValue } from '@/lib/crypto/envelope';
import { valueFingerprint, valueFingerprintKey } from '@/lib/crypto/value-fingerprint';
import { MASTER_KEY_ID_META, masterKeyId } from '@/lib/crypto/master-key';
import { checkFolderPath, checkItemName, checkNameToWrite, folderOf } from '@/lib/validations/item-name';
import { InventoryIndex, upsertInventoryItem } from '@/lib/inventory/inventory-index';
import { refuseBadName, StoreError } from '../errors';
import type {
  ItemDetail,
  ItemKind,
  ItemMetadata,
  ItemVersion,
  ListOptions,
  ListPage,
  PutValueInput,
  ValueFingerprinter,
  VersionMetadata,
  WritableSecretStore,
  WriteValueInput,
  WrittenVersion,
} from '../types';
import { embeddedRecord, ensureEmbeddedInventory, inventoryDbOf, LOCAL_DETAILS } from './inventory';
import { openEmbeddedDatabase, type OpenedDatabase, type OpenOptions } from './open';
import type { EmbeddedDatabase, ItemsTable } from './schema';

export const MAX_VERSIONS = 100;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;
const LOCAL_KMS_KEY = 'local/master-key';

const encodeCursor = (name: string) => Buffer.from(name, 'utf8').toString('base64url');
function decodeCursor(storeId: string, cursor: string): string {
  const name = Buffer.from(cursor, 'base64url').toString('utf8');
  if (checkItemName(name)) throw new StoreError('invalid-name', storeId, 'The page cursor is malformed; start again from the first page.');
  return name;
}

/** Same-prefix test that treats '_' and '%' literally (LIKE would not). */
const startsWith = (column: 'name' | 'folder', prefix: string) =>
  sql<boolean>`substr(${sql.ref(column)}, 1, ${prefix.length}) = ${prefix}`;

type ItemRow = Omit<Selectable<ItemsTable>, 'created_at'>;

/** What versions.metadata records of the item as a version was written (never a value). */
function versionMetadataJson(item: Pick<ItemsTable, 'kind' | 'description' | 'tags' | 'kms_key_id'>): string {
  const metadata: VersionMetadata = { type: item.kind, description: item.description, tags: JSON.parse(item.tags) as Record<string, string>, kmsKeyId: item.kms_key_id };
  return JSON.stringify(metadata);
}

/** versions.metadata read back; undefined for versions written before it was recorded (or unreadable). */
function parseVersionMetadata(text: string | null): VersionMetadata | undefined {
  if (text === null) return undefined;
  try {
    const parsed = JSON.parse(text) as VersionMetadata;
    return { type: parsed.type, description: parsed.description ?? null, tags: parsed.tags ?? {}, kmsKeyId: parsed.kmsKeyId ?? null };
  } catch {
    return undefined;
  }
}

/** First key of the PostgreSQL advisory locks on items (the two-number key space, apart from the audit log's). */
const ITEM_LOCK_SPACE = 0x6275_696c;

/** The second key: 32 bits of the name's hash. Computed here, so batches can take their locks in one order. */
function itemLockKey(name: string): number {
  return createHash('sha256').update(name).digest().readInt32BE(0);
}

export class EmbeddedStore implements WritableSecretStore, ValueFingerprinter {
  readonly kind = 'local' as const;
  readonly writable = true as const;
  /** The built-in store is its own inventory: the same tables the AWS sync fills, written with every change. */
  readonly inventory: InventoryIndex;
  private readonly dialect: DialectName;
  /** The one-way id of this process's master key, compared with meta 'master_key_id' on every write. */
  private readonly masterKeyId: string;

  constructor(
    readonly id: string,
    readonly label: string,
    private readonly db: Kysely<EmbeddedDatabase>,
    private readonly masterKey: Buffer,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.inventory = new InventoryIndex(inventoryDbOf(db));
    this.dialect = dialectOf(db);
    this.masterKeyId = masterKeyId(masterKey);
  }

  private keyRotatedError(writing: boolean): StoreError {
    return new StoreError(
      'unavailable',
      this.id,
      `The master key of store "${this.id}" was rotated (npm run rotate-master-key) after this server started; restart the server so it uses the new key.${writing ? ' Nothing was written.' : ''}`,
    );
  }

  /**
   * Refuses to commit data keys wrapped under a master key that is no longer the store's (a rotation
   * ran while this server was up). Called after the batch's writes: by then this transaction holds
   * SQLite's write lock, and on PostgreSQL a rotation (which locks versions) has either committed
   * before this statement, which then sees its new id, or waits for this transaction to end.
   */
  private async assertKeyCurrent(trx: Transaction<EmbeddedDatabase>): Promise<void> {
    const row = await trx.selectFrom('meta').select('value').where('key', '=', MASTER_KEY_ID_META).executeTakeFirst();
    if (row && row.value !== this.masterKeyId) throw this.keyRotatedError(true);
  }

  /**
   * Opens the store (DATA_DIR/secrets.db, or the "builtin" schema of `options.databaseUrl`), checks
   * its master key, applies pending migrations and brings its inventory in step.
   */
  static async open(id: string, label: string, options: OpenOptions): Promise<{ store: EmbeddedStore; created: boolean }> {
    const opened = await openEmbeddedDatabase(options);
    try {
      return { store: await EmbeddedStore.fromOpened(id, label, opened, opened.close), created: opened.created };
    } catch (error) {
      await opened.close();
      throw error;
    }
  }

  /** The store over an already opened database (the process's keyring, lib/crypto/keyring.ts); onClose is the caller's. */
  static async fromOpened(id: string, label: string, opened: OpenedDatabase, onClose: () => Promise<void> = async () => {}): Promise<EmbeddedStore> {
    await ensureEmbeddedInventory(opened.db, id);
    return new EmbeddedStore(id, label, opened.db, opened.masterKey, onClose);
  }

  /**
   * Replicas writing the same item queue here until the first one commits, so its versions stay
   * gap-free and none is written twice (on PostgreSQL; SQLite has one writer at a time anyway).
   * Taken in one order, so two batches never wait on each other in a circle.
   */
  private async lockItems(trx: Transaction<EmbeddedDatabase>, names: string[]): Promise<void> {
    if (this.dialect !== 'postgres') return;
    const keys = [...new Set(names.map(itemLockKey))].sort((a, b) => a - b);
    for (const key of keys) await sql`SELECT pg_advisory_xact_lock(${ITEM_LOCK_SPACE}, ${key})`.execute(trx);
  }

  close(): Promise<void> {
    return this.onClose();
  }

  private assertName(name: string): void {
    refuseBadName(this.id, checkItemName(name));
  }

  /** The last line before a write: whatever the caller checked, no name a write may not create is stored. */
  private assertNameToWrite(name: string): void {
    refuseBadName(this.id, checkNameToWrite(name));
  }

  private assertFolder(path: string): void {
    refuseBadName(this.id, checkFolderPath(path));
  }

  private selectItems() {
    return this.db
      .selectFrom('items')
      .select(['id', 'name', 'folder', 'kind', 'description', 'kms_key_id', 'tags', 'current_version', 'updated_at', 'updated_by']);
  }

  private async labelsByItem(itemIds: number[]): Promise<Map<number, { label: string; version: number }[]>> {
    const map = new Map<number, { label: string; version: number }[]>();
    if (itemIds.length === 0) return map;
    const rows = await this.db.selectFrom('labels').select(['item_id', 'label', 'version']).where('item_id', 'in', itemIds).execute();
    for (const row of rows) map.set(row.item_id, [...(map.get(row.item_id) ?? []), row]);
    return map;
  }

  private toMetadata(row: ItemRow, labels: { label: string; version: number }[]): ItemMetadata {
    const current = labels.filter((l) => l.version === row.current_version).map((l) => l.label);
    const { extra: _extra, ...metadata } = embeddedRecord(row, current);
    return metadata;
  }


  async list({ path, recursive = false, cursor, limit = DEFAULT_PAGE }: ListOptions): Promise<ListPage> {
    this.assertFolder(path);
    const pageSize = Math.max(1, Math.min(MAX_PAGE, Math.floor(limit)));
    let query = this.selectItems();
    query = recursive ? query.where(startsWith('folder', path)) : query.where('folder', '=', path);
    if (cursor) query = query.where('name', '>', decodeCursor(this.id, cursor));
    const rows = await query.orderBy('name').limit(pageSize + 1).execute();
    const page = rows.slice(0, pageSize);
    const labels = await this.labelsByItem(page.map((r) => r.id));
    return {
      items: page.map((row) => this.toMetadata(row, labels.get(row.id) ?? [])),
      nextCursor: rows.length > pageSize ? encodeCursor(page.at(-1)!.name) : undefined,
    };
  }

  async listFolders(path: string): Promise<string[]> {
    this.assertFolder(path);
    const rows = await this.db
      .selectFrom('items')
      .select('folder')
      .distinct()
      .where(startsWith('folder', path))
      .where('folder', '!=', path)
      .execute();
    const children = new Set(rows.map((r) => path + r.folder.slice(path.length).split('/')[0] + '/'));
    return [...children].sort();
  }

  async getItem(name: string): Promise<ItemDetail | null> {
    this.assertName(name);
    const row = await this.selectItems().where('name', '=', name).executeTakeFirst();
    if (!row) return null;
    const [versions, labels] = await Promise.all([
      this.db
        .selectFrom('versions')
        .select(['version', 'created_at', 'created_by', 'metadata'])
        .where('item_id', '=', row.id)
        .orderBy('version', 'desc')
        .execute(),
      this.labelsByItem([row.id]).then((m) => m.get(row.id) ?? []),
    ]);
    return {
      ...this.toMetadata(row, labels),
      versions: versions.map((v) => {
        const metadata = parseVersionMetadata(v.metadata);
        const version: ItemVersion = {
          id: String(v.version),
          createdAt: v.created_at,
          createdBy: v.created_by,
          labels: labels.filter((l) => l.version === v.version).map((l) => l.label).sort(),
        };
        return metadata ? { ...version, metadata } : version;
      }),
      details: { ...LOCAL_DETAILS, type: row.kind },
    };
  }

  /** A new version written by rotate or generate; its kind, description and tags stay as they are. */
  async writeValue(input: WriteValueInput): Promise<WrittenVersion> {
    this.assertNameToWrite(input.name);
    const item = await this.db.selectFrom('items').select('kind').where('name', '=', input.name).executeTakeFirst();
    if (!item) throw new StoreError('not-found', this.id, `There is no item ${input.name} in store "${this.id}".`);
    const at = new Date();
    const { version } = await this.putValue({ name: input.name, value: input.value, kind: item.kind as ItemKind, actor: input.actor, labels: input.labels, at });
    return { version, createdAt: at.toISOString() };
  }

  async putValue(input: PutValueInput): Promise<{ name: string; version: string }> {
    const [result] = await this.putMany([input]);
    return result!;
  }

  /** Writes several values in one transaction: all of them or, on any error, none. */
  async putMany(inputs: PutValueInput[]): Promise<{ name: string; version: string }[]> {
    for (const input of inputs) this.assertNameToWrite(input.name);
    return this.db.transaction().execute((trx) => this.writeBatch(trx, inputs));
  }

  /**
   * putMany into a store that holds no items (demo data); null, with nothing written, when it holds
   * some. Replicas starting together on an empty database: one writes, the others find it filled.
   */
  async putManyIntoEmptyStore(inputs: PutValueInput[]): Promise<{ name: string; version: string }[] | null> {
    for (const input of inputs) this.assertNameToWrite(input.name);
    return this.db.transaction().execute(async (trx) => {
      // Waits for writes under way and holds back new ones (and other seeders) until this commits.
      if (this.dialect === 'postgres') await sql`LOCK TABLE items IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
      if (await trx.selectFrom('items').select('id').limit(1).executeTakeFirst()) return null;
      // No item locks: the table lock already keeps every other writer out, and a writer holding an
      // item lock while it waits for the table would otherwise wait in a circle with this one.
      return this.writeBatch(trx, inputs, false);
    });
  }

  private async writeBatch(
    trx: Transaction<EmbeddedDatabase>,
    inputs: PutValueInput[],
    lockItems = true,
  ): Promise<{ name: string; version: string }[]> {
    if (lockItems) await this.lockItems(trx, inputs.map((i) => i.name));
    const results: { name: string; version: string }[] = [];
    for (const input of inputs) {
      const at = (input.at ?? new Date()).toISOString();
      const kind = input.kind ?? 'SecureString';
      const existing = await trx.selectFrom('items').select(['id', 'current_version']).where('name', '=', input.name).executeTakeFirst();
      const version = (existing?.current_version ?? 0) + 1;
      let itemId: number;
      if (existing) {
        itemId = existing.id;
        await trx
          .updateTable('items')
          .set({
            current_version: version,
            kind,
            kms_key_id: kind === 'SecureString' ? LOCAL_KMS_KEY : null,
            updated_at: at,
            updated_by: input.actor,
            ...(input.description !== undefined ? { description: input.description } : {}),
            ...(input.tags !== undefined ? { tags: JSON.stringify(input.tags) } : {}),
          })
          .where('id', '=', itemId)
          .execute();
      } else {
        const inserted = await trx
          .insertInto('items')
          .values({
            name: input.name,
            folder: folderOf(input.name),
            kind,
            description: input.description ?? null,
            kms_key_id: kind === 'SecureString' ? LOCAL_KMS_KEY : null,
            tags: JSON.stringify(input.tags ?? {}),
            current_version: version,
            created_at: at,
            updated_at: at,
            updated_by: input.actor,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        itemId = inserted.id;
      }
      const sealed = encryptValue(this.masterKey, input.value, `${input.name}#${version}`);
      // The item's metadata as this version leaves it, for "what changed" between versions.
      const recorded = await trx.selectFrom('items').select(['kind', 'description', 'tags', 'kms_key_id']).where('id', '=', itemId).executeTakeFirstOrThrow();
      await trx
        .insertInto('versions')
        .values({
          item_id: itemId,
          version,
          ciphertext: sealed.ciphertext,
          wrapped_key: sealed.wrappedKey,
          created_at: at,
          created_by: input.actor,
          metadata: versionMetadataJson(recorded),
        })
        .execute();
      for (const label of input.labels ?? []) {
        await trx
          .insertInto('labels')
          .values({ item_id: itemId, label, version })
          .onConflict((oc) => oc.columns(['item_id', 'label']).doUpdateSet({ version }))
          .execute();
      }
      // Parameter Store keeps the newest 100 versions; so do we.
      const oldestKept = version - MAX_VERSIONS + 1;
      if (oldestKept > 1) {
        await trx.deleteFrom('labels').where('item_id', '=', itemId).where('version', '<', oldestKept).execute();
        await trx.deleteFrom('versions').where('item_id', '=', itemId).where('version', '<', oldestKept).execute();
      }
      const written = await trx
        .selectFrom('items')
        .select(['name', 'folder', 'kind', 'description', 'kms_key_id', 'tags', 'current_version', 'updated_at', 'updated_by'])
        .where('id', '=', itemId)
        .executeTakeFirstOrThrow();
      const labels = await trx.selectFrom('labels').select('label').where('item_id', '=', itemId).where('version', '=', version).execute();
      // A successful write ends a failed rotation's record.
      await trx.deleteFrom('rotation_failures').where('item_id', '=', itemId).execute();
      await upsertInventoryItem(inventoryDbOf(trx), this.id, embeddedRecord(written, labels.map((l) => l.label)));
      results.push({ name: input.name, version: String(version) });
    }
    if (inputs.length > 0) await this.assertKeyCurrent(trx);
    return results;
  }

  /**
   * Records that rotating an item failed, so its freshness reads "rotation failing" until the next
   * successful write. `message` says why and must not hold any value; it is cut to 300 characters.
   */
  async recordRotationFailure(name: string, message: string, at: Date = new Date()): Promise<void> {
    this.assertName(name);
    const text = message.replace(/[\p{Cc}]+/gu, ' ').trim().slice(0, 300) || 'unknown error';
    await this.db.transaction().execute(async (trx) => {
      await this.lockItems(trx, [name]);
      const item = await trx
        .selectFrom('items')
        .select(['id', 'name', 'folder', 'kind', 'description', 'kms_key_id', 'tags', 'current_version', 'updated_at', 'updated_by'])
        .where('name', '=', name)
        .executeTakeFirst();
      if (!item) throw new StoreError('not-found', this.id, `There is no item ${name} in store "${this.id}".`);
      const failure = { at: at.toISOString(), message: text };
      await trx
        .insertInto('rotation_failures')
        .values({ item_id: item.id, ...failure })
        .onConflict((oc) => oc.column('item_id').doUpdateSet(failure))
        .execute();
      const labels = await trx.selectFrom('labels').select('label').where('item_id', '=', item.id).where('version', '=', item.current_version).execute();
      await upsertInventoryItem(inventoryDbOf(trx), this.id, embeddedRecord(item, labels.map((l) => l.label), failure));
    });
  }

  async readValue(name: string, version?: string): Promise<string> {
    this.assertName(name);
    const item = await this.db.selectFrom('items').select(['id', 'current_version']).where('name', '=', name).executeTakeFirst();
    if (!item) throw new StoreError('not-found', this.id, `No item named ${name} in store ${this.id}.`);
    let wanted = item.current_version;
    if (version !== undefined) {
      if (/^\d+$/.test(version)) wanted = Number(version);
      else {
        const label = await this.db
          .selectFrom('labels')
          .select('version')
          .where('item_id', '=', item.id)
          .where('label', '=', version)
          .executeTakeFirst();
        if (!label) throw new StoreError('not-found', this.id, `${name} has no version or label "${version}".`);
        wanted = label.version;
      }
    }
    const row = await this.db
      .selectFrom('versions')
      .select(['ciphertext', 'wrapped_key'])
      .where('item_id', '=', item.id)
      .where('version', '=', wanted)
      .executeTakeFirst();
    if (!row) throw new StoreError('not-found', this.id, `${name} has no version ${wanted}.`);
    try {
      return decryptValue(this.masterKey, { ciphertext: row.ciphertext, wrappedKey: row.wrapped_key }, `${name}#${wanted}`);
    } catch (error) {
      if (error instanceof DecryptionError) {
        // Not an altered row when the store simply moved to another master key under this server.
        const current = await this.db.selectFrom('meta').select('value').where('key', '=', MASTER_KEY_ID_META).executeTakeFirst();
        if (current && current.value !== this.masterKeyId) throw this.keyRotatedError(false);
        throw new StoreError('integrity', this.id, error.message);
      }
      throw error;
    }
  }

  /**
   * Keyed fingerprints (lib/crypto/value-fingerprint.ts) of some versions' values, by version; a
   * version the item does not have is left out. Decrypts in here, and only the fingerprints leave:
   * for comparing versions in the server, never to be sent to a browser.
   */
  async valueFingerprints(name: string, versions: string[]): Promise<Map<string, string>> {
    this.assertName(name);
    const key = valueFingerprintKey(this.masterKey);
    try {
      const fingerprints = new Map<string, string>();
      for (const version of new Set(versions.filter((v) => /^\d{1,9}$/.test(v)))) {
        let value: string;
        try {
          value = await this.readValue(name, version);
        } catch (error) {
          if (error instanceof StoreError && error.code === 'not-found') continue;
          throw error;
        }
        fingerprints.set(version, valueFingerprint(key, value));
      }
      return fingerprints;
    } finally {
      key.fill(0);
    }
  }

  /** Number of items; cheap, for health and seeding decisions. */
  async count(): Promise<number> {
    const row = await this.db.selectFrom('items').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
