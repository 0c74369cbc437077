import { createLookupSources, LOOKUP_PACED_RATE, type LookupEventsSource } from '@/lib/cloudtrail/lookup-events-source';
import type { LookupEventsSourceConfig } from '@/lib/cloudtrail/sources-config';
import { CloudTrailSync, type EventSink } from '@/lib/cloudtrail/sync';
import { AUDITED_EVENT_SOURCES, startSimulatedCloudTrail, type SimulatedCloudTrailOptions } from '@/simulator/simulated-cloudtrail';

// Shared set-up of the LookupEvents sync tests: the simulated CloudTrail and a sync of one source.

export function useSimulatedCredentials(): void {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIASIMULATED0000000', AWS_SECRET_ACCESS_KEY: 'simulated-secret-access-key', AWS_SESSION_TOKEN: '', AWS_EC2_METADATA_DISABLED: 'true' });
}

export async function startSim(options: SimulatedCloudTrailOptions) {
  return startSimulatedCloudTrail({ latencyMs: 5, ...options });
}

export function lookupConfig(endpoint: string, id = 'ct-main', region = 'us-east-1'): LookupEventsSourceConfig {
  return { id, kind: 'lookup-events', connection: { region, endpoint }, account: null, stores: [] };
}

export function lookupSync(sink: EventSink, configs: LookupEventsSourceConfig[], options: { rate?: number; overlapMs?: number } = {}): { sync: CloudTrailSync; sources: LookupEventsSource[] } {
  const sources = createLookupSources(configs, { rate: options.rate ?? LOOKUP_PACED_RATE, ...(options.overlapMs !== undefined ? { overlapMs: options.overlapMs } : {}) });
  return { sync: new CloudTrailSync(sink, sources, { intervalMs: 3_600_000, stores: [] }), sources };
}

/** Events of the three audited services the simulator holds. */
export function auditedCount(sim: { count(f?: { eventSource?: string }): number }): number {
  return AUDITED_EVENT_SOURCES.reduce((n, eventSource) => n + sim.count({ eventSource }), 0);
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
