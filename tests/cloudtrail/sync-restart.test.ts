import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLookupCursor } from '@/lib/cloudtrail/lookup-events-source';
import type { EventSink } from '@/lib/cloudtrail/sync';
import type { SimulatedCloudTrail } from '@/simulator/simulated-cloudtrail';
import { DATABASES, type DatabaseKind } from '../support/databases';
import { dropIndexPlaces, newIndexPlace } from './support/index-databases';
import { MemoryEventSink } from './support/memory-event-sink';
import { auditedCount, lookupConfig, lookupSync, startSim, useSimulatedCredentials, waitFor } from './support/lookup-harness';

// Stopped in the middle of a walk and started again on the same data, the sync loses and doubles
// nothing: each page was written with its position, so the restart goes on from the next page.
// Against the real event index (reopened on the same SQLite file or PostgreSQL database) and the
// in-memory sink.

let sim: SimulatedCloudTrail;
const NOW = Date.now();

beforeAll(async () => {
  useSimulatedCredentials();
  sim = await startSim({ now: NOW, ratePerSecond: null, generate: [{ events: 900, items: 60, actors: 12, days: 30, newest: NOW - 120_000 }] });
});
afterAll(async () => {
  await sim.close();
  await dropIndexPlaces();
});

interface Opened {
  sink: EventSink;
  count(): Promise<number>;
  close(): Promise<void>;
}

interface Backend {
  open(): Promise<Opened>;
}

async function indexBackend(kind: DatabaseKind): Promise<Backend> {
  const place = await newIndexPlace(kind);
  return {
    open: async () => {
      const index = await place.open({ retentionDays: 400 });
      return { sink: index, count: async () => (await index.counts()).events, close: () => index.close() };
    },
  };
}

async function memoryBackend(): Promise<Backend> {
  let saved = new MemoryEventSink().snapshot();
  return {
    open: async () => {
      const sink = MemoryEventSink.fromSnapshot(saved);
      return {
        sink,
        count: async () => sink.events.size,
        close: async () => {
          saved = sink.snapshot();
        },
      };
    },
  };
}

const BACKENDS: [string, () => Promise<Backend>][] = [...DATABASES.map((kind): [string, () => Promise<Backend>] => [`event index, ${kind}`, () => indexBackend(kind)]), ['memory sink', memoryBackend]];

describe.each(BACKENDS)('restart mid-walk (%s)', (_name, make) => {
  it('stop() in the middle, then a new process on the same data: every event indexed exactly once, no page fetched twice', async () => {
    const backend = await make();
    const total = auditedCount(sim);
    sim.control({ resetStats: true });

    const first = await backend.open();
    const one = lookupSync(first.sink, [lookupConfig(sim.url, 'ct-restart')], { rate: 10 });
    const run = one.sync.runOnce();
    await waitFor(async () => (await first.count()) >= 200);
    await one.sync.stop();
    const firstRun = (await run).get('ct-restart')!;
    const atStop = await first.count();
    expect(atStop).toBeLessThan(total);
    const saved = parseLookupCursor((await first.sink.sourceState('ct-restart'))!.cursor);
    expect(Object.values(saved.lookups).some((l) => l?.walk?.nextToken)).toBe(true);
    await first.close();

    const second = await backend.open();
    expect(await second.count()).toBe(atStop);
    const two = lookupSync(second.sink, [lookupConfig(sim.url, 'ct-restart')], { rate: 10 });
    const secondRun = (await two.sync.runOnce()).get('ct-restart')!;
    expect(secondRun.error).toBeNull();
    expect(await second.count()).toBe(total);
    expect(firstRun.inserted + secondRun.inserted).toBe(total);
    expect(firstRun.duplicates + secondRun.duplicates).toBe(0);
    // The simulator answered each event once over both runs.
    expect(sim.stats().returned).toBe(total);
    expect((await second.sink.sourceState('ct-restart'))!.eventsIndexed).toBe(total);
    await second.close();
  }, 60_000);

  it('a NextToken that expired while stopped: the window is walked on from the oldest time reached', async () => {
    const backend = await make();
    const total = auditedCount(sim);
    const first = await backend.open();
    const one = lookupSync(first.sink, [lookupConfig(sim.url, 'ct-expired')], { rate: 10 });
    const run = one.sync.runOnce();
    await waitFor(async () => (await first.count()) >= 150);
    await one.sync.stop();
    await run;
    const atStop = await first.count();
    await first.close();
    sim.control({ expireTokens: true, resetStats: true });

    const second = await backend.open();
    const two = lookupSync(second.sink, [lookupConfig(sim.url, 'ct-expired')], { rate: 10 });
    const result = (await two.sync.runOnce()).get('ct-expired')!;
    expect(result.error).toBeNull();
    expect(await second.count()).toBe(total);
    expect(result.inserted).toBe(total - atStop);
    const stats = sim.stats();
    expect(stats.log.some((c) => c.error === 'InvalidNextTokenException')).toBe(true);
    // Only events at the second where each walk stopped come again.
    expect(result.duplicates).toBeLessThanOrEqual(3);
    await second.close();
  }, 60_000);

  it('a failure injected mid-walk, then a restart: nothing lost or doubled', async () => {
    const backend = await make();
    const total = auditedCount(sim);
    const first = await backend.open();
    const one = lookupSync(first.sink, [lookupConfig(sim.url, 'ct-injected')], { rate: 10 });
    const run = one.sync.runOnce();
    await waitFor(async () => (await first.count()) >= 250);
    sim.control({ failNext: { count: 1, type: 'ExpiredTokenException' } });
    const failed = (await run).get('ct-injected')!;
    expect(failed.error).toMatch(/ExpiredTokenException/);
    expect((await first.sink.sourceState('ct-injected'))!.lastError?.message).toMatch(/ExpiredTokenException/);
    await one.sync.stop();
    await first.close();

    const second = await backend.open();
    const two = lookupSync(second.sink, [lookupConfig(sim.url, 'ct-injected')], { rate: 10 });
    const result = (await two.sync.runOnce()).get('ct-injected')!;
    expect(result.error).toBeNull();
    expect(await second.count()).toBe(total);
    expect(failed.inserted + result.inserted).toBe(total);
    expect((await second.sink.sourceState('ct-injected'))!.lastError).toBeNull();
    await second.close();
  }, 60_000);
});
