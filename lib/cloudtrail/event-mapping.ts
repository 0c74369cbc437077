import type { CloudTrailRecord, StoreLocator } from './types';
import { VAULT_EVENT_SOURCE } from './vault-audit-record';

// From one CloudTrail record to what reviewers filter on: who, what, when, from where, and which
// items of which stores it touched. Pure functions; every odd or missing field gives a null, never
// an exception, so no event is ever dropped for its shape.

export type StoreKind = StoreLocator['kind'];

/** One item (or, for GetParametersByPath, one folder) an event touched. */
export interface MappedItem {
  /** null when no configured store holds it (shown to admins only). */
  storeId: string | null;
  /** Item name with a leading '/'; a folder's ends in '/'. */
  itemName: string;
  /** For folders (GetParametersByPath): whether the read went below the folder's direct items. */
  recursive: boolean | null;
  /** A read that named one version rather than the current one (see VersionRef); absent when it did not. */
  version?: VersionRef;
}

/**
 * The version a read named: `version:<n or id>` (Parameter Store's "name:3", Secrets Manager's
 * versionId) or `label:<label>` (Parameter Store's "name:label", Secrets Manager's versionStage).
 * Readers that keep asking for an old one after a rotation are a finding (lib/findings/evaluate.ts).
 */
export type VersionRef = `version:${string}` | `label:${string}`;

export interface MappedEvent {
  /** ISO 8601 with milliseconds; the ingest time when the record's is missing or unreadable. */
  time: string;
  eventSource: string | null;
  eventName: string | null;
  readOnly: boolean;
  actorArn: string | null;
  actorType: string | null;
  /** The role behind an assumed-role session (sessionContext.sessionIssuer.arn). */
  actorRoleArn: string | null;
  /** Who is behind the call, stable across sessions: the session's role, else the identity's ARN,
   * else the invoking service or principal id. Readers are counted by it. */
  principal: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  errorCode: string | null;
  account: string | null;
  region: string | null;
  /** Empty when the event names no item: it is kept, unmapped. */
  items: MappedItem[];
}

export interface MappingContext {
  /** The source's account and region, used when the record lacks its own. */
  account: string | null;
  region: string | null;
  /** When the record is ingested (ISO), for records without a readable eventTime. */
  ingestedAt: string;
}

/** A reference to an item as an event names it, before a store is chosen. */
export interface ItemRef {
  kind: StoreKind;
  itemName: string;
  recursive: boolean | null;
  /** From an ARN, when the reference was one. */
  region: string | null;
  account: string | null;
  /** The version the reference selects, when it selects one. */
  version?: VersionRef;
}

const READ_NAME = /^(Get|Describe|List|BatchGet|Decrypt$)/;

/** Reads are what CloudTrail says (readOnly); without it, Get*, Describe*, List*, BatchGet* and Decrypt. */
export function isReadEvent(readOnly: unknown, eventName: string | null): boolean {
  if (typeof readOnly === 'boolean') return readOnly;
  return eventName !== null && READ_NAME.test(eventName);
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

const EVENT_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/;

/** CloudTrail's eventTime as ISO with milliseconds; impossible dates (which Date.parse rolls over) give the fallback. */
export function normalizeEventTime(value: unknown, fallback: string): string {
  const parts = typeof value === 'string' ? EVENT_TIME.exec(value) : null;
  if (!parts) return fallback;
  const [year, month, day, hour, minute] = parts.slice(1).map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59) return fallback;
  const ms = Date.parse(value as string);
  return Number.isNaN(ms) ? fallback : new Date(ms).toISOString();
}

interface Arn {
  service: string;
  region: string | null;
  account: string | null;
  resource: string;
}

export function parseArn(value: string): Arn | null {
  const parts = value.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return null;
  return { service: parts[2]!, region: parts[3] || null, account: parts[4] || null, resource: parts.slice(5).join(':') };
}

/** Names are shown with a leading '/' in both AWS stores (see lib/stores/secrets-manager.ts secretToItemName). */
const withLeadingSlash = (name: string): string => (name.startsWith('/') ? name : `/${name}`);

/**
 * A Parameter Store reference: a name ("/prod/db", "prod-db", "/prod/db:3", "/prod/db:label") or
 * an ARN ("arn:aws:ssm:eu-west-1:111122223333:parameter/prod/db"). Version and label selectors
 * (after ':'; names cannot hold ':') are dropped.
 */
export function ssmParameterRef(value: unknown): ItemRef | null {
  const raw = text(value);
  if (!raw) return null;
  let name = raw;
  let region: string | null = null;
  let account: string | null = null;
  if (raw.startsWith('arn:')) {
    const arn = parseArn(raw);
    if (!arn || arn.service !== 'ssm' || !arn.resource.startsWith('parameter')) return null;
    name = arn.resource.slice('parameter'.length);
    ({ region, account } = arn);
  }
  const [bare, selector] = name.split(':');
  name = bare!;
  if (name === '' || name === '/') return null;
  const ref: ItemRef = { kind: 'ssm', itemName: withLeadingSlash(name), recursive: null, region, account };
  if (selector) ref.version = /^\d+$/.test(selector) ? `version:${selector}` : `label:${selector}`;
  return ref;
}

/** The version GetSecretValue's requestParameters select (versionId wins, as AWS requires both to agree). */
function secretVersionOf(params: Record<string, unknown>): VersionRef | undefined {
  const id = text(params.versionId);
  if (id) return `version:${id}`;
  const stage = text(params.versionStage);
  return stage ? `label:${stage}` : undefined;
}

/** GetParametersByPath's path as a folder: leading and trailing '/'. */
export function ssmPathRef(value: unknown, recursive: unknown): ItemRef | null {
  const raw = text(value);
  if (!raw) return null;
  const folder = withLeadingSlash(raw.endsWith('/') ? raw : `${raw}/`);
  return { kind: 'ssm', itemName: folder, recursive: recursive === true || recursive === 'true', region: null, account: null };
}

/** Secrets Manager's ARNs end in '-' and six random characters, which are not part of the name. */
const SECRET_ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

/**
 * A Secrets Manager reference: a name ("prod/db" shown as "/prod/db") or an ARN
 * ("arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-a1B2c3"). A partial ARN
 * without the suffix cannot be told apart from a name ending in six characters after '-', so
 * ARNs are taken to be full ones, as CloudTrail records them.
 */
export function secretRef(value: unknown): ItemRef | null {
  const raw = text(value);
  if (!raw) return null;
  if (!raw.startsWith('arn:')) return { kind: 'secretsmanager', itemName: withLeadingSlash(raw), recursive: null, region: null, account: null };
  const arn = parseArn(raw);
  if (!arn || arn.service !== 'secretsmanager' || !arn.resource.startsWith('secret:')) return null;
  const name = arn.resource.slice('secret:'.length).replace(SECRET_ARN_SUFFIX, '');
  if (name === '') return null;
  return { kind: 'secretsmanager', itemName: withLeadingSlash(name), recursive: null, region: arn.region, account: arn.account };
}

/** An ARN of either store's items, whatever field it came from. */
export function arnRef(value: unknown): ItemRef | null {
  const raw = text(value);
  const arn = raw ? parseArn(raw) : null;
  if (!arn) return null;
  if (arn.service === 'ssm') return ssmParameterRef(raw);
  if (arn.service === 'secretsmanager') return secretRef(raw);
  return null;
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const asObject = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** A key of an object in any case (encryption contexts are written by hand in some SDKs). */
function field(object: Record<string, unknown>, key: string): unknown {
  if (key in object) return object[key];
  const lower = key.toLowerCase();
  const found = Object.keys(object).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : object[found];
}

/** The items an event names, per service, from requestParameters; then its `resources` ARNs. */
export function itemRefsOf(record: CloudTrailRecord): ItemRef[] {
  const params = asObject(record.requestParameters);
  const refs: (ItemRef | null)[] = [];
  switch (record.eventSource) {
    case 'ssm.amazonaws.com':
      refs.push(ssmParameterRef(params.name));
      refs.push(...asList(params.names).map(ssmParameterRef));
      if ('path' in params) refs.push(ssmPathRef(params.path, params.recursive));
      if (params.resourceType === 'Parameter') refs.push(ssmParameterRef(params.resourceId));
      break;
    case 'secretsmanager.amazonaws.com': {
      const named = secretRef(params.secretId);
      const version = record.eventName === 'GetSecretValue' ? secretVersionOf(params) : undefined;
      refs.push(named && version ? { ...named, version } : named);
      refs.push(...asList(params.secretIdList).map(secretRef));
      // CreateSecret names the new secret in `name`.
      refs.push(secretRef(params.name));
      break;
    }
    case 'kms.amazonaws.com': {
      const context = asObject(params.encryptionContext);
      refs.push(ssmParameterRef(field(context, 'PARAMETER_ARN')));
      refs.push(secretRef(field(context, 'SecretARN')));
      break;
    }
  }
  if (!refs.some(Boolean)) refs.push(...asList(record.resources).map((r) => arnRef(asObject(r).ARN)));
  return refs.filter((r): r is ItemRef => r !== null);
}

/**
 * The store an item lives in: same service and region, and the same account when both the store's
 * and the event's are known. A store whose account matches exactly wins over one whose account is
 * unknown; among equals the first configured wins.
 */
export function pickStore(stores: readonly StoreLocator[], kind: StoreKind, region: string | null, account: string | null): string | null {
  let fallback: string | null = null;
  for (const store of stores) {
    if (store.kind === 'vault' || store.kind !== kind || store.region !== region) continue;
    if (store.account !== null && account !== null) {
      if (store.account === account) return store.storeId;
      continue;
    }
    fallback ??= store.storeId;
  }
  return fallback;
}

function actorOf(identity: Record<string, unknown>) {
  const issuer = asObject(asObject(identity.sessionContext).sessionIssuer);
  const actorArn = text(identity.arn);
  const actorRoleArn = text(issuer.arn);
  return {
    actorArn,
    actorType: text(identity.type),
    actorRoleArn,
    principal: actorRoleArn ?? actorArn ?? text(identity.invokedBy) ?? text(identity.principalId),
  };
}

/** KV v2 endpoints whose path after them is a secret's key (config is the mount's own). */
const VAULT_KEYED = new Set(['data', 'metadata', 'subkeys', 'delete', 'undelete', 'destroy']);

/**
 * A Vault audit record's item (vault-audit-record.ts): the key after data/, metadata/... with the
 * store's pathPrefix taken off, as the store names it ('/app/db'); a LIST names the folder ('/app/').
 * A key outside the prefix, or a store no longer configured, maps to no store (admins only).
 */
export function vaultItemsOf(record: CloudTrailRecord, stores: readonly StoreLocator[]): MappedItem[] {
  const params = asObject(record.requestParameters);
  const path = text(params.path);
  const slash = path?.indexOf('/') ?? -1;
  if (!path || slash < 0 || !VAULT_KEYED.has(path.slice(0, slash))) return [];
  const list = params.operation === 'list';
  const key = path.slice(slash + 1).replace(/\/+$/, '');
  const store = stores.find((s) => s.kind === 'vault' && s.storeId === params.store);
  const prefix = store?.kind === 'vault' ? store.prefix : null;
  const inStore = prefix !== null && (key + (list ? '/' : '')).startsWith(prefix);
  const relative = inStore ? key.slice(prefix.length) : key;
  if (!list && relative === '') return [];
  const itemName = list ? (relative === '' ? '/' : `/${relative}/`) : `/${relative}`;
  const version = typeof params.version === 'number' ? { version: `version:${params.version}` as VersionRef } : {};
  return [{ storeId: inStore ? store!.storeId : null, itemName, recursive: list ? false : null, ...version }];
}

export function mapRecord(record: CloudTrailRecord, context: MappingContext, stores: readonly StoreLocator[]): MappedEvent {
  const eventName = text(record.eventName);
  if (record.eventSource === VAULT_EVENT_SOURCE) {
    return {
      time: normalizeEventTime(record.eventTime, context.ingestedAt),
      eventSource: VAULT_EVENT_SOURCE,
      eventName,
      readOnly: isReadEvent(record.readOnly, eventName),
      ...actorOf(asObject(record.userIdentity)),
      sourceIp: text(record.sourceIPAddress),
      userAgent: null,
      errorCode: text(record.errorCode),
      account: null,
      region: null,
      items: vaultItemsOf(record, stores),
    };
  }
  const account = text(record.recipientAccountId) ?? context.account;
  const region = text(record.awsRegion) ?? context.region;
  const items: MappedItem[] = [];
  const seen = new Set<string>();
  for (const ref of itemRefsOf(record)) {
    const storeId = pickStore(stores, ref.kind, ref.region ?? region, ref.account ?? account);
    const key = `${ref.kind}\n${storeId}\n${ref.itemName}`;
    if (seen.has(key)) continue;
    seen.add(key);
    items.push({ storeId, itemName: ref.itemName, recursive: ref.recursive, ...(ref.version ? { version: ref.version } : {}) });
  }
  return {
    time: normalizeEventTime(record.eventTime, context.ingestedAt),
    eventSource: text(record.eventSource),
    eventName,
    readOnly: isReadEvent(record.readOnly, eventName),
    ...actorOf(asObject(record.userIdentity)),
    sourceIp: text(record.sourceIPAddress),
    userAgent: text(record.userAgent),
    errorCode: text(record.errorCode),
    account,
    region,
    items,
  };
}

/** Events that read a value (the Access panel's "reads"); GetParameterHistory returns values too. */
export const VALUE_READ_EVENTS = [
  'GetParameter',
  'GetParameters',
  'GetParametersByPath',
  'GetParameterHistory',
  'GetSecretValue',
  'BatchGetSecretValue',
  'Decrypt',
  // Vault KV v2: GET data/<key> (vault-audit-record.ts).
  'ReadSecretVersion',
] as const;
