import 'server-only';
import { randomUUID } from 'node:crypto';
import {
  CancelRotateSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type DescribeSecretResponse,
  type SecretListEntry,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { logger } from '@/lib/logger';
import { checkItemName, folderOf, type NameProblem } from '@/lib/validations/item-name';
import { createSecretsManagerClient, lazy, type AwsCallLimits, type AwsConnection } from './aws-clients';
import { isAwsNotFound, toStoreError } from './aws-errors';
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
  type ListCursor,
} from './aws-paging';
import { AwsStoreBase } from './aws-store-base';
import type { InventoryPage, InventoryPageHints } from './inventory-walk';
import { chainFilters, decodeWalkToken, encodeWalkToken, sampleNames, splitChain, wantsSplit, wantsTwin } from './secrets-manager-walk';
import { ConflictError } from '@/lib/conflict-error';
import type { InventoryRecord } from '@/lib/inventory/records';
import { refuseBadName, StoreError } from './errors';
import type {
  ItemDetail,
  ItemDetails,
  ItemMetadata,
  ItemVersion,
  ListOptions,
  ListPage,
  RotationStatus,
  SecretStore,
  WriteValueInput,
  WrittenVersion,
} from './types';

// AWS Secrets Manager. Browsing uses ListSecrets, DescribeSecret and ListSecretVersionIds; it never
// calls GetSecretValue. Values are read only by explicit calls (reveal, merging a new value into a
// JSON secret); writes (PutSecretValue, RotateSecret, CancelRotateSecret) only where `writable: true`.
//
// Secrets Manager has no folders: '/' in a secret's name separates levels, and names are shown
// with a leading '/'. The secret "prod/db/password" is the item "/prod/db/password". A secret whose
// real name already starts with '/' ("/prod/db/password") maps to that same item name, because
// people who mirror Parameter Store paths name them that way. Listing looks under both spellings;
// getItem tries the name without the slash first. If both spellings exist (rare, and confusing in
// AWS's own console too) the listing shows both and getItem opens the one without the slash.

/** ListSecrets accepts at most 100 results per call. */
export const SECRETS_MANAGER_MAX_RESULTS = 100;
const MAX_VERSION_PAGES = 20;
const EPOCH = new Date(0).toISOString();
const CURRENT = 'AWSCURRENT';

export function secretToItemName(secretName: string): string {
  return secretName.startsWith('/') ? secretName : `/${secretName}`;
}

/** The secret names an item name may stand for, in the order getItem tries them. */
export function itemToSecretNames(itemName: string): string[] {
  return [itemName.slice(1), itemName];
}

/** Parameter Store's rules, except the "aws"/"ssm" prefix reservation, which Secrets Manager does not have. */
function checkSecretItemName(name: string): NameProblem | null {
  const problem = checkItemName(name);
  return problem && problem.rule !== 'reserved-prefix' ? problem : null;
}

function inListing(name: string, path: string, recursive: boolean): boolean {
  return recursive ? name.startsWith(path) : folderOf(name) === path;
}

function byName(a: ItemMetadata, b: ItemMetadata): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function currentVersionOf(stages: Record<string, string[]> | undefined): { id: string; labels: string[] } | null {
  for (const [id, labels] of Object.entries(stages ?? {})) if (labels.includes(CURRENT)) return { id, labels: [...labels].sort() };
  return null;
}

function rotationOf(secret: DescribeSecretResponse | SecretListEntry): RotationStatus {
  const rules = secret.RotationRules;
  const schedule =
    rules?.ScheduleExpression ?? (rules?.AutomaticallyAfterDays !== undefined ? `rate(${rules.AutomaticallyAfterDays} days)` : null);
  return {
    enabled: secret.RotationEnabled === true,
    schedule,
    lastRotatedAt: isoDate(secret.LastRotatedDate),
    nextRotationAt: isoDate(secret.NextRotationDate),
    lastAccessedAt: isoDate(secret.LastAccessedDate),
    lambdaArn: secret.RotationLambdaARN ?? null,
  };
}

export class SecretsManagerStore extends AwsStoreBase<SecretsManagerClient> implements SecretStore {
  readonly kind = 'secretsmanager' as const;
  /** The chains of the walk under way read from both ends: the names each half has read. */
  private readonly twins = new Map<string, { asc: Set<string>; desc: Set<string>; done: boolean }>();

  /** Opens nothing: the client is made on the first call, so start-up works offline. */
  static fromConfig(config: AwsConnection & { id: string; label?: string; writable?: boolean }, limits?: AwsCallLimits): SecretsManagerStore {
    return new SecretsManagerStore(
      config.id,
      config.label ?? `${config.id} (${config.region})`,
      lazy(() => createSecretsManagerClient(config, limits)),
      lazy(() => createSecretsManagerClient(config, { ...limits, maxAttempts: 1 })),
      config.writable === true,
    );
  }

  private assertName(name: string): void {
    refuseBadName(this.id, checkSecretItemName(name));
  }

  private toMetadata(secret: SecretListEntry | DescribeSecretResponse): ItemMetadata | null {
    if (!secret.Name) return null;
    const name = secretToItemName(secret.Name);
    // Names outside the shared naming rules (e.g. with '+', '=' or '@') cannot be opened by name
    // here, so they are left out of the tree.
    if (checkSecretItemName(name)) return null;
    const stages = 'SecretVersionsToStages' in secret ? secret.SecretVersionsToStages : (secret as DescribeSecretResponse).VersionIdsToStages;
    const current = currentVersionOf(stages);
    return {
      name,
      folder: folderOf(name),
      kind: 'secret',
      description: secret.Description || null,
      tags: tagRecord(secret.Tags),
      kmsKeyId: secret.KmsKeyId ?? null,
      lastChangedAt: isoDate(secret.LastChangedDate) ?? isoDate(secret.CreatedDate) ?? EPOCH,
      // Secrets Manager does not say who changed a secret; only CloudTrail knows.
      lastChangedBy: null,
      currentVersion: current?.id ?? '',
      labels: current?.labels ?? [],
    };
  }

  /** The name prefixes one listing walks through, one ListSecrets sequence each. */
  private prefixes(path: string): (string | undefined)[] {
    return path === '/' ? [undefined] : [path.slice(1), path];
  }

  private listSecrets(prefix: string | undefined, maxResults: number, token: string | undefined) {
    return this.call('secretsmanager:ListSecrets', (client) =>
      client.send(
        new ListSecretsCommand({
          MaxResults: maxResults,
          NextToken: token,
          IncludePlannedDeletion: false,
          SortBy: 'name',
          SortOrder: 'asc',
          ...(prefix !== undefined ? { Filters: [{ Key: 'name', Values: [prefix] }] } : {}),
        }),
      ),
    );
  }

  /**
   * One page of the inventory walk (ListSecrets, 100 a call). The listing already carries tags,
   * rotation and last-accessed dates, so no DescribeSecret per secret is needed. A big store is
   * walked as several concurrent chains of name filters (see secrets-manager-walk.ts): a chain
   * that has read its first page(s) and has more asks for its last name (one result, descending)
   * and splits into disjoint chains, which the sync walks at once under one rate limiter.
   */
  async inventoryPage(rawToken: string | undefined, hints?: InventoryPageHints): Promise<InventoryPage> {
    const token = decodeWalkToken(rawToken);
    const forkRoom = hints?.forkRoom ?? 0;
    const filters = chainFilters(token);
    const base = { IncludePlannedDeletion: false, SortBy: 'name' as const, ...(filters ? { Filters: filters } : {}) };
    if (token.probe) {
      const out = await this.callOnce('secretsmanager:ListSecrets', (client) => client.send(new ListSecretsCommand({ ...base, MaxResults: 1, SortOrder: 'desc' })));
      const page = this.toInventoryPage(out.SecretList ?? []);
      const last = out.SecretList?.[0]?.Name;
      const parts = token.f !== undefined && last !== undefined ? splitChain(token, token.f, last, forkRoom, token.s) : null;
      if (parts) return { ...page, forks: parts.map((chain) => encodeWalkToken({ ...chain, k: 0 })) };
      // No split after all: the chain goes on where it was; it may try again later unless it was
      // not for want of room (nothing to split on, or no filter left).
      const never = last === undefined || forkRoom >= 2;
      return { ...page, nextToken: encodeWalkToken({ p: token.p, n: token.n, t: token.t, k: token.k, f: token.f, s: token.s, ...(never ? { x: true as const } : {}) }) };
    }
    if (rawToken === undefined) this.twins.clear();
    const pair = token.tw !== undefined ? this.twins.get(token.tw) : undefined;
    // The other half of a pair has met this one (or finished the chain): nothing is left to read.
    if (token.tw !== undefined && (!pair || pair.done)) return { records: [], skipped: 0, identities: { records: [], skipped: [] }, noCall: true };
    const out = await this.callOnce('secretsmanager:ListSecrets', (client) =>
      client.send(new ListSecretsCommand({ ...base, MaxResults: SECRETS_MANAGER_MAX_RESULTS, NextToken: token.t, SortOrder: token.d ? 'desc' : 'asc' })),
    );
    const page = this.toInventoryPage(out.SecretList ?? []);
    const names = (out.SecretList ?? []).flatMap((s) => (s.Name ? [s.Name] : []));
    let next = out.NextToken || undefined;
    if (pair) {
      const mine = token.d ? pair.desc : pair.asc;
      const theirs = token.d ? pair.asc : pair.desc;
      if (names.some((name) => theirs.has(name))) next = undefined;
      for (const name of names) mine.add(name);
      if (!next) {
        pair.done = true;
        this.twins.delete(token.tw!);
      }
    }
    if (!next) return page;
    const pagesRead = token.k + 1;
    const hintsNow = { forkRoom, idle: hints?.idle };
    if (!token.d && wantsTwin(token, pagesRead, hintsNow)) {
      const tw = randomUUID();
      this.twins.set(tw, { asc: new Set(names), desc: new Set(), done: false });
      return {
        ...page,
        nextToken: encodeWalkToken({ p: token.p, n: token.n, t: next, k: pagesRead, tw }),
        forks: [encodeWalkToken({ p: token.p, n: token.n, k: 0, tw, d: true })],
      };
    }
    if (token.tw) return { ...page, nextToken: encodeWalkToken({ ...token, t: next, k: pagesRead }) };
    // What a split needs (the chain's first name and a sample of its first page) rides along.
    const sample = token.k === 0 ? { f: names[0], s: sampleNames(names) } : { f: token.f, s: token.s };
    const probe = wantsSplit(token, pagesRead, hintsNow) ? { probe: true as const } : {};
    return { ...page, nextToken: encodeWalkToken({ p: token.p, n: token.n, t: next, k: pagesRead, ...sample, ...(token.x ? { x: true as const } : {}), ...probe }) };
  }

  private toInventoryPage(secrets: SecretListEntry[]): InventoryPage {
    const records = [];
    const identities: { records: string[]; skipped: string[] } = { records: [], skipped: [] };
    let skipped = 0;
    for (const secret of secrets) {
      const metadata = this.toMetadata(secret);
      if (!metadata) {
        skipped++;
        identities.skipped.push(secret.ARN ?? secret.Name ?? '');
        continue;
      }
      // Stages feed freshness: AWSPENDING on a version that is not AWSCURRENT is a rotation under way (or
      // stuck), and a secret with one staged version and no rotation still holds its first value.
      const stages = secret.SecretVersionsToStages;
      const pending = Object.entries(stages ?? {}).find(([, labels]) => labels.includes('AWSPENDING') && !labels.includes(CURRENT))?.[0];
      records.push({
        ...metadata,
        extra: {
          ...(secret.ARN ? { arn: secret.ARN } : {}),
          type: 'secret',
          rotation: rotationOf(secret),
          ...(stages ? { stagedVersions: Object.keys(stages).length } : {}),
          ...(pending ? { pendingVersion: pending } : {}),
        },
      });
      // The secret's own name (ARN when known): "a/b" and "/a/b" are one item name but two secrets.
      identities.records.push(secret.ARN ?? secret.Name!);
    }
    return { records, skipped, identities };
  }

  async list({ path, recursive = false, cursor, limit }: ListOptions): Promise<ListPage> {
    this.assertFolder(path);
    const key = listingKey(path, recursive);
    const prefixes = this.prefixes(path);
    let state: ListCursor | null = cursor ? decodeCursor(this.id, cursor, key) : { q: key, s: 0 };
    if (state.s >= prefixes.length) throw new StoreError('invalid-name', this.id, `Store "${this.id}": the page cursor is malformed; start again from the first page.`);
    const pageSize = clampPageSize(limit, SECRETS_MANAGER_MAX_RESULTS);
    for (let page = 0; page < MAX_PAGES_PER_CALL && state; page++) {
      const out = await this.listSecrets(prefixes[state.s], pageSize, state.t);
      // The name filter is a plain prefix match; the exact level is chosen here.
      const items = (out.SecretList ?? [])
        .map((s) => this.toMetadata(s))
        .filter((item): item is ItemMetadata => item !== null && inListing(item.name, path, recursive))
        .sort(byName);
      const next: ListCursor | null = out.NextToken
        ? { q: key, s: state.s, t: out.NextToken }
        : state.s + 1 < prefixes.length
          ? { q: key, s: state.s + 1 }
          : null;
      state = next;
      if (items.length > 0 || !state) return { items, nextCursor: state ? encodeCursor(state) : undefined };
    }
    return { items: [], nextCursor: state ? encodeCursor(state) : undefined };
  }

  async listFolders(path: string): Promise<string[]> {
    this.assertFolder(path);
    return this.folders.get(path, async () => {
      const names: string[] = [];
      let pages = 0;
      for (const prefix of this.prefixes(path)) {
        let token: string | undefined;
        do {
          if (pages++ >= MAX_FOLDER_PAGES) {
            logger.warn({ store: this.id, path, pages: MAX_FOLDER_PAGES }, 'folder listing stopped early: too many secrets below this path');
            return childFolders(path, names);
          }
          const out = await this.listSecrets(prefix, SECRETS_MANAGER_MAX_RESULTS, token);
          for (const s of out.SecretList ?? []) {
            const name = s.Name && secretToItemName(s.Name);
            if (name && !checkSecretItemName(name)) names.push(name);
          }
          token = out.NextToken || undefined;
        } while (token);
      }
      return childFolders(path, names);
    });
  }

  private async describe(name: string): Promise<DescribeSecretResponse | null> {
    for (const secretId of itemToSecretNames(name)) {
      try {
        const out = await this.client().send(new DescribeSecretCommand({ SecretId: secretId }));
        // A name that looks like a partial ARN can resolve to another secret; only an exact match counts.
        if (out.Name === secretId) return out;
      } catch (error) {
        if (isAwsNotFound(error)) continue;
        throw toStoreError(this.id, 'secretsmanager:DescribeSecret', error);
      }
    }
    return null;
  }

  private async versions(secretId: string): Promise<ItemVersion[]> {
    const versions: { version: ItemVersion; created: number }[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_VERSION_PAGES; page++) {
      const out = await this.call('secretsmanager:ListSecretVersionIds', (client) =>
        client.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true, MaxResults: 100, NextToken: token })),
      );
      for (const v of out.Versions ?? []) {
        if (!v.VersionId) continue;
        const createdAt = isoDate(v.CreatedDate) ?? EPOCH;
        versions.push({
          version: { id: v.VersionId, createdAt, createdBy: null, labels: [...(v.VersionStages ?? [])].sort() },
          created: Date.parse(createdAt),
        });
      }
      token = out.NextToken || undefined;
      if (!token) break;
    }
    return versions.sort((a, b) => b.created - a.created).map((v) => v.version);
  }

  /** The secret behind an item name, or a not-found StoreError; secrets scheduled for deletion count as gone. */
  private async existing(name: string): Promise<DescribeSecretResponse & { ARN: string }> {
    this.assertName(name);
    const secret = await this.describe(name);
    if (!secret || secret.DeletedDate || !secret.ARN) throw new StoreError('not-found', this.id, `There is no item ${name} in store "${this.id}".`);
    return secret as DescribeSecretResponse & { ARN: string };
  }

  /**
   * The secret's resource policy document, or null when it has none: GetResourcePolicy, which
   * returns the policy and never the value. For the findings' background reader, which paces itself.
   */
  async resourcePolicy(arn: string): Promise<string | null> {
    const out = await this.callOnce('secretsmanager:GetResourcePolicy', (client) => client.send(new GetResourcePolicyCommand({ SecretId: arn })));
    return out.ResourcePolicy ?? null;
  }

  /** The plaintext of the current version (or a version id or stage): GetSecretValue. Never called by browsing. */
  async readValue(name: string, version?: string): Promise<string> {
    const secret = await this.existing(name);
    const selector = version === undefined ? {} : /^AWS[A-Z]+$/.test(version) ? { VersionStage: version } : { VersionId: version };
    const out = await this.call('secretsmanager:GetSecretValue', (client) => client.send(new GetSecretValueCommand({ SecretId: secret.ARN, ...selector })));
    if (out.SecretString === undefined)
      throw new ConflictError(`${name} holds binary data (SecretBinary); the dashboard reads and writes text secrets only.`);
    return out.SecretString;
  }

  /**
   * A new AWSCURRENT version with PutSecretValue. The request id is the ClientRequestToken, so AWS
   * itself makes a retried request write once.
   */
  async writeValue(input: WriteValueInput): Promise<WrittenVersion> {
    const secret = await this.existing(input.name);
    const out = await this.write('secretsmanager:PutSecretValue', input.name, (client) =>
      client.send(new PutSecretValueCommand({ SecretId: secret.ARN, SecretString: input.value, ClientRequestToken: input.requestId })),
    );
    if (!out.VersionId) throw new StoreError('unavailable', this.id, `Store "${this.id}": PutSecretValue answered without a version id; check the secret in AWS.`);
    return { version: out.VersionId, createdAt: new Date().toISOString() };
  }

  /**
   * Starts the secret's rotation function now (RotateSecret, RotateImmediately). AWS answers with
   * the new version's id at once; it stays AWSPENDING until the function promotes it to AWSCURRENT.
   * The request id is the ClientRequestToken, so a double click rotates once.
   */
  async rotateNow(name: string, requestId: string): Promise<WrittenVersion> {
    const secret = await this.existing(name);
    if (!secret.RotationLambdaARN) throw new ConflictError(`${name} has no rotation function in AWS; generate a new value instead.`);
    const out = await this.write('secretsmanager:RotateSecret', name, (client) =>
      client.send(new RotateSecretCommand({ SecretId: secret.ARN, ClientRequestToken: requestId, RotateImmediately: true })),
    );
    if (!out.VersionId) throw new StoreError('unavailable', this.id, `Store "${this.id}": RotateSecret answered without a version id; check the secret in AWS.`);
    return { version: out.VersionId, createdAt: new Date().toISOString(), pending: true };
  }

  /** Whether the item rotates through a function in AWS (RotateSecret) rather than by a new value from the dashboard. */
  async hasRotationFunction(name: string): Promise<boolean> {
    return Boolean((await this.existing(name)).RotationLambdaARN);
  }

  /**
   * Sets the rotation schedule (RotateSecret with RotationRules, RotateImmediately false: AWS tests
   * the function but does not rotate now), or turns rotation off (CancelRotateSecret) with null.
   */
  async setRotationSchedule(name: string, schedule: { expression: string; window?: string } | null): Promise<RotationStatus> {
    const secret = await this.existing(name);
    if (schedule === null) {
      await this.write('secretsmanager:CancelRotateSecret', name, (client) => client.send(new CancelRotateSecretCommand({ SecretId: secret.ARN })));
    } else {
      if (!secret.RotationLambdaARN) throw new ConflictError(`${name} has no rotation function in AWS; set one up in Secrets Manager before giving it a schedule.`);
      await this.write('secretsmanager:RotateSecret', name, (client) =>
        client.send(
          new RotateSecretCommand({
            SecretId: secret.ARN,
            RotationLambdaARN: secret.RotationLambdaARN,
            RotationRules: { ScheduleExpression: schedule.expression, ...(schedule.window ? { Duration: schedule.window } : {}) },
            RotateImmediately: false,
          }),
        ),
      );
    }
    return rotationOf(await this.existing(name));
  }

  /** Where a version stands in a rotation: its stages now, and the secret's rotation state. */
  async versionStages(name: string, versionId: string): Promise<{ stages: string[]; rotation: RotationStatus }> {
    const secret = await this.existing(name);
    return { stages: [...(secret.VersionIdsToStages?.[versionId] ?? [])].sort(), rotation: rotationOf(secret) };
  }

  /** The item as the inventory keeps it, straight after a write (one DescribeSecret call). */
  async inventoryRecord(name: string): Promise<InventoryRecord | null> {
    this.assertName(name);
    const secret = await this.describe(name);
    if (!secret || secret.DeletedDate) return null;
    return this.toInventoryPage([{ ...secret, SecretVersionsToStages: secret.VersionIdsToStages }]).records[0] ?? null;
  }

  async getItem(name: string): Promise<ItemDetail | null> {
    this.assertName(name);
    const secret = await this.describe(name);
    // Secrets scheduled for deletion are hidden from listings, so they are not shown here either.
    const metadata = secret && !secret.DeletedDate ? this.toMetadata(secret) : null;
    if (!secret || !metadata) return null;
    let versions: ItemVersion[];
    try {
      versions = await this.versions(secret.ARN ?? secret.Name!);
    } catch (error) {
      if (error instanceof StoreError && error.code === 'not-found') return null;
      throw error;
    }
    const currentVersion = metadata.currentVersion || versions.find((v) => v.labels.includes(CURRENT))?.id || versions[0]?.id || '';
    const details: ItemDetails = {
      ...(secret.ARN ? { arn: secret.ARN } : {}),
      ...(secret.Type ? { type: secret.Type } : {}),
      rotation: rotationOf(secret),
      ...(secret.ReplicationStatus?.length
        ? { replicationRegions: secret.ReplicationStatus.map((r) => ({ region: r.Region ?? '', status: r.Status ?? null })) }
        : {}),
    };
    return {
      ...metadata,
      currentVersion,
      labels: versions.find((v) => v.id === currentVersion)?.labels ?? metadata.labels,
      versions,
      details,
    };
  }
}
