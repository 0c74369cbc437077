import { z } from 'zod';
import { DAY_MS } from './duration';
import type { AgeBucket, FreshnessStatus } from './types';

// The worst-first order every freshness list uses, across stores: rotation failing (longest
// failing first), then overdue and never rotated (due longest ago first), then due soon (due
// soonest first), then fresh (likewise); ties by store, then name. A page's position is an opaque
// keyset cursor that also pins `now`, so paging on later never skips or repeats an item that
// changed status meanwhile.

export const STATUS_RANK: Record<FreshnessStatus, number> = {
  'rotation-failing': 0,
  overdue: 1,
  'never-rotated': 1,
  'due-soon': 2,
  fresh: 3,
};
export const MAX_RANK = 3;

/** An item's place in the order: its rank, the time it sorts by (failing or due date), its store and name. */
export interface WorstKey {
  rank: number;
  time: string;
  storeId: string;
  name: string;
}

export interface WorstCursor {
  now: string;
  after: WorstKey;
}

export function compareWorst(a: WorstKey, b: WorstKey): number {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return a.rank - b.rank || cmp(a.time, b.time) || cmp(a.storeId, b.storeId) || cmp(a.name, b.name);
}

const cursorSchema = z.tuple([
  z.literal('w1'),
  z.iso.datetime(),
  z.number().int().min(0).max(MAX_RANK),
  z.string().max(64),
  z.string().max(64),
  z.string().max(4096),
]);

export function encodeWorstCursor(cursor: WorstCursor): string {
  const { now, after } = cursor;
  return Buffer.from(JSON.stringify(['w1', now, after.rank, after.time, after.storeId, after.name]), 'utf8').toString('base64url');
}

/** The cursor, or null when it is not one of ours. */
export function decodeWorstCursor(raw: string): WorstCursor | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success) return null;
  const [, now, rank, time, storeId, name] = result.data;
  return { now, after: { rank, time, storeId, name } };
}

export const AGE_BUCKETS: readonly Omit<AgeBucket, 'count'>[] = [
  { label: '< 30 d', minDays: 0, maxDays: 30 },
  { label: '30–90 d', minDays: 30, maxDays: 90 },
  { label: '90–180 d', minDays: 90, maxDays: 180 },
  { label: '180–365 d', minDays: 180, maxDays: 365 },
  { label: '> 1 y', minDays: 365, maxDays: null },
];

/** The age-from time at or before which an item is at least `days` old. */
export function ageThreshold(now: Date, days: number): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString();
}
