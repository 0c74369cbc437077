import 'server-only';
import {
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  PutParameterCommand,
  ListTagsForResourceCommand,
  type DescribeParametersCommandOutput,
  type ParameterMetadata,
  type ParameterStringFilter,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { logger } from '@/lib/logger';
import { checkItemName, folderOf } from '@/lib/validations/item-name';
import { createSsmClient, lazy, type AwsCallLimits, type AwsConnection } from './aws-clients';
import {
  childFolders,
  clampPageSize,
  decodeCursor,
  encodeCursor,
  isoDate,
  listingKey,
  MAX_FOLDER_PAGES,
  MAX_PAGES_PER_CALL,
  tagRecord,
} from './aws-paging';
import { AwsStoreBase } from './aws-store-base';
import type { InventoryPage, InventoryPageHints, StoreLocation } from './inventory-walk';
import { afterRefusal, chainFilters, chainOf, decodeSsmWalkToken, descend, encodeSsmWalkToken, keepsNames, splitChain, wantsSplit } from './ssm-walk';
import { ConflictError } from '@/lib/conflict-error';
import type { InventoryRecord } from '@/lib/inventory/records';
import { refuseBadName, StoreError } from './errors';
import type { ItemDetail, ItemDetails, ItemKind, ItemMetadata, ItemVersion, ListOptions, ListPage, SecretStore, WriteValueInput, WrittenVersion } from './types';

// AWS Systems Manager Parameter Store. Browsing uses DescribeParameters, GetParameterHistory
// (WithDecryption false) and ListTagsForResource; it never calls GetParameter(s)/GetParametersByPath
// and never asks for decryption. Values are read (GetParameter with decryption) only by explicit
// calls: reveal, where an admin turned it on. Writes (PutParameter) only where `writable: true`.

/** DescribeParameters accepts at most 50 results per call. */
export const SSM_MAX_RESULTS = 50;
const HISTORY_PAGE = 50;
/** Parameter Store keeps 100 versions, so history is at most a few pages. */
const MAX_HISTORY_PAGES = 10;
const EPOCH = new Date(0).toISOString();
const SSM_KINDS: readonly ItemKind[] = ['String', 'StringList', 'SecureString'];

/** A Path filter value: AWS rejects a trailing slash on anything but the root. */
function pathFilter(path: string, recursive: boolean): ParameterStringFilter {
  return { Key: 'Path', Option: recursive ? 'Recursive' : 'OneLevel', Values: [path === '/' ? '/' : path.slice(0, -1)] };
}

function inListing(name: string, path: string, recursive: boolean): boolean {
  return recursive ? name.startsWith(path) : folderOf(name) === path;
}

/** A store the last walk found to hold at most this many parameters is walked as one chain. */
const SMALL_STORE_ITEMS = 40 * SSM_MAX_RESULTS;

/** The account of an ARN (arn:aws:ssm:region:account:… or arn:aws:iam::account:role/…), or null. */
function accountOfArn(arn: string | undefined): string | null {
  const account = arn?.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : null;
}

export class SsmStore extends AwsStoreBase<SSMClient> implements SecretStore {
  readonly kind = 'ssm' as const;
  /** The region (from the configuration) and account (from the role, else from the first ARN AWS answers). */
  private region = '';
  private account: string | null = null;
  private credentials = '';

  location(): StoreLocation {
    return { account: this.account, region: this.region, credentials: this.credentials };
  }

  /** Opens nothing: the client is made on the first call, so start-up works offline. */
  static fromConfig(config: AwsConnection & { id: string; label?: string; writable?: boolean }, limits?: AwsCallLimits): SsmStore {
    const store = new SsmStore(
      config.id,
      config.label ?? `${config.id} (${config.region})`,
      lazy(() => createSsmClient(config, limits)),
      lazy(() => createSsmClient(config, { ...limits, maxAttempts: 1 })),
      config.writable === true,
    );
    store.region = config.region;
    store.account = accountOfArn(config.roleArn);
    store.credentials = JSON.stringify([config.profile ?? null, config.credentialsFile ?? null, config.roleArn ?? null]);
    return store;
  }

  private assertName(name: string): void {
    refuseBadName(this.id, checkItemName(name));
  }

  private toMetadata(parameter: ParameterMetadata): ItemMetadata | null {
    const name = parameter.Name;
    // Names without a leading '/' (or otherwise outside the naming rules) have no place in the
    // folder tree; they are left out rather than shown as items nobody could open.
    if (!name || checkItemName(name)) return null;
    const kind = SSM_KINDS.includes(parameter.Type as ItemKind) ? (parameter.Type as ItemKind) : 'String';
    return {
      name,
      folder: folderOf(name),
      kind,
      description: parameter.Description || null,
      // DescribeParameters carries no tags; they cost one call per item, so only getItem has them.
      tags: {},
      kmsKeyId: parameter.KeyId ?? null,
      lastChangedAt: isoDate(parameter.LastModifiedDate) ?? EPOCH,
      lastChangedBy: parameter.LastModifiedUser ?? null,
      currentVersion: String(parameter.Version ?? 0),
      labels: [],
    };
  }

  /**
   * One page of one chain of the inventory walk (DescribeParameters, 50 a call): the whole store
   * at first, then chains of name prefixes it splits into (see ssm-walk.ts). A refused call narrows
   * its chain down instead of failing the walk, and names what it could not read.
   */
  async inventoryPage(rawToken: string | undefined, hints?: InventoryPageHints): Promise<InventoryPage> {
    const token = decodeSsmWalkToken(rawToken);
    const filters = chainFilters(token);
    let out: DescribeParametersCommandOutput;
    try {
      out = await this.callOnce('ssm:DescribeParameters', (client) =>
        client.send(new DescribeParametersCommand({ MaxResults: SSM_MAX_RESULTS, NextToken: token.t, ...(filters ? { ParameterFilters: filters } : {}) })),
      );
    } catch (error) {
      if (!(error instanceof StoreError) || error.code !== 'access-denied') throw error;
      const step = afterRefusal(token);
      const empty = { records: [], skipped: 0, identities: { records: [], skipped: [] } };
      return 'refused' in step
        ? { ...empty, denied: { prefix: step.refused, message: error.message } }
        : { ...empty, denied: { message: error.message }, forks: step.forks.map(encodeSsmWalkToken) };
    }
    const page = this.toInventoryPage(out.Parameters ?? []);
    this.account ??= accountOfArn(out.Parameters?.[0]?.ARN);
    const next = out.NextToken || undefined;
    // The exact name of a refused prefix was answered: the refusal lies deeper, so go on below it.
    if (token.d && token.e) return next ? { ...page, nextToken: encodeSsmWalkToken({ ...token, t: next }) } : { ...page, forks: descend(token.e[0]!).map(encodeSsmWalkToken) };
    if (!next) return page;
    const pagesRead = token.k + 1;
    const names = (out.Parameters ?? []).flatMap((p) => (p.Name ? [p.Name] : []));
    const seen = keepsNames(token, pagesRead) ? [...(token.s ?? []), ...names] : undefined;
    const forkRoom = hints?.forkRoom ?? 0;
    // A store the last walk found small is read as one chain (a split costs calls of its own).
    const small = hints?.expectedItems != null && hints.expectedItems <= SMALL_STORE_ITEMS;
    let never = token.x;
    if (seen && !small && wantsSplit(token, pagesRead, { forkRoom, idle: hints?.idle })) {
      const split = splitChain(token.b, seen, forkRoom);
      if (split) return { ...page, forks: [...split.prefixes.map((b) => ({ b, k: 0, g: (token.g ?? 0) + 1 })), ...split.exact.map((e) => ({ e, k: 0 }))].map(encodeSsmWalkToken) };
      never = true;
    }
    const keep = seen && !never ? { s: seen } : {};
    return {
      ...page,
      nextToken: encodeSsmWalkToken({ ...chainOf(token), t: next, k: pagesRead, ...keep, ...(never ? { x: true as const } : {}), ...(token.r ? { r: true as const } : {}), ...(token.g ? { g: token.g } : {}) }),
    };
  }

  private toInventoryPage(parameters: ParameterMetadata[]): InventoryPage {
    const records = [];
    const identities: { records: string[]; skipped: string[] } = { records: [], skipped: [] };
    let skipped = 0;
    for (const parameter of parameters) {
      const metadata = this.toMetadata(parameter);
      // The name is unique in the store: chains that overlap read a parameter once.
      if (!metadata) {
        skipped++;
        identities.skipped.push(parameter.Name ?? parameter.ARN ?? '');
        continue;
      }
      records.push({ ...metadata, extra: this.detailsOf(parameter) });
      identities.records.push(parameter.Name!);
    }
    return { records, skipped, identities };
  }

  /** One parameter's tags, one call, for the inventory's background tag fetch. */
  inventoryTags(name: string): Promise<Record<string, string>> {
    return this.callOnce('ssm:ListTagsForResource', (client) =>
      client.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name })),
    ).then((out) => tagRecord(out.TagList));
  }

  private detailsOf(parameter: ParameterMetadata): ItemDetails {
    return {
      ...(parameter.ARN ? { arn: parameter.ARN } : {}),
      ...(parameter.Type ? { type: parameter.Type } : {}),
      ...(parameter.Tier ? { tier: parameter.Tier } : {}),
      ...(parameter.DataType ? { dataType: parameter.DataType } : {}),
      ...(parameter.Policies?.length
        ? {
            policies: parameter.Policies.map((p) => ({
              type: p.PolicyType ?? 'Unknown',
              status: p.PolicyStatus ?? null,
              text: p.PolicyText ?? '',
            })),
          }
        : {}),
    };
  }

  async list({ path, recursive = false, cursor, limit }: ListOptions): Promise<ListPage> {
    this.assertFolder(path);
    const key = listingKey(path, recursive);
    let token = cursor ? decodeCursor(this.id, cursor, key).t : undefined;
    const pageSize = clampPageSize(limit, SSM_MAX_RESULTS);
    for (let page = 0; page < MAX_PAGES_PER_CALL; page++) {
      const out = await this.call('ssm:DescribeParameters', (client) =>
        client.send(
          new DescribeParametersCommand({ ParameterFilters: [pathFilter(path, recursive)], MaxResults: pageSize, NextToken: token }),
        ),
      );
      token = out.NextToken || undefined;
      const items = (out.Parameters ?? [])
        .map((p) => this.toMetadata(p))
        .filter((item): item is ItemMetadata => item !== null && inListing(item.name, path, recursive))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      // Empty pages with a token are normal for DescribeParameters: keep going until something shows.
      if (items.length > 0 || !token) return { items, nextCursor: token ? encodeCursor({ q: key, s: 0, t: token }) : undefined };
    }
    return { items: [], nextCursor: encodeCursor({ q: key, s: 0, t: token }) };
  }

  async listFolders(path: string): Promise<string[]> {
    this.assertFolder(path);
    return this.folders.get(path, async () => {
      const names: string[] = [];
      let token: string | undefined;
      for (let page = 0; page < MAX_FOLDER_PAGES; page++) {
        const out = await this.call('ssm:DescribeParameters', (client) =>
          client.send(
            new DescribeParametersCommand({ ParameterFilters: [pathFilter(path, true)], MaxResults: SSM_MAX_RESULTS, NextToken: token }),
          ),
        );
        for (const p of out.Parameters ?? []) if (p.Name && !checkItemName(p.Name)) names.push(p.Name);
        token = out.NextToken || undefined;
        if (!token) return childFolders(path, names);
      }
      logger.warn({ store: this.id, path, pages: MAX_FOLDER_PAGES }, 'folder listing stopped early: too many parameters below this path');
      return childFolders(path, names);
    });
  }

  private async describeOne(name: string): Promise<ParameterMetadata | null> {
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES_PER_CALL; page++) {
      const out = await this.call('ssm:DescribeParameters', (client) =>
        client.send(
          new DescribeParametersCommand({
            ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [name] }],
            MaxResults: SSM_MAX_RESULTS,
            NextToken: token,
          }),
        ),
      );
      const found = out.Parameters?.find((p) => p.Name === name);
      if (found) return found;
      token = out.NextToken || undefined;
      if (!token) return null;
    }
    return null;
  }

  /** Every version, newest first. Each history entry is reduced to its metadata right here: the
   * Value field AWS includes never leaves this function. */
  private async history(name: string): Promise<ItemVersion[]> {
    const versions: ItemVersion[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
      const out = await this.call('ssm:GetParameterHistory', (client) =>
        client.send(new GetParameterHistoryCommand({ Name: name, WithDecryption: false, MaxResults: HISTORY_PAGE, NextToken: token })),
      );
      for (const entry of out.Parameters ?? []) {
        versions.push({
          id: String(entry.Version ?? 0),
          createdAt: isoDate(entry.LastModifiedDate) ?? EPOCH,
          createdBy: entry.LastModifiedUser ?? null,
          labels: [...(entry.Labels ?? [])].sort(),
          // What Parameter Store keeps per version (its tags belong to the parameter, not a version).
          metadata: {
            description: entry.Description ?? null,
            kmsKeyId: entry.KeyId ?? null,
            ...(entry.Type ? { type: entry.Type } : {}),
            tier: entry.Tier ?? 'Standard',
            ...(entry.DataType ? { dataType: entry.DataType } : {}),
            policies: (entry.Policies ?? []).map((p) => ({ type: p.PolicyType ?? 'Unknown', status: p.PolicyStatus ?? null, text: p.PolicyText ?? '' })),
          },
        });
      }
      token = out.NextToken || undefined;
      if (!token) break;
    }
    return versions.sort((a, b) => Number(b.id) - Number(a.id));
  }

  private async tags(name: string): Promise<Record<string, string>> {
    const out = await this.call('ssm:ListTagsForResource', (client) =>
      client.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name })),
    );
    return tagRecord(out.TagList);
  }

  /** The plaintext of the current (or a given) version: GetParameter with decryption. Never called by browsing. */
  async readValue(name: string, version?: string): Promise<string> {
    this.assertName(name);
    if (version !== undefined && !/^\d{1,6}$/.test(version)) throw new StoreError('not-found', this.id, `${name} has no version "${version}".`);
    const out = await this.call('ssm:GetParameter', (client) =>
      client.send(new GetParameterCommand({ Name: version ? `${name}:${version}` : name, WithDecryption: true })),
    );
    const value = out.Parameter?.Value;
    if (value === undefined) throw new StoreError('not-found', this.id, `There is no item ${name} in store "${this.id}".`);
    return value;
  }

  /**
   * A new version with PutParameter (Overwrite), keeping the parameter's type, KMS key, tier and
   * data type as they are (AWS would otherwise fall back to its defaults).
   */
  async writeValue(input: WriteValueInput): Promise<WrittenVersion> {
    this.assertName(input.name);
    const current = await this.describeOne(input.name);
    if (!current) throw new StoreError('not-found', this.id, `There is no item ${input.name} in store "${this.id}".`);
    const dataType = current.DataType ?? 'text';
    if (dataType !== 'text')
      throw new ConflictError(`${input.name} holds data of type ${dataType} (for example an AMI id); the dashboard generates only text values, so change it in AWS.`);
    const out = await this.write('ssm:PutParameter', input.name, (client) =>
      client.send(
        new PutParameterCommand({
          Name: input.name,
          Value: input.value,
          Type: current.Type,
          ...(current.Type === 'SecureString' && current.KeyId ? { KeyId: current.KeyId } : {}),
          ...(current.Tier ? { Tier: current.Tier } : {}),
          DataType: dataType,
          Overwrite: true,
        }),
      ),
    );
    return { version: String(out.Version ?? Number(current.Version ?? 0) + 1), createdAt: new Date().toISOString() };
  }

  /** The item as the inventory keeps it, straight after a write (one DescribeParameters call). */
  async inventoryRecord(name: string): Promise<InventoryRecord | null> {
    this.assertName(name);
    const parameter = await this.describeOne(name);
    const metadata = parameter && this.toMetadata(parameter);
    return parameter && metadata ? { ...metadata, extra: this.detailsOf(parameter) } : null;
  }

  async getItem(name: string): Promise<ItemDetail | null> {
    this.assertName(name);
    const parameter = await this.describeOne(name);
    const metadata = parameter && this.toMetadata(parameter);
    if (!parameter || !metadata) return null;
    let versions: ItemVersion[];
    let tags: Record<string, string>;
    try {
      [versions, tags] = await Promise.all([this.history(name), this.tags(name)]);
    } catch (error) {
      // Deleted between the calls.
      if (error instanceof StoreError && error.code === 'not-found') return null;
      throw error;
    }
    const currentVersion = metadata.currentVersion !== '0' ? metadata.currentVersion : (versions[0]?.id ?? '0');
    const details = this.detailsOf(parameter);
    return {
      ...metadata,
      tags,
      currentVersion,
      labels: versions.find((v) => v.id === currentVersion)?.labels ?? [],
      versions,
      details,
    };
  }
}
