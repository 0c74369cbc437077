import 'server-only';
import { AUDITED_EVENT_SOURCES, parseLookupCursor } from './lookup-events-source';
import type { SourceState } from './types';

// Whether the CloudTrail index holds every event up to a moment, or is still filling it in. The
// question matters while a deployment's sources first walk their history: LookupEvents walks each
// lookup newest first (the recent days arrive before the older ones), a trail bucket is read file
// by file oldest first (the old days arrive before the recent ones). In between, the index holds
// a principal's recent reads but not its earlier ones, and every regular reader looks "new" until
// the walk reaches them: a new-reader finding or alert raised then is resolved minutes later.

/** A LookupEvents source finished its first walk of every lookup (the full 90 days are in). */
function lookupsWalked(state: SourceState): boolean {
  const { lookups } = parseLookupCursor(state.cursor);
  return AUDITED_EVENT_SOURCES.every((source) => (lookups[source]?.resumeFrom ?? null) !== null);
}

/**
 * Whether the index holds every event before `until` (ISO). With LookupEvents sources (every AWS
 * store's connection has one), once each has walked its 90 days: the recent history is in, whatever
 * a trail bucket is still filling in further back. With trail buckets alone, once each has been read
 * past `until` (a bucket whose account has been quiet since stays short of it: the history is then
 * not known to be complete). Without sources nothing is known.
 */
export function historyComplete(sources: readonly SourceState[], until: string): boolean {
  const lookups = sources.filter((s) => s.kind === 'lookup-events');
  if (lookups.length > 0) return lookups.every(lookupsWalked);
  const trails = sources.filter((s) => s.kind === 'cloudtrail-s3');
  return trails.length > 0 && trails.every((s) => s.lastEventTime !== null && s.lastEventTime >= until);
}
