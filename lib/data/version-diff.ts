import 'server-only';
import { can } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import { getStore } from '@/lib/stores/registry';
import { canFingerprintValues, type ItemVersion, type StoreKind, type VersionMetadata } from '@/lib/stores/types';
import type { VersionPair } from '@/lib/validations/version-diff';

// "What changed" between two versions of one item: the data access function the item page calls,
// and the comparison itself. Metadata only: for the built-in store whether the value changed comes
// from keyed fingerprints compared in here (ValueFingerprinter, lib/stores/types.ts); neither a value nor
// a fingerprint is in what this returns. AWS stores are compared on what browsing reads anyway
// (GetParameterHistory without its values, ListSecretVersionIds): no value-reading call.

export interface VersionSummary {
  id: string;
  createdAt: string;
  createdBy: string | null;
  labels: string[];
}

export interface FieldChange {
  field: string;
  before: string | null;
  after: string | null;
  /** How the page shows before and after. */
  format: 'text' | 'date';
}

export type ValueComparison = 'changed' | 'unchanged' | 'not-compared';

export interface VersionDiff {
  storeKind: StoreKind;
  from: VersionSummary;
  to: VersionSummary;
  changes: FieldChange[];
  /** Fields compared and found the same. */
  unchanged: string[];
  /** Fields the store keeps no record of for (one of) these versions: not compared, and `notRecordedWhy` says why. */
  notRecorded: string[];
  notRecordedWhy: string | null;
  value: ValueComparison;
}

export type VersionDiffResult = { kind: 'diff'; diff: VersionDiff } | { kind: 'no-such-version'; missing: string[] };

type MetadataField = { field: string; key: keyof VersionMetadata };

const TYPE: MetadataField = { field: 'Type', key: 'type' };
const DESCRIPTION: MetadataField = { field: 'Description', key: 'description' };
const TAGS: MetadataField = { field: 'Tags', key: 'tags' };
const KMS_KEY: MetadataField = { field: 'KMS key', key: 'kmsKeyId' };
const TIER: MetadataField = { field: 'Tier', key: 'tier' };
const DATA_TYPE: MetadataField = { field: 'Data type', key: 'dataType' };
const POLICIES: MetadataField = { field: 'Policies', key: 'policies' };

/** The metadata each kind of store has, in the order the page lists it. */
const FIELDS_OF: Record<StoreKind, MetadataField[]> = {
  local: [TYPE, DESCRIPTION, TAGS, KMS_KEY],
  ssm: [TYPE, DESCRIPTION, TAGS, KMS_KEY, TIER, DATA_TYPE, POLICIES],
  secretsmanager: [DESCRIPTION, TAGS, KMS_KEY],
  vault: [DESCRIPTION, TAGS],
};

/** Why a store kind has no record of a field for a version. */
const NOT_RECORDED_WHY: Record<StoreKind, string> = {
  local: 'These versions were written before the dashboard recorded metadata with each version, so their metadata is not on record and is not compared.',
  ssm: 'Parameter Store keeps tags for the parameter, not for each version, so tags are not compared.',
  secretsmanager:
    "AWS keeps no older metadata for Secrets Manager versions: a version has only its staging labels and creation date. The description, tags and KMS key are the secret's current ones, so they are not compared.",
  vault:
    "Vault keeps custom metadata for the secret, not for each version: a version has only its creation time and whether it was deleted or destroyed. The description and tags are the secret's current ones, so they are not compared.",
};

const summaryOf = (v: ItemVersion): VersionSummary => ({ id: v.id, createdAt: v.createdAt, createdBy: v.createdBy, labels: [...v.labels].sort() });

const listText = (items: string[]): string | null => (items.length ? items.join(', ') : null);

function change(field: string, before: string | null, after: string | null, format: FieldChange['format'] = 'text'): FieldChange | null {
  return before === after ? null : { field, before, after, format };
}

/** One metadata field of two versions: its changes (one per tag or policy), or none when the same. */
function compareField(field: MetadataField, before: VersionMetadata, after: VersionMetadata): FieldChange[] {
  switch (field.key) {
    case 'tags': {
      const a = before.tags ?? {};
      const b = after.tags ?? {};
      return [...new Set([...Object.keys(a), ...Object.keys(b)])]
        .sort()
        .flatMap((key) => change(`Tag ${key}`, a[key] ?? null, b[key] ?? null) ?? []);
    }
    case 'policies': {
      const a = new Map((before.policies ?? []).map((p) => [p.type, p.text]));
      const b = new Map((after.policies ?? []).map((p) => [p.type, p.text]));
      return [...new Set([...a.keys(), ...b.keys()])].sort().flatMap((type) => change(`Policy ${type}`, a.get(type) ?? null, b.get(type) ?? null) ?? []);
    }
    default: {
      const a = before[field.key] as string | null | undefined;
      const b = after[field.key] as string | null | undefined;
      return [change(field.field, a ?? null, b ?? null)].filter((c): c is FieldChange => c !== null);
    }
  }
}

/**
 * What differs between two versions of an item, `from` before and `to` after. Pure: `value` is what
 * the caller found comparing the values' fingerprints ('not-compared' where it cannot).
 */
export function compareVersions(storeKind: StoreKind, from: ItemVersion, to: ItemVersion, value: ValueComparison): VersionDiff {
  const changes: FieldChange[] = [];
  const unchanged: string[] = [];
  const notRecorded: string[] = [];
  const note = (found: FieldChange | null, field: string) => (found ? changes.push(found) : unchanged.push(field));

  note(change('Written at', from.createdAt, to.createdAt, 'date'), 'Written at');
  note(change('Written by', from.createdBy, to.createdBy), 'Written by');
  const labelsField = storeKind === 'secretsmanager' ? 'Stages' : 'Labels';
  note(change(labelsField, listText([...from.labels].sort()), listText([...to.labels].sort())), labelsField);

  for (const field of FIELDS_OF[storeKind]) {
    const before = from.metadata;
    const after = to.metadata;
    if (before?.[field.key] === undefined || after?.[field.key] === undefined) {
      notRecorded.push(field.field);
      continue;
    }
    const found = compareField(field, before, after);
    if (found.length) changes.push(...found);
    else unchanged.push(field.field);
  }
  return {
    storeKind,
    from: summaryOf(from),
    to: summaryOf(to),
    changes,
    unchanged,
    notRecorded,
    notRecordedWhy: notRecorded.length ? NOT_RECORDED_WHY[storeKind] : null,
    value,
  };
}

/**
 * Two versions of an item compared, for its page. Null when the caller may not view the item (the
 * same check as the page's) or it does not exist: the page's 404, with no hint which. The versions
 * not found are named otherwise (the page answers 404 for them too).
 */
export async function getVersionDiff(principal: Principal, storeId: string, name: string, pair: VersionPair): Promise<VersionDiffResult | null> {
  const store = await getStore(storeId);
  if (!store || !can(principal, 'view-item', { storeId, name })) return null;
  const item = await store.getItem(name);
  if (!item) return null;
  const from = item.versions.find((v) => v.id === pair.from);
  const to = item.versions.find((v) => v.id === pair.to);
  if (!from || !to) return { kind: 'no-such-version', missing: [pair.from, pair.to].filter((id) => !item.versions.some((v) => v.id === id)) };
  let value: ValueComparison = 'not-compared';
  // Not instanceof: the server's bundles may each hold their own copy of the class.
  if (canFingerprintValues(store)) {
    const fingerprints = await store.valueFingerprints(name, [from.id, to.id]);
    const a = fingerprints.get(from.id);
    const b = fingerprints.get(to.id);
    if (a !== undefined && b !== undefined) value = a === b ? 'unchanged' : 'changed';
  }
  return { kind: 'diff', diff: compareVersions(store.kind, from, to, value) };
}
