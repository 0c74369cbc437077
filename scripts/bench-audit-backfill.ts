import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EventIndex } from '@/lib/cloudtrail/event-index';
import { createLookupSources, LOOKUP_CALLS_PER_SECOND, LOOKUP_PAGE_SIZE } from '@/lib/cloudtrail/lookup-events-source';
import { CloudTrailSync } from '@/lib/cloudtrail/sync';
import { AUDITED_EVENT_SOURCES, startSimulatedCloudTrail } from '../simulator/simulated-cloudtrail';

// The LookupEvents backfill rate: the real sync (three lookups under one bucket per account and
// region) against the simulated CloudTrail at AWS's 2 calls a second and a latency per call, into
// a fresh event index. The floor is 2 calls × 50 events = 100 events a second; ratio = rate / floor.
// `node --conditions=react-server --import tsx scripts/bench-audit-backfill.ts [events]` prints the figures; bench:audit calls the function.

export interface BackfillMeasurement {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  ratio: number;
  calls: number;
  throttled: number;
  maxCallsPerSecond: number;
}

export async function measureLookupBackfill({ events = 3000, latencyMs = 30 }: { events?: number; latencyMs?: number } = {}): Promise<BackfillMeasurement> {
  for (const [key, value] of Object.entries({ AWS_ACCESS_KEY_ID: 'AKIABENCH00000000000', AWS_SECRET_ACCESS_KEY: 'bench', AWS_EC2_METADATA_DISABLED: 'true' }))
    process.env[key] ??= value;
  const sim = await startSimulatedCloudTrail({ latencyMs, ratePerSecond: LOOKUP_CALLS_PER_SECOND, generate: [{ events, days: 30, seed: 3, items: 500, actors: 200 }] });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-audit-backfill-'));
  const index = await EventIndex.open(dir, { retentionDays: 400 });
  try {
    const audited = AUDITED_EVENT_SOURCES.reduce((n, eventSource) => n + sim.count({ eventSource }), 0);
    const sources = createLookupSources([{ id: 'bench-backfill', kind: 'lookup-events', connection: { region: 'us-east-1', endpoint: sim.url }, account: null, stores: [] }]);
    const sync = new CloudTrailSync(index, sources, { intervalMs: 3_600_000, stores: [] });
    const started = performance.now();
    const result = (await sync.runOnce()).get('bench-backfill')!;
    const seconds = (performance.now() - started) / 1000;
    if (result.error) throw new Error(`the backfill failed: ${result.error}`);
    if (result.inserted !== audited) throw new Error(`the backfill indexed ${result.inserted} of ${audited} events`);
    const eventsPerSecond = result.inserted / seconds;
    const stats = sim.stats();
    return {
      events: result.inserted,
      seconds: Math.round(seconds * 100) / 100,
      eventsPerSecond: Math.round(eventsPerSecond * 10) / 10,
      ratio: Math.round((eventsPerSecond / (LOOKUP_CALLS_PER_SECOND * LOOKUP_PAGE_SIZE)) * 1000) / 1000,
      calls: stats.calls,
      throttled: stats.throttled,
      maxCallsPerSecond: stats.maxCallsPerSecond,
    };
  } finally {
    await index.close();
    rmSync(dir, { recursive: true, force: true });
    await sim.close();
  }
}

if (process.argv[1]?.endsWith('bench-audit-backfill.ts')) {
  const events = Number(process.argv[2] ?? 3000);
  measureLookupBackfill({ events })
    .then((m) => console.log(JSON.stringify(m)))
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    });
}
