import { describe, expect, it } from 'vitest';
import { historyComplete } from '@/lib/cloudtrail/history-complete';
import type { SourceState } from '@/lib/cloudtrail/types';

// Whether the index holds every event before a moment: LookupEvents walks each lookup newest first
// (done once every lookup has a resume point), a trail bucket is read oldest first (done up to the
// newest event it reached). Until then, regular readers of an item would look new.

const UNTIL = '2026-11-28T00:00:00.000Z';
const walk = { start: '2026-09-01T00:00:00.000Z', end: '2026-12-05T00:00:00.000Z', nextToken: 'page-7', newest: '2026-12-04T23:59:00.000Z', oldest: '2026-11-20T00:00:00.000Z' };
const walked = { walk: null, resumeFrom: '2026-12-04T23:54:00.000Z', newest: '2026-12-04T23:59:00.000Z' };
const walking = { walk, resumeFrom: null, newest: '2026-12-04T23:59:00.000Z' };

function source(kind: SourceState['kind'], over: Partial<SourceState> = {}): SourceState {
  return { sourceId: `${kind}-1`, kind, account: '111111111111', region: 'us-east-1', cursor: null, lastEventTime: null, lastSuccessAt: null, eventsIndexed: 0, lastError: null, ...over };
}
const lookup = (lookups: Record<string, unknown>) => source('lookup-events', { cursor: { version: 1, lookups } });
const every = (l: unknown) => ({ 'ssm.amazonaws.com': l, 'secretsmanager.amazonaws.com': l, 'kms.amazonaws.com': l });
const trail = (lastEventTime: string | null) => source('cloudtrail-s3', { cursor: { version: 1, folders: {} }, lastEventTime });

describe('historyComplete', () => {
  it.each([
    ['no source at all', [], false],
    ['a LookupEvents source before its first page', [lookup({})], false],
    ['a LookupEvents source still on its first walk of one lookup', [lookup({ ...every(walked), 'kms.amazonaws.com': walking })], false],
    ['a LookupEvents source missing a lookup', [lookup({ 'ssm.amazonaws.com': walked, 'secretsmanager.amazonaws.com': walked })], false],
    ['a LookupEvents source whose every lookup walked its 90 days', [lookup(every(walked))], true],
    ['two LookupEvents sources, one still walking', [lookup(every(walked)), lookup(every(walking))], false],
    ['a trail bucket read up to before the moment (oldest first: the recent days are still to come)', [trail('2026-11-27T23:00:00.000Z')], false],
    ['a trail bucket read past the moment', [trail('2026-12-04T22:00:00.000Z')], true],
    ['a trail bucket with nothing read yet', [trail(null)], false],
    ['a bucket behind, but every LookupEvents walk done (the recent history is in)', [trail('2026-10-01T00:00:00.000Z'), lookup(every(walked))], true],
    ['a bucket read past the moment, but a LookupEvents walk still on (its newest-first days are ahead of the rest)', [trail('2026-12-04T22:00:00.000Z'), lookup(every(walking))], false],
    ['an unreadable cursor (another version) counts as not walked', [source('lookup-events', { cursor: { version: 9 } })], false],
  ] as const)('%s: %s', (_name, sources, expected) => {
    expect(historyComplete(sources as unknown as SourceState[], UNTIL)).toBe(expected);
  });
});
