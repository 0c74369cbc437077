import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, readEnv, type AppEnv } from '@/lib/config/env';
import {
  AWS_REGION_PATTERN,
  credentialsFileField,
  credentialsFileMessage,
  credentialsFileNeedsProfile,
  EXTERNAL_ID_PATTERN,
  loadStoreConfigs,
  PROFILE_PATTERN,
  ROLE_ARN_PATTERN,
  resolveCredentialsFile,
  STORE_ID_PATTERN,
  unknownKeys,
  unknownProfileProblem,
  type AwsFileEnv,
  type StoreConfig,
} from '@/lib/config/stores';
import { at, readConfigFile, type ConfigDocument } from '@/lib/config/yaml-file';
import type { AwsConnection } from '@/lib/stores/aws-clients';
import type { StoreLocator } from './types';

// Which CloudTrail sources the audit sync reads: one LookupEvents source per distinct account and
// region of the configured AWS stores, plus the entries of CONFIG_FILE's `audit:` list
// (lookup-events, or cloudtrail-s3 for a trail's log bucket). Every problem names the line.

export interface LookupEventsSourceConfig {
  id: string;
  kind: 'lookup-events';
  connection: AwsConnection;
  /** From roleArn when there is one; null = whatever account the credentials belong to. */
  account: string | null;
  /** The stores this source was derived from (empty for an `audit:` entry). */
  stores: string[];
}

export interface S3SourceConfig {
  id: string;
  kind: 'cloudtrail-s3';
  connection: AwsConnection;
  account: string | null;
  bucket: string;
  /** The trail's S3 key prefix, without a trailing slash ('' for none). */
  prefix: string;
  /** Only these accounts' / regions' logs (default: every one found under AWSLogs/). */
  accounts?: string[];
  regions?: string[];
  /** Hours back from now whose day prefixes are listed again for files delivered late (default DEFAULT_LOOKBACK_HOURS). */
  lookbackHours?: number;
}

/**
 * CloudTrail "typically delivers logs within an average of about 5 minutes of an API call" and
 * says that is not guaranteed (15 minutes was its word before 2023): two hours covers the rare
 * late file, and past midnight UTC brings the previous day's prefix into the re-listing.
 */
export const DEFAULT_LOOKBACK_HOURS = 2;
export const MAX_LOOKBACK_HOURS = 168;

export type CloudTrailSourceConfig = LookupEventsSourceConfig | S3SourceConfig;

const ACCOUNT_PATTERN = /^\d{12}$/;
const BUCKET_PATTERN = /^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_PATTERN = /^[\w!\-.*'()/]{0,200}$/;

const region = z
  .string({ error: 'region is required, e.g. eu-west-1' })
  .regex(AWS_REGION_PATTERN, { message: 'region must be an AWS region such as us-east-1 or eu-west-2' });
const connectionFields = {
  id: z.string({ error: 'id is required: a short URL-safe name such as prod-trail' }).regex(STORE_ID_PATTERN, {
    message: 'id must be 1-63 lowercase letters, digits or "-", starting with a letter or digit',
  }),
  region,
  profile: z.string().regex(PROFILE_PATTERN, { message: 'profile must be a profile name from ~/.aws/config or ~/.aws/credentials' }).optional(),
  credentialsFile: credentialsFileField,
  roleArn: z
    .string()
    .regex(ROLE_ARN_PATTERN, { message: 'roleArn must be an IAM role ARN such as arn:aws:iam::123456789012:role/audit-read' })
    .optional(),
  externalId: z.string().regex(EXTERNAL_ID_PATTERN, { message: 'externalId must be 2-1224 characters of letters, digits and +=,.@:/-' }).optional(),
  endpoint: z.url({ protocol: /^https?$/, message: 'endpoint must be an http(s) URL, e.g. http://localhost:4566' }).optional(),
};
const externalIdNeedsRole = (entry: { externalId?: string; roleArn?: string }) => entry.externalId === undefined || entry.roleArn !== undefined;
const externalIdMessage = { message: 'externalId is only used when assuming a role: add roleArn or remove externalId', path: ['externalId'] };

const lookupKeys = ['id', 'kind', 'region', 'profile', 'credentialsFile', 'roleArn', 'externalId', 'endpoint'];
const lookupEntry = z
  .strictObject({ ...connectionFields, kind: z.literal('lookup-events') }, { error: unknownKeys('key', lookupKeys) })
  .refine(externalIdNeedsRole, externalIdMessage)
  .refine(credentialsFileNeedsProfile, credentialsFileMessage);

const s3Keys = [...lookupKeys, 'bucket', 'prefix', 'accounts', 'regions', 'lookbackHours'];
const s3Entry = z
  .strictObject(
    {
      ...connectionFields,
      kind: z.literal('cloudtrail-s3'),
      bucket: z
        .string({ error: 'bucket is required: the trail\'s S3 bucket name' })
        .regex(BUCKET_PATTERN, { message: 'bucket must be an S3 bucket name: 3-63 lowercase letters, digits, "." or "-"' }),
      prefix: z
        .string()
        .regex(PREFIX_PATTERN, { message: 'prefix must be the trail\'s S3 key prefix: up to 200 letters, digits and !-_.*\'()/' })
        .optional(),
      accounts: z
        .array(z.string().regex(ACCOUNT_PATTERN, { message: 'accounts are 12-digit AWS account ids' }), { error: 'accounts is a list of 12-digit account ids' })
        .min(1, { message: 'accounts must not be empty; remove it to read every account' })
        .optional(),
      regions: z.array(region, { error: 'regions is a list of AWS regions' }).min(1, { message: 'regions must not be empty; remove it to read every region' }).optional(),
      lookbackHours: z
        .number({ error: `lookbackHours is a number of hours (default ${DEFAULT_LOOKBACK_HOURS})` })
        .int({ message: 'lookbackHours must be a whole number of hours' })
        .min(0, { message: 'lookbackHours must be 0 or more' })
        .max(MAX_LOOKBACK_HOURS, { message: `lookbackHours must be at most ${MAX_LOOKBACK_HOURS} (a week): each run lists every day prefix it reaches again` })
        .optional(),
    },
    { error: unknownKeys('key', s3Keys) },
  )
  .refine(externalIdNeedsRole, externalIdMessage)
  .refine(credentialsFileNeedsProfile, credentialsFileMessage);

// Vault's file audit device: the file Vault writes (its rotated files beside it are read too), or a
// folder of them; `store` names the Vault store whose mount, namespace and pathPrefix the events map to.
const vaultFileKeys = ['id', 'kind', 'store', 'path'];
const vaultFileEntry = z.strictObject(
  {
    id: connectionFields.id,
    kind: z.literal('vault-file'),
    store: z.string({ error: 'store is required: the id of the Vault store (kind: vault) this audit log belongs to' }).regex(STORE_ID_PATTERN, {
      message: 'store must be the id of a store of kind vault',
    }),
    path: z
      .string({ error: "path is required: Vault's audit file (file_path of the file audit device) or the folder of its rotated files" })
      .trim()
      .min(1, { message: 'path must not be empty' })
      .max(4096, { message: 'path is at most 4096 characters' })
      .refine((v) => !v.includes('\0'), { message: 'path must be a file or folder path' }),
  },
  { error: unknownKeys('key', vaultFileKeys) },
);

export interface VaultFileSourceConfig {
  id: string;
  kind: 'vault-file';
  /** The Vault store (kind: vault) the events map to. */
  storeId: string;
  /** KV v2 mount, namespace ('' for the root namespace) and pathPrefix ('' or ending '/') of that store. */
  mount: string;
  namespace: string;
  prefix: string;
  /** Absolute: the audit file, or a folder of audit files. */
  path: string;
}

export const AUDIT_SOURCE_KINDS = ['lookup-events', 'cloudtrail-s3', 'vault-file'] as const;
const auditEntry = z.discriminatedUnion('kind', [lookupEntry, s3Entry, vaultFileEntry], {
  error: (issue) => (issue.code === 'invalid_union' ? `kind must be one of ${AUDIT_SOURCE_KINDS.join(', ')}` : undefined),
});
const auditSection = z
  .array(auditEntry, { error: 'audit is a list of CloudTrail sources and Vault audit files: - { id, kind: lookup-events | cloudtrail-s3, region, ... } or - { id, kind: vault-file, store, path }' })
  .superRefine((entries, ctx) => {
    const seen = new Map<string, number>();
    entries.forEach((entry, index) => {
      const first = seen.get(entry.id);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `id "${entry.id}" is already used by audit[${first}]; ids must be unique` });
      else seen.set(entry.id, index);
    });
  });

type AuditEntry = z.infer<typeof auditEntry>;

export function accountOfRole(roleArn: string | undefined): string | null {
  return roleArn ? (roleArn.split(':')[4] ?? null) : null;
}

function connectionOf(entry: { region: string; profile?: string; credentialsFile?: string; roleArn?: string; externalId?: string; endpoint?: string }): AwsConnection {
  return {
    region: entry.region,
    ...(entry.profile ? { profile: entry.profile } : {}),
    ...(entry.credentialsFile ? { credentialsFile: entry.credentialsFile } : {}),
    ...(entry.roleArn ? { roleArn: entry.roleArn } : {}),
    ...(entry.externalId ? { externalId: entry.externalId } : {}),
    ...(entry.endpoint ? { endpoint: entry.endpoint } : {}),
  };
}

/** Two sources with the same key read the same account's CloudTrail in the same region. */
export function connectionKey(connection: AwsConnection): string {
  const key = [connection.region, connection.roleArn ?? '', connection.profile ?? '', connection.endpoint ?? ''];
  // Only when set, so the ids derived from connections without one stay as they were.
  if (connection.credentialsFile) key.push(connection.credentialsFile);
  return key.join('|');
}

/** The `audit:` section parsed, every problem naming its line (none when the section is absent). */
function parseAuditSection(config: ConfigDocument): AuditEntry[] {
  const raw = (config.raw as { audit?: unknown } | null)?.audit;
  if (raw === undefined || raw === null) return [];
  const parsed = auditSection.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const [index, ...field] = issue.path;
      const entry = typeof index === 'number' && Array.isArray(raw) ? (raw[index] as { id?: unknown } | undefined) : undefined;
      const where = typeof index === 'number' ? `audit[${index}]${typeof entry?.id === 'string' ? ` (id "${entry.id}")` : ''}` : 'audit';
      const name = field.map(String).join('.');
      const prefix = name && !issue.message.startsWith(name) ? `${name}: ` : '';
      return `${at(config, ['audit', ...issue.path])}: ${where}: ${prefix}${issue.message}`;
    });
    throw new ConfigError(`The audit sources in the configuration file have problems:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}

/** `audit:` entries of AWS CloudTrail of an already parsed config file (none when the section is absent). */
export function auditSourcesFromConfig(config: ConfigDocument, awsEnv: AwsFileEnv = process.env): CloudTrailSourceConfig[] {
  const entries = parseAuditSection(config).flatMap((e) =>
    e.kind === 'vault-file' ? [] : [e.credentialsFile ? { ...e, credentialsFile: resolveCredentialsFile(config.source, e.credentialsFile) } : e],
  );
  const problems = entries.flatMap((e, index) => {
    const problem = unknownProfileProblem(e, awsEnv);
    return problem ? [`${at(config, ['audit', index, problem.missingFile ? 'credentialsFile' : 'profile'])}: audit[${index}] (id "${e.id}"): ${problem.message}`] : [];
  });
  if (problems.length > 0) throw new ConfigError(`The audit sources name AWS profiles that cannot be found:\n  ${problems.join('\n  ')}`);
  return entries.map(toSourceConfig);
}

/**
 * `audit:` entries of Vault's file audit device, each tied to a Vault store of `stores` (a path
 * relative to CONFIG_FILE's folder made absolute). Whether the file is there is the source's status,
 * not a configuration error: Vault may not have written it yet.
 */
export function vaultFileSourcesFromConfig(config: ConfigDocument, stores: readonly StoreConfig[]): VaultFileSourceConfig[] {
  const problems: string[] = [];
  const sources: VaultFileSourceConfig[] = [];
  parseAuditSection(config).forEach((entry, index) => {
    if (entry.kind !== 'vault-file') return;
    const store = stores.find((s) => s.id === entry.store);
    if (!store || store.kind !== 'vault') {
      const vaults = stores.filter((s) => s.kind === 'vault').map((s) => `"${s.id}"`);
      const what = store ? `is a store of kind ${store.kind}, not vault` : 'names no configured store';
      problems.push(
        `${at(config, ['audit', index, 'store'])}: audit[${index}] (id "${entry.id}"): store "${entry.store}" ${what}; ${vaults.length ? `the Vault stores are ${vaults.join(', ')}` : 'add a store of kind vault first'}`,
      );
      return;
    }
    sources.push({
      id: entry.id,
      kind: 'vault-file',
      storeId: store.id,
      mount: store.mount,
      namespace: store.namespace ?? '',
      prefix: store.pathPrefix ? `${store.pathPrefix}/` : '',
      path: resolveCredentialsFile(config.source, entry.path),
    });
  });
  if (problems.length > 0) throw new ConfigError(`The audit sources name stores that are not Vault stores:\n  ${problems.join('\n  ')}`);
  return sources;
}

/**
 * The ids of the Vault stores whose access the dashboard reads from an `audit:` entry of kind
 * vault-file: the item page shows such a store's Access panel (empty until events arrive), and for
 * any other Vault store says how to configure one. None without CONFIG_FILE.
 */
export function vaultStoresWithAuditSource(env: AppEnv = readEnv(), awsEnv: AwsFileEnv = process.env): Set<string> {
  // The same reading of the configuration as the audit sources themselves and the findings' read coverage.
  return new Set(loadCloudTrailSources(env, awsEnv).vaultSources.map((source) => source.storeId));
}

function toSourceConfig(entry: Exclude<AuditEntry, { kind: 'vault-file' }>): CloudTrailSourceConfig {
  const connection = connectionOf(entry);
  const account = accountOfRole(entry.roleArn);
  if (entry.kind === 'lookup-events') return { id: entry.id, kind: 'lookup-events', connection, account, stores: [] };
  return {
    id: entry.id,
    kind: 'cloudtrail-s3',
    connection,
    account,
    bucket: entry.bucket,
    prefix: (entry.prefix ?? '').replace(/^\/+|\/+$/g, ''),
    ...(entry.accounts ? { accounts: [...new Set(entry.accounts)] } : {}),
    ...(entry.regions ? { regions: [...new Set(entry.regions)] } : {}),
    ...(entry.lookbackHours !== undefined ? { lookbackHours: entry.lookbackHours } : {}),
  };
}

/** A stable, readable id for a source derived from stores: aws-<account|default>-<region>[-<profile>][-<hash of endpoint>]. */
function derivedId(connection: AwsConnection, account: string | null): string {
  const parts = ['aws', account ?? 'default', connection.region];
  if (connection.profile) parts.push(connection.profile.toLowerCase().replace(/[^a-z0-9-]+/g, '-'));
  if (connection.endpoint || (connection.roleArn && !account)) parts.push(createHash('sha256').update(connectionKey(connection)).digest('hex').slice(0, 6));
  return parts.join('-').replace(/-+/g, '-').slice(0, 63).replace(/-$/, '');
}

/**
 * Every source: one LookupEvents per distinct connection of the AWS stores (an `audit:` entry for
 * the same connection takes its place, under its own id), then the `audit:` entries.
 */
export function cloudTrailSources(stores: readonly StoreConfig[], explicit: readonly CloudTrailSourceConfig[]): CloudTrailSourceConfig[] {
  const explicitKeys = new Set(explicit.filter((s) => s.kind === 'lookup-events').map((s) => connectionKey(s.connection)));
  const derived = new Map<string, LookupEventsSourceConfig>();
  for (const store of stores) {
    if (store.kind === 'local' || store.kind === 'vault') continue;
    const connection = connectionOf(store);
    const key = connectionKey(connection);
    if (explicitKeys.has(key)) continue;
    const existing = derived.get(key);
    if (existing) existing.stores.push(store.id);
    else derived.set(key, { id: '', kind: 'lookup-events', connection, account: accountOfRole(store.roleArn), stores: [store.id] });
  }
  const used = new Set(explicit.map((s) => s.id));
  for (const source of derived.values()) {
    let id = derivedId(source.connection, source.account);
    for (let n = 2; used.has(id); n++) id = `${derivedId(source.connection, source.account).slice(0, 58)}-${n}`;
    used.add(id);
    source.id = id;
  }
  return [...derived.values(), ...explicit];
}

/** Where the index maps events: the configured AWS stores with their region and (when known) account, and the Vault stores with their pathPrefix. */
export function storeLocators(stores: readonly StoreConfig[]): StoreLocator[] {
  return stores.flatMap((s): StoreLocator[] => {
    if (s.kind === 'local') return [];
    if (s.kind === 'vault') return [{ storeId: s.id, kind: 'vault', prefix: s.pathPrefix ? `${s.pathPrefix}/` : '' }];
    return [{ storeId: s.id, kind: s.kind, region: s.region, account: accountOfRole(s.roleArn) }];
  });
}

export function loadCloudTrailSources(
  env: AppEnv = readEnv(),
  awsEnv: AwsFileEnv = process.env,
): { sources: CloudTrailSourceConfig[]; vaultSources: VaultFileSourceConfig[]; stores: StoreLocator[] } {
  const stores = loadStoreConfigs(env, awsEnv);
  const config = env.CONFIG_FILE ? readConfigFile(env.CONFIG_FILE) : null;
  const explicit = config ? auditSourcesFromConfig(config, awsEnv) : [];
  const vaultSources = config ? vaultFileSourcesFromConfig(config, stores) : [];
  return { sources: cloudTrailSources(stores, explicit), vaultSources, stores: storeLocators(stores) };
}
