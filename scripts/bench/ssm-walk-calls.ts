// node --conditions=react-server --import tsx scripts/bench/ssm-walk-calls.ts [org|hierarchy|flat] [COUNT] [LATENCY_MS,…] [--real]
// The DescribeParameters calls of one cold Parameter Store walk, counted deterministically: the
// sync's scheduling (lib/inventory/sync.ts: chains wanted from rate x call time, fork room, idle
// hint, the rate limiter's slots and one-second window, slots to the chain that has read most) is
// replayed in virtual time at a given rate and latency, and every page is the real SsmStore's
// inventoryPage against the real simulator (no latency: the virtual clock stands in for it). So the
// calls and the virtual seconds depend on the split strategy and the simulator only, not on how
// loaded the machine is.
import { startSimulatedAws, type SimulatedAwsOptions } from '@/simulator/simulated-aws';
import { SsmStore } from '@/lib/stores/ssm';
import type { InventoryPage } from '@/lib/stores/inventory-walk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { InventorySync } from '@/lib/inventory/sync';

export interface WalkModel {
  /** DescribeParameters calls per second (the store's configured rate). */
  rate: number;
  /** What one call takes. */
  latencyMs: number;
}

export interface ModelledWalk {
  calls: number;
  /** Calls that answered fewer than 50 parameters with a NextToken or at a chain's end. */
  partialPages: number;
  /** Parameters read more than once (after a split, the children re-read the parent's pages). */
  reread: number;
  items: number;
  chains: number;
  maxOpenChains: number;
  seconds: number;
}

// The sync's constants (lib/inventory/sync.ts).
const CHAIN_MARGIN = 2;
const SPLIT_WHILE_BELOW = 3;
const INITIAL_CALL_MS = 50;
const MAX_CHAINS = 32;
const CONCURRENCY = 32;
// The rate limiter's window slack (lib/inventory/rate-limiter.ts).
const windowMarginMs = (perSecond: number) => Math.max(25, Math.min(100, 500 / perSecond));

/** One cold walk of the store the options describe, in virtual time. */
export async function modelWalk(options: SimulatedAwsOptions, model: WalkModel): Promise<ModelledWalk> {
  const sim = await startSimulatedAws({ ...options, latencyMs: 0, quotas: { 'ssm:DescribeParameters': null } });
  try {
    const store = SsmStore.fromConfig({ id: 'params', region: 'us-east-1', endpoint: sim.url });
    return await replay(store, model);
  } finally {
    await sim.close();
  }
}

interface Chain {
  token: string | undefined;
  pagesRead: number;
  hints: { forkRoom: number; idle: boolean };
}

async function replay(store: SsmStore, { rate, latencyMs }: WalkModel): Promise<ModelledWalk> {
  const pending: (string | undefined)[] = [undefined];
  const waiting: Chain[] = [];
  const inFlight: { at: number; chain: Chain; page: InventoryPage }[] = [];
  const seen = new Set<string>();
  const started: number[] = [];
  const perSecond = Math.max(1, Math.ceil(rate));
  let now = 0;
  let nextSlot = 0;
  let callMs = INITIAL_CALL_MS;
  let open = 0;
  const result: ModelledWalk = { calls: 0, partialPages: 0, reread: 0, items: 0, chains: 1, maxOpenChains: 0, seconds: 0 };

  const enterGate = (chain: Chain) => {
    const live = open + pending.length;
    const wanted = Math.ceil(rate * (callMs / 1000) * CHAIN_MARGIN);
    chain.hints = { idle: live < wanted, forkRoom: live < wanted * SPLIT_WHILE_BELOW ? Math.max(0, MAX_CHAINS - live) : 0 };
    waiting.push(chain);
  };
  const startChains = () => {
    while (pending.length > 0 && open < CONCURRENCY) {
      open++;
      result.maxOpenChains = Math.max(result.maxOpenChains, open);
      enterGate({ token: pending.shift(), pagesRead: 0, hints: { forkRoom: 0, idle: false } });
    }
  };
  startChains();
  for (;;) {
    // The next slot the limiter grants, if a chain waits for one.
    let grant = Infinity;
    if (waiting.length > 0) {
      grant = Math.max(now, nextSlot);
      if (started.length >= perSecond) grant = Math.max(grant, started[started.length - perSecond]! + 1000 + windowMarginMs(perSecond));
    }
    const done = inFlight.reduce((best, f) => Math.min(best, f.at), Infinity);
    if (grant === Infinity && done === Infinity) break;
    if (grant < done) {
      now = grant;
      nextSlot = Math.max(now, nextSlot) + 1000 / rate;
      started.push(now);
      let best = 0;
      for (let i = 1; i < waiting.length; i++) if (waiting[i]!.pagesRead > waiting[best]!.pagesRead) best = i;
      const chain = waiting.splice(best, 1)[0]!;
      result.calls++;
      const page = await store.inventoryPage(chain.token, { ...chain.hints, expectedItems: null });
      inFlight.push({ at: now + latencyMs, chain, page });
      continue;
    }
    now = done;
    const i = inFlight.findIndex((f) => f.at === done);
    const { chain, page } = inFlight.splice(i, 1)[0]!;
    callMs = callMs * 0.8 + latencyMs * 0.2;
    chain.pagesRead++;
    const names = page.identities?.records ?? [];
    if (names.length < 50) result.partialPages++;
    for (const name of names) {
      if (seen.has(name)) result.reread++;
      else seen.add(name);
    }
    if (page.forks?.length) {
      result.chains += page.forks.length;
      pending.push(...page.forks);
    }
    if (page.nextToken) {
      chain.token = page.nextToken;
      startChains();
      enterGate(chain);
    } else {
      open--;
      startChains();
    }
  }
  result.items = seen.size;
  result.seconds = now / 1000;
  return result;
}

/** The same walk for real: the sync against the simulator with its latency, in wall time (noisy on a loaded machine). */
export async function realWalk(options: SimulatedAwsOptions, { rate, latencyMs }: WalkModel): Promise<{ calls: number; seconds: number; items: number; chains: number }> {
  const sim = await startSimulatedAws({ ...options, latencyMs, quotas: { 'ssm:DescribeParameters': null } });
  const dir = mkdtempSync(path.join(tmpdir(), 'ssm-walk-calls-'));
  try {
    const db = await InventoryDb.open(dir);
    const store = SsmStore.fromConfig({ id: 'params', region: 'us-east-1', endpoint: sim.url });
    const sync = new InventorySync(db, [store], { intervalMs: 3_600_000, rates: { params: { DescribeParameters: rate } }, fetchTags: false });
    const started = performance.now();
    sync.request('params');
    await sync.idle('params');
    const seconds = (performance.now() - started) / 1000;
    const items = await db.index.countStore('params');
    const chains = sync.lastWalk('params')?.chains ?? 0;
    await sync.stop();
    await db.close();
    return { calls: sim.stats().operations['ssm:DescribeParameters']!.calls, seconds, items, chains };
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const WALK_SHAPES: Record<string, (count: number) => SimulatedAwsOptions> = {
  /** One account and region of the organisation (scripts/bench/inventory-shapes.ts): 3/4 under /scale/, 1/4 under /bulk/. */
  org: (count) => ({ ssm: [{ pattern: 'hierarchy', count: count - Math.floor(count / 4) }, { pattern: 'flat:bulk', count: Math.floor(count / 4) }] }),
  hierarchy: (count) => ({ ssm: [{ pattern: 'hierarchy', count }] }),
  flat: (count) => ({ ssm: [{ pattern: 'flat:flat', count }] }),
};

async function main(): Promise<void> {
  process.env.LOG_LEVEL ??= 'warn';
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID || 'AKIABENCH00000000000', AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY || 'bench', AWS_EC2_METADATA_DISABLED: 'true' });
  const shapes = process.argv[2] ? [process.argv[2]] : Object.keys(WALK_SHAPES);
  for (const shape of shapes) {
    const count = Number(process.argv[3] || (shape === 'org' ? 20_000 : 25_000));
    const pages = Math.ceil(count / 50);
    const latencies = process.argv[4] ? process.argv[4].split(',').map(Number) : [150];
    for (const model of latencies.map((latencyMs) => ({ rate: 10, latencyMs }))) {
      if (process.argv.includes('--real')) {
        const real = await realWalk(WALK_SHAPES[shape]!(count), model);
        console.log(JSON.stringify({ shape, count, ...model, real: true, ...real, pages, timesFloor: Math.round((real.seconds / (pages / model.rate)) * 100) / 100 }));
        continue;
      }
      const walk = await modelWalk(WALK_SHAPES[shape]!(count), model);
      console.log(
        JSON.stringify({ shape, count, ...model, ...walk, pages, callsPerPage: Math.round((walk.calls / pages) * 1000) / 1000, floorS: pages / model.rate, timesFloor: Math.round((walk.seconds / (pages / model.rate)) * 100) / 100 }),
      );
    }
  }
}

if (process.argv[1]?.endsWith('ssm-walk-calls.ts')) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
