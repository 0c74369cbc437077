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
 * Whether the index holds every event before `until` (ISO): every LookupEvents source has walked
 * its 90 days, or every trail bucket has been read past `until`. Without sources nothing is known.
 */
export function historyComplete(sources: readonly SourceState[], until: string): boolean {
  const lookups = sources.filter((s) => s.kind === 'lookup-events');
  const trails = sources.filter((s) => s.kind === 'cloudtrail-s3');
  if (lookups.length > 0 && lookups.every(lookupsWalked)) return true;
  return trails.length > 0 && trails.every((s) => s.lastEventTime !== null && s.lastEventTime >= until);
}
