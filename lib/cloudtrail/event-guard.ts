import { createHash } from 'node:crypto';
import type { CloudTrailRecord } from './types';

// What the index keeps of a record. CloudTrail hides values itself; as a guard, any key under
// requestParameters or responseElements whose name contains "value", "secretString" or
// "secretBinary" (any case, any depth) is dropped before anything is stored or hashed. Over-dropping
// (e.g. a filter's `values`) costs a little detail; under-dropping could store a secret.

const VALUE_LIKE_KEY = /value|secretstring|secretbinary/i;
const GUARDED_FIELDS = ['requestParameters', 'responseElements'] as const;

export function isValueLikeKey(key: string): boolean {
  return VALUE_LIKE_KEY.test(key);
}

/** A deep copy without value-like keys; the input is never modified. */
function withoutValueKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutValueKeys);
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (!isValueLikeKey(key)) copy[key] = withoutValueKeys(inner);
  }
  return copy;
}

/** The record as the index stores it: a new object, the caller's untouched. */
export function guardRecord(record: CloudTrailRecord): CloudTrailRecord {
  const copy: CloudTrailRecord = { ...record };
  for (const field of GUARDED_FIELDS) {
    if (field in record) copy[field] = withoutValueKeys(record[field]) as CloudTrailRecord[typeof field];
  }
  return copy;
}

/** JSON with object keys sorted, so equal records serialise (and hash) equally. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

/**
 * The record's eventID, or for records without one a stable id from a hash of the guarded
 * record, so the same record ingested twice is still one event.
 */
export function eventIdOf(guarded: CloudTrailRecord): string {
  if (typeof guarded.eventID === 'string' && guarded.eventID.trim() !== '') return guarded.eventID;
  return `synthetic-${createHash('sha256').update(stableJson(guarded)).digest('hex').slice(0, 40)}`;
}
