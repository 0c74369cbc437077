import type { StoreKind } from '@/lib/stores/types';
import { controlOf } from './controls';
import type { FindingDto } from './queries';
import { WORKLOAD_STORE_ID, type Severity } from './types';

// The findings exports as pure functions over FindingDto: CSV rows for a spreadsheet and AWS
// Security Finding Format (ASFF) for Security Hub's BatchImportFindings. Metadata only, as every
// DTO is; nothing here reads a store.

/** A finding as exported; without an ARN (the built-in store, or not known yet) one is derived or left out. */
export type ExportableFinding = FindingDto;

export const FINDING_CSV_COLUMNS = [
  'severity',
  'control',
  'control_title',
  'status',
  'store',
  'item',
  'account',
  'owner',
  'first_seen',
  'last_seen',
  'resolved_at',
  'summary',
] as const;

/**
 * One RFC 4180 cell. A cell a spreadsheet would run as a formula (starting with = + - @, a tab or
 * a carriage return) gets a leading apostrophe: item names, owners and evidence come from tags and
 * CloudTrail, which anyone with write access to AWS can set.
 */
export function csvCell(value: string | number | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function findingCsvHeader(): string {
  return `${FINDING_CSV_COLUMNS.join(',')}\r\n`;
}

export function findingCsvRow(f: FindingDto): string {
  const cells = [
    f.severity,
    f.control,
    f.controlTitle,
    f.status,
    f.storeId,
    f.itemName,
    f.account,
    f.owner,
    f.firstSeenAt,
    f.lastSeenAt,
    f.resolvedAt,
    f.evidence.summary,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

// ---- ASFF ----

export const ASFF_SCHEMA_VERSION = '2018-10-08';
/** AwsAccountId when the item's account is not known (the built-in store, an ARN-less item). */
export const UNKNOWN_ACCOUNT = '000000000000';
const DEFAULT_REGION = 'us-east-1';
const ASFF_TYPE = 'Software and Configuration Checks/AWS Security Best Practices';

const SEVERITY_LABEL: Record<Severity, 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'INFORMATIONAL'> = {
  critical: 'CRITICAL',
  high: 'HIGH',
  medium: 'MEDIUM',
  low: 'LOW',
  informational: 'INFORMATIONAL',
};

/** Where an item's store lives, from the store configuration (the DTO names only the store id). */
export interface StoreLocation {
  kind: StoreKind;
  /** null for the built-in store and Vault stores. */
  region: string | null;
  /** Vault stores: the KV v2 mount and the store's pathPrefix ('' or ending '/'), to name an item's path in Vault. */
  vault?: { mount: string; prefix: string };
}

export interface AsffOptions {
  stores: ReadonlyMap<string, StoreLocation>;
  /** Region of the product ARN when a store has none (the built-in store): AWS_REGION, else us-east-1. */
  defaultRegion?: string;
}

export interface AsffResource {
  Type: 'AwsSecretsManagerSecret' | 'AwsSsmParameter' | 'AwsLambdaFunction' | 'AwsEcsTaskDefinition' | 'Other';
  Id: string;
  Region?: string;
  Partition?: 'aws';
  /** Vault items: where the secret is in Vault (ASFF's free-form Details.Other, string to string). */
  Details?: { Other: Record<string, string> };
}

export interface AsffFinding {
  SchemaVersion: string;
  Id: string;
  ProductArn: string;
  GeneratorId: string;
  AwsAccountId: string;
  Types: string[];
  CreatedAt: string;
  UpdatedAt: string;
  FirstObservedAt: string;
  LastObservedAt: string;
  Severity: { Label: (typeof SEVERITY_LABEL)[Severity]; Original: string };
  Title: string;
  Description: string;
  Remediation: { Recommendation: { Text: string; Url?: string } };
  ProductFields: Record<string, string>;
  Resources: AsffResource[];
  Workflow: { Status: 'NEW' | 'SUPPRESSED' | 'RESOLVED' };
  RecordState: 'ACTIVE' | 'ARCHIVED';
  Compliance: { Status: 'FAILED' | 'PASSED' };
}

/** ASFF's string limits (Title 256, Description 1024, Recommendation.Text 512, Id 512). */
function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function resourceOf(f: ExportableFinding, store: StoreLocation | undefined, account: string): AsffResource {
  if (f.storeId === WORKLOAD_STORE_ID) {
    // A secret in plain sight: the workload itself, by its ARN (arn:aws:<service>:<region>:…).
    const region = f.itemName.split(':')[3];
    return { Type: f.kind === 'lambda-function' ? 'AwsLambdaFunction' : 'AwsEcsTaskDefinition', Id: f.itemName, ...(region ? { Region: region, Partition: 'aws' as const } : {}) };
  }
  const region = store?.region ?? undefined;
  const fallbackId = `${f.storeId}:${f.itemName}`;
  if (store?.kind === 'secretsmanager') {
    // A secret's ARN ends in a random suffix AWS chose: only the inventory's own ARN is right.
    return { Type: 'AwsSecretsManagerSecret', Id: f.arn ?? fallbackId, ...(region ? { Region: region, Partition: 'aws' as const } : {}) };
  }
  if (store?.kind === 'ssm') {
    // A parameter's ARN is its name under the account and region (names with a leading "/" keep one).
    const derived = region && account !== UNKNOWN_ACCOUNT ? `arn:aws:ssm:${region}:${account}:parameter${f.itemName.startsWith('/') ? '' : '/'}${f.itemName}` : null;
    return { Type: 'AwsSsmParameter', Id: f.arn ?? derived ?? fallbackId, ...(region ? { Region: region, Partition: 'aws' as const } : {}) };
  }
  if (store?.kind === 'vault' && store.vault) {
    // No AWS resource and no ARN: the store and item name, with the KV v2 paths a Vault policy names.
    const key = `${store.vault.prefix}${f.itemName.replace(/^\//, '')}`;
    return { Type: 'Other', Id: fallbackId, Details: { Other: { VaultMount: store.vault.mount, VaultDataPath: `${store.vault.mount}/data/${key}`, VaultMetadataPath: `${store.vault.mount}/metadata/${key}` } } };
  }
  return { Type: 'Other', Id: fallbackId, ...(region ? { Region: region } : {}) };
}

/**
 * The first reference a reader can open outside the dashboard that is about the item's kind of
 * store: HashiCorp's documentation for a Vault item, Security Hub, Prowler or AWS Config otherwise.
 */
function remediationUrl(f: FindingDto, store: StoreLocation | undefined): string | undefined {
  const vault = store?.kind === 'vault';
  return controlOf(f.control)?.references.find((r) => /^https:\/\//.test(r.url) && (r.source === 'HashiCorp') === vault)?.url;
}

export function toAsff(f: ExportableFinding, options: AsffOptions): AsffFinding {
  const store = options.stores.get(f.storeId);
  const account = f.account && /^\d{12}$/.test(f.account) ? f.account : UNKNOWN_ACCOUNT;
  const workload = f.storeId === WORKLOAD_STORE_ID;
  const region = (workload ? f.itemName.split(':')[3] : store?.region) || (options.defaultRegion ?? DEFAULT_REGION);
  const updatedAt = f.resolvedAt ?? f.lastSeenAt;
  const url = remediationUrl(f, store);
  const productFields: Record<string, string> = {
    'secrets-dashboard/store': f.storeId,
    'secrets-dashboard/item': f.itemName,
    'secrets-dashboard/control': f.control,
    'secrets-dashboard/kind': f.kind,
  };
  if (f.owner) productFields['secrets-dashboard/owner'] = f.owner;
  if (f.suppression) {
    productFields['secrets-dashboard/suppression-reason'] = cut(f.suppression.reason, 1024);
    productFields['secrets-dashboard/suppressed-until'] = f.suppression.expiresAt;
  }
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    // Stable across exports, so a re-import updates the same finding instead of adding another.
    Id: cut(workload ? `secrets-dashboard/workload/${f.control}/${f.itemName}` : `secrets-dashboard/${f.storeId}/${f.control}${f.itemName.startsWith('/') ? '' : '/'}${f.itemName}`, 512),
    ProductArn: `arn:aws:securityhub:${region}:${account}:product/${account}/default`,
    GeneratorId: f.control,
    AwsAccountId: account,
    Types: [ASFF_TYPE],
    CreatedAt: f.firstSeenAt,
    UpdatedAt: updatedAt,
    FirstObservedAt: f.firstSeenAt,
    LastObservedAt: f.lastSeenAt,
    Severity: { Label: SEVERITY_LABEL[f.severity], Original: f.severity },
    Title: cut(f.controlTitle, 256),
    Description: cut(f.evidence.summary || f.controlTitle, 1024),
    Remediation: { Recommendation: { Text: cut(f.remediation, 512), ...(url ? { Url: url } : {}) } },
    ProductFields: productFields,
    Resources: [resourceOf(f, store, account)],
    Workflow: { Status: f.status === 'open' ? 'NEW' : f.status === 'suppressed' ? 'SUPPRESSED' : 'RESOLVED' },
    RecordState: f.status === 'resolved' ? 'ARCHIVED' : 'ACTIVE',
    Compliance: { Status: f.status === 'resolved' ? 'PASSED' : 'FAILED' },
  };
}

/** The opening of `{"Findings":[…]}`; the exporter streams findings between it and asffClose. */
export const ASFF_OPEN = '{"Findings":[';
export const ASFF_CLOSE = ']}\n';

/** One finding of the streamed document, with its separator (none before the first). */
export function asffEntry(f: ExportableFinding, options: AsffOptions, first: boolean): string {
  return `${first ? '\n' : ',\n'}${JSON.stringify(toAsff(f, options))}`;
}

/** The whole document at once (tests, small sets). */
export function asffDocument(findings: readonly ExportableFinding[], options: AsffOptions): { Findings: AsffFinding[] } {
  return { Findings: findings.map((f) => toAsff(f, options)) };
}
