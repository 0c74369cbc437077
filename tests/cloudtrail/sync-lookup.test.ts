import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { DEFAULT_OVERLAP_MS, parseLookupCursor } from '@/lib/cloudtrail/lookup-events-source';
import type { SimulatedCloudTrail } from '@/simulator/simulated-cloudtrail';
import { MemoryEventSink } from './support/memory-event-sink';
import { auditedCount, lookupConfig, lookupSync, startSim, useSimulatedCredentials, waitFor } from './support/lookup-harness';

// The LookupEvents sync against the simulated CloudTrail (real SDK, AWS's 2 calls a second per
// account and region answered with ThrottlingException beyond it).

let sim: SimulatedCloudTrail;
const NOW = Date.now();

beforeAll(async () => {
  useSimulatedCredentials();
  sim = await startSim({
    now: NOW,
    generate: [{ events: 560, items: 40, actors: 8, days: 20, newest: NOW - 60_000 }],
    // Other services' events: never asked for.
    events: Array.from({ length: 30 }, (_, i) => ({ eventID: `s3-${i}`, eventSource: 's3.amazonaws.com', eventName: 'GetObject', eventTime: new Date(NOW - i * 3_600_000).toISOString() })),
  });
});
afterAll(async () => sim.close());

describe('LookupEvents sync', () => {
  it('walks every page of the three lookups with NextToken, each event once, never over 2 calls in any second', async () => {
    sim.control({ resetStats: true });
    const sink = new MemoryEventSink();
    const { sync } = lookupSync(sink, [lookupConfig(sim.url)]);
    const results = await sync.runOnce();
    const result = results.get('ct-main')!;
    expect(result.error).toBeNull();
    const stats = sim.stats();
    const total = auditedCount(sim);
    expect(sink.events.size).toBe(total);
    expect(result.inserted).toBe(total);
    expect([...sink.events.keys()].some((id) => id.startsWith('s3-'))).toBe(false);
    // Many pages, one EventSource attribute each, all three sources, tokens followed.
    expect(stats.ok).toBeGreaterThanOrEqual(12);
    expect(new Set(stats.log.map((c) => c.attribute))).toEqual(
      new Set(['EventSource=ssm.amazonaws.com', 'EventSource=secretsmanager.amazonaws.com', 'EventSource=kms.amazonaws.com']),
    );
    expect(stats.log.filter((c) => c.withToken).length).toBeGreaterThanOrEqual(8);
    // The whole 90 days asked on a first run.
    expect(Math.min(...stats.log.map((c) => c.startTime!))).toBeLessThan(NOW - 89 * 86_400_000);
    expect(stats.throttled).toBe(0);
    expect(stats.maxCallsPerSecond).toBeLessThanOrEqual(2);
    const state = (await sink.sourceState('ct-main'))!;
    expect(state.lastError).toBeNull();
    // The newest generated event is a minute old (within its second).
    expect(Date.parse(state.lastEventTime!)).toBeGreaterThan(NOW - 62_000);
    expect(Date.parse(state.lastEventTime!)).toBeLessThanOrEqual(NOW - 60_000);
    // Every lookup finished its walk and resumes from its newest event minus the overlap.
    const cursor = parseLookupCursor(state.cursor);
    for (const lookup of Object.values(cursor.lookups)) {
      expect(lookup!.walk).toBeNull();
      expect(Date.parse(lookup!.resumeFrom!)).toBe(Date.parse(lookup!.newest!) - DEFAULT_OVERLAP_MS);
    }
  }, 60_000);

  it('a second run fetches only what is new (plus the bounded overlap)', async () => {
    const sink = new MemoryEventSink();
    const { sync } = lookupSync(sink, [lookupConfig(sim.url, 'ct-incremental')], { rate: 20 });
    sim.control({ ratePerSecond: null });
    try {
      await sync.runOnce();
      const before = sink.events.size;
      const newest = Date.parse((await sink.sourceState('ct-incremental'))!.lastEventTime!);
      const smNewest = Date.parse(parseLookupCursor((await sink.sourceState('ct-incremental'))!.cursor).lookups['secretsmanager.amazonaws.com']!.newest!);
      const added = Array.from({ length: 70 }, (_, i) => ({
        eventID: `new-${i}`,
        eventSource: 'secretsmanager.amazonaws.com',
        eventName: 'GetSecretValue',
        readOnly: true,
        eventTime: new Date(newest + 100 + i * 100).toISOString(),
        requestParameters: { secretId: `app/new/${i}` },
      }));
      sim.control({ addEvents: added, resetStats: true });
      const second = (await sync.runOnce()).get('ct-incremental')!;
      expect(second.error).toBeNull();
      expect(second.inserted).toBe(70);
      expect(sink.events.size).toBe(before + 70);
      const stats = sim.stats();
      // Only events inside the overlap come again; no call reaches back before it.
      expect(stats.returned).toBeLessThanOrEqual(70 + second.duplicates);
      expect(second.duplicates).toBeLessThan(30);
      const smCall = stats.log.find((c) => c.attribute === 'EventSource=secretsmanager.amazonaws.com')!;
      expect(smCall.startTime).toBe(smNewest - DEFAULT_OVERLAP_MS);
      for (const call of stats.log) expect(call.startTime!).toBeGreaterThan(NOW - 86_400_000);
      // A third run with nothing new writes nothing new.
      const third = (await sync.runOnce()).get('ct-incremental')!;
      expect(third.inserted).toBe(0);
    } finally {
      sim.control({ ratePerSecond: 2 });
    }
  }, 60_000);

  // Throttled, the sync halves its pace, down to a call every 4 s, and creeps back up by a tenth
  // every 5 calls: the pages after the throttling are the slow part. A smaller trail (7 pages, still
  // more than one per lookup, against the 13 above) proves the same in half the time (42 s to 22 s
  // and 15 s to 5.5 s, measured).
  describe('throttled', () => {
    let throttling: SimulatedCloudTrail;
    beforeAll(async () => {
      throttling = await startSim({ now: NOW, generate: [{ events: 280, items: 40, actors: 8, days: 20, newest: NOW - 60_000 }] });
    });
    afterAll(async () => throttling.close());

    it('backs off when another caller uses the same account and region, and still completes', async () => {
      throttling.control({ resetStats: true });
      const sink = new MemoryEventSink();
      const { sync, sources } = lookupSync(sink, [lookupConfig(throttling.url, 'ct-contended')]);
      // Someone else in the account calls LookupEvents too: 2.5 calls a second for 3 seconds.
      const other = new CloudTrailClient({ region: 'us-east-1', endpoint: throttling.url, maxAttempts: 1 });
      let othersThrottled = 0;
      const intruder = (async () => {
        const until = Date.now() + 3000;
        while (Date.now() < until) {
          await other.send(new LookupEventsCommand({ MaxResults: 1 })).catch(() => othersThrottled++);
          await new Promise((r) => setTimeout(r, 400));
        }
      })();
      const result = (await sync.runOnce()).get('ct-contended')!;
      await intruder;
      expect(result.error).toBeNull();
      expect(result.throttled).toBeGreaterThan(0);
      expect(throttling.stats().throttled).toBeGreaterThan(0);
      expect(sink.events.size).toBe(auditedCount(throttling));
      expect((await sink.sourceState('ct-contended'))!.lastError).toBeNull();
      // The sync's own calls never exceed the limit: what was admitted stayed at 2 in any second.
      expect(throttling.stats().maxAcceptedPerSecond).toBeLessThanOrEqual(2);
      expect(sources[0]).toBeDefined();
      void othersThrottled;
    }, 90_000);

    it('a sync paced above the limit is throttled by the fake, halves its rate and completes', async () => {
      throttling.control({ resetStats: true });
      const sink = new MemoryEventSink();
      const { sync } = lookupSync(sink, [lookupConfig(throttling.url, 'ct-too-fast')], { rate: 6 });
      const result = (await sync.runOnce()).get('ct-too-fast')!;
      expect(result.error).toBeNull();
      expect(result.throttled).toBeGreaterThan(0);
      expect(sink.events.size).toBe(auditedCount(throttling));
      expect(throttling.stats().maxAcceptedPerSecond).toBeLessThanOrEqual(2);
    }, 90_000);
  });

  it('a failing page keeps the position, shows the error, and the next run resumes from it', async () => {
    sim.control({ ratePerSecond: null, resetStats: true });
    const sink = new MemoryEventSink();
    const { sync } = lookupSync(sink, [lookupConfig(sim.url, 'ct-failing')], { rate: 8 });
    try {
      const run = sync.runOnce();
      await waitFor(() => sink.ingests >= 3);
      sim.control({ failAll: 'AccessDeniedException' });
      const first = (await run).get('ct-failing')!;
      expect(first.error).toMatch(/AccessDeniedException/);
      const state = (await sink.sourceState('ct-failing'))!;
      expect(state.lastError?.message).toMatch(/^LookupEvents [a-z]+\.amazonaws\.com: AccessDeniedException \(HTTP 400\)/);
      const indexed = sink.events.size;
      const total = auditedCount(sim);
      expect(indexed).toBeGreaterThan(0);
      expect(indexed).toBeLessThan(total);
      const cursor = parseLookupCursor(state.cursor);
      expect(Object.values(cursor.lookups).some((l) => l?.walk?.nextToken)).toBe(true);

      // Still failing: the position does not move, the error stays.
      const again = (await sync.runOnce()).get('ct-failing')!;
      expect(again.inserted).toBe(0);
      expect((await sink.sourceState('ct-failing'))!.cursor).toEqual(state.cursor);
      expect((await sink.sourceState('ct-failing'))!.lastError).not.toBeNull();

      sim.control({ failAll: null, resetStats: true });
      const resumed = (await sync.runOnce()).get('ct-failing')!;
      expect(resumed.error).toBeNull();
      expect(sink.events.size).toBe(total);
      expect(resumed.duplicates).toBe(0);
      // It went on from the saved pages, not from the top.
      expect(sim.stats().returned).toBe(total - indexed);
      expect((await sink.sourceState('ct-failing'))!.lastError).toBeNull();
    } finally {
      sim.control({ ratePerSecond: 2, failAll: null });
    }
  }, 60_000);
});
