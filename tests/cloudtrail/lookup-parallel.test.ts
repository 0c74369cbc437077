import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { createLookupSources, LOOKUP_CALLS_PER_SECOND, LOOKUP_PACED_RATE } from '@/lib/cloudtrail/lookup-events-source';
import type { LookupEventsSourceConfig } from '@/lib/cloudtrail/sources-config';
import { CloudTrailSync } from '@/lib/cloudtrail/sync';
import { AUDITED_EVENT_SOURCES, type SimulatedCloudTrail } from '@/simulator/simulated-cloudtrail';
import { MemoryEventSink } from './support/memory-event-sink';
import { startSim, useSimulatedCredentials } from './support/lookup-harness';

// LookupEvents for many accounts and regions at once: each account and region has its own budget
// of 2 calls a second (the simulator throttles a third as AWS does), so their walks overlap in
// time while none goes over its own limit. A region that is not enabled fails alone, named.

const NOW = Date.now();
const A = '111111111111';
const B = '222222222222';
const KEYS = { [A]: { accessKeyId: 'AKIASIMULATEDAAAAAAA', secretAccessKey: 'secret-a' }, [B]: { accessKeyId: 'AKIASIMULATEDBBBBBBB', secretAccessKey: 'secret-b' } };
const PLACES = [
  { account: A, region: 'us-east-1' },
  { account: A, region: 'eu-west-1' },
  { account: B, region: 'us-east-1' },
];
let sim: SimulatedCloudTrail;

beforeAll(async () => {
  useSimulatedCredentials();
  sim = await startSim({
    now: NOW,
    accessKeys: { [KEYS[A].accessKeyId]: A, [KEYS[B].accessKeyId]: B },
    // About 100 events per service in each place: 2 or 3 pages per lookup, 6 or more calls per source.
    generate: PLACES.map((p, i) => ({ events: 300, items: 30, actors: 6, days: 10, newest: NOW - 60_000, seed: i + 1, ...p })),
    disabledRegions: [`${A}:ap-east-1`],
  });
});
afterAll(async () => sim.close());

const config = (account: string, region: string): LookupEventsSourceConfig => ({
  id: `ct-${account}-${region}`,
  kind: 'lookup-events',
  connection: { region, endpoint: sim.url },
  account,
  stores: [],
});

const audited = (account: string, region: string) => AUDITED_EVENT_SOURCES.reduce((n, eventSource) => n + sim.count({ account, region, eventSource }), 0);

describe('LookupEvents across accounts and regions', () => {
  it('walks every account and region at once, each within its 2 calls a second; a region not enabled fails alone and is named', async () => {
    sim.control({ resetStats: true });
    const configs = [...PLACES.map((p) => config(p.account, p.region)), config(A, 'ap-east-1')];
    const sources = createLookupSources(configs, {
      rate: LOOKUP_PACED_RATE,
      clientFor: (c) => new CloudTrailClient({ region: c.connection.region, endpoint: sim.url, maxAttempts: 1, credentials: KEYS[c.account as typeof A] }),
    });
    const sink = new MemoryEventSink();
    const sync = new CloudTrailSync(sink, sources, { intervalMs: 3_600_000, stores: [] });
    const started = Date.now();
    const results = await sync.runOnce();
    const elapsed = Date.now() - started;

    // Every enabled place complete, exactly once.
    for (const p of PLACES) {
      const id = `ct-${p.account}-${p.region}`;
      expect(results.get(id)!.error).toBeNull();
      expect(results.get(id)!.inserted).toBe(audited(p.account, p.region));
      expect((await sink.sourceState(id))!.lastError).toBeNull();
    }
    expect(sink.events.size).toBe(PLACES.reduce((n, p) => n + audited(p.account, p.region), 0));

    // The region that is not enabled: its own source fails, naming the account and the region.
    const disabled = (await sink.sourceState(`ct-${A}-ap-east-1`))!.lastError!.message;
    expect(disabled).toMatch(/^LookupEvents [a-z]+\.amazonaws\.com: UnrecognizedClientException \(HTTP 400\): The security token included in the request is invalid\./);
    expect(disabled).toContain('not enabled');
    expect(disabled).toContain(`[account ${A}, region ap-east-1]`);

    const stats = sim.stats();
    // AWS's limit held in every account and region: nothing throttled, never 3 calls in a second.
    expect(stats.throttled).toBe(0);
    for (const p of PLACES) {
      expect(stats.maxCallsPerSecondByAccountRegion[`${p.account}|${p.region}`]).toBeGreaterThanOrEqual(LOOKUP_CALLS_PER_SECOND);
      expect(stats.maxCallsPerSecondByAccountRegion[`${p.account}|${p.region}`]).toBeLessThanOrEqual(LOOKUP_CALLS_PER_SECOND);
    }
    // ...while the places' walks overlapped: more calls in some second than one place may make.
    expect(stats.maxCallsPerSecond).toBeGreaterThan(LOOKUP_CALLS_PER_SECOND);
    const spans = PLACES.map((p) => {
      const times = stats.log.filter((c) => c.account === p.account && c.region === p.region && c.status === 200).map((c) => c.at);
      expect(times.length).toBeGreaterThanOrEqual(6);
      return { first: Math.min(...times), last: Math.max(...times), calls: times.length };
    });
    expect(Math.max(...spans.map((s) => s.first))).toBeLessThan(Math.min(...spans.map((s) => s.last)));
    // One place after another would take at least (calls - 2) / 2 seconds each, added up.
    const serialFloorMs = spans.reduce((ms, s) => ms + ((s.calls - LOOKUP_CALLS_PER_SECOND) / LOOKUP_CALLS_PER_SECOND) * 1000, 0);
    expect(elapsed).toBeLessThan(serialFloorMs);
  }, 90_000);
});
