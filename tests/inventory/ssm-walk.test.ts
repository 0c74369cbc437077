import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { startSimulatedAws, type ParameterInput, type SimulatedAws, type SimulatedAwsOptions } from '@/simulator/simulated-aws';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { InventorySync } from '@/lib/inventory/sync';
import { SsmStore } from '@/lib/stores/ssm';
import { afterRefusal, descend, MAX_FILTER_VALUES, PARAMETER_NAME_CHARACTERS, ROOT_SPLIT_CHAINS, splitChain } from '@/lib/stores/ssm-walk';
import { modelWalk, WALK_SHAPES } from '@/scripts/bench/ssm-walk-calls';
import { checkItemName } from '@/lib/validations/item-name';
import { makeTempDir } from '../support/temp-dir';
import { useSyncHarness } from './support/sync-harness';

// The Parameter Store walk as concurrent chains of DescribeParameters name filters, against the
// simulated AWS (real wire protocol, real SDK, latency, quota): it finds exactly what one chain
// finds, on hierarchies, flat folders and random names, while parameters come and go, and small
// stores cost no extra call.

const { temps, syncs } = useSyncHarness();

async function setup(sim: SimulatedAws, rate = 1000) {
  const temp = makeTempDir('ssm-walk-');
  temps.push(temp);
  const db = await InventoryDb.open(temp.dir);
  const store = SsmStore.fromConfig({ id: 'params', region: 'us-east-1', endpoint: sim.url });
  const sync = new InventorySync(db, [store], { intervalMs: 3_600_000, rates: { params: { DescribeParameters: rate } }, fetchTags: false });
  syncs.push(sync);
  return { db, sync };
}

async function walk(sync: InventorySync) {
  expect(sync.request('params')).toBe('started');
  await sync.idle('params');
}

/** Every parameter one plain chain lists (no filter, NextToken after NextToken): the truth the walk must match. */
async function listedNames(sim: SimulatedAws): Promise<string[]> {
  const client = new SSMClient({ region: 'us-east-1', endpoint: sim.url });
  const names: string[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(new DescribeParametersCommand({ MaxResults: 50, NextToken: token }));
    names.push(...(out.Parameters ?? []).map((p) => p.Name!));
    token = out.NextToken;
  } while (token);
  return names;
}

async function indexedNames(db: InventoryDb): Promise<string[]> {
  const page = await db.index.folderPage({ storeId: 'params', folder: '/', recursive: true, limit: 1_000_000, namePattern: null });
  return page.items.map((i) => i.name);
}

/** The sync's own rate (set per test) is what paces the walk here. */
const UNLIMITED = { 'ssm:DescribeParameters': null };

const readable = (name: string) => !checkItemName(name);

/** Seeded random names over every allowed character, prefixes of one another, deep and shallow. */
function randomNames(seed: number, count: number): string[] {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const letters = PARAMETER_NAME_CHARACTERS.filter((c) => c !== '/');
  const word = () => Array.from({ length: 1 + Math.floor(random() * 4) }, () => letters[Math.floor(random() ** 2 * letters.length)]).join('');
  const names = new Set<string>();
  while (names.size < count) {
    const depth = 1 + Math.floor(random() * 4);
    names.add('/' + Array.from({ length: depth }, word).join('/'));
  }
  // Names that are prefixes of others, and names without a leading slash (the tree skips those).
  for (const name of [...names].slice(0, 20)) names.add(name.slice(0, Math.max(2, name.length - 1)));
  for (let i = 0; i < 5; i++) names.add(`plain${i}`);
  return [...names];
}

const params = (names: readonly string[]): ParameterInput[] => names.map((Name) => ({ Name, Type: 'String' }));

async function expectSameAsOneChain(options: SimulatedAwsOptions) {
  const sim = await startSimulatedAws({ latencyMs: 2, quotas: UNLIMITED, ...options });
  try {
    const listed = await listedNames(sim);
    sim.resetStats();
    const { db, sync } = await setup(sim);
    await walk(sync);
    const indexed = await indexedNames(db);
    expect(indexed.length).toBe(new Set(indexed).size);
    expect(new Set(indexed)).toEqual(new Set(listed.filter(readable)));
    const record = await db.index.syncRecord('params');
    expect(record).toMatchObject({ items: listed.filter(readable).length, unreadable_items: listed.filter((n) => !readable(n)).length, error_code: null });
    const shape = sync.lastWalk('params')!;
    const calls = sim.stats().operations['ssm:DescribeParameters']!.calls;
    expect(JSON.parse(record!.calls)).toEqual({ DescribeParameters: calls });
    return { listed, shape, calls };
  } finally {
    await sim.close();
  }
}

describe('a Parameter Store walk split into chains', () => {
  it('finds exactly what one chain finds in a hierarchy, with chains running at once', async () => {
    const { listed, shape, calls } = await expectSameAsOneChain({ ssm: [{ pattern: 'hierarchy', count: 6000 }] });
    expect(listed).toHaveLength(6000);
    expect(shape.chains).toBeGreaterThan(2);
    expect(shape.maxOpenChains).toBeGreaterThan(2);
    expect(calls).toBeGreaterThanOrEqual(Math.ceil(6000 / 50));
  }, 60_000);

  it('finds exactly what one chain finds in a flat folder', async () => {
    const { shape } = await expectSameAsOneChain({ ssm: [{ pattern: 'flat:flat', count: 5000 }] });
    expect(shape.chains).toBeGreaterThan(2);
  }, 60_000);

  it('finds exactly what one chain finds for random names over every allowed character', async () => {
    for (const seed of [1, 2, 3]) {
      const names = randomNames(seed, 2500);
      const { listed, shape } = await expectSameAsOneChain({ extraParameters: params(names) });
      expect(listed.length).toBe(names.length);
      expect(shape.chains).toBeGreaterThan(1);
    }
  }, 120_000);

  it('finds every parameter that exists throughout while prefixes appear and vanish mid-walk', async () => {
    const stable = [...randomNames(7, 2000), ...Array.from({ length: 1500 }, (_, i) => `/stable/app${i % 13}/key-${i}`)];
    const vanishing = Array.from({ length: 600 }, (_, i) => `/vanish/v${i % 7}/key-${i}`);
    const appearing = Array.from({ length: 600 }, (_, i) => `/appear/a${i % 5}/key-${i}`);
    let calls = 0;
    let sim: SimulatedAws | null = null;
    sim = await startSimulatedAws({
      latencyMs: 2,
      quotas: UNLIMITED,
      extraParameters: params([...stable, ...vanishing]),
      onCall: (call) => {
        if (call.operation !== 'DescribeParameters' || !sim) return;
        calls++;
        // Between pages: a whole prefix appears, another vanishes, a few at a time.
        if (calls % 3 === 0 && calls <= 120) {
          const step = calls / 3 - 1;
          const add = appearing.slice(step * 15, step * 15 + 15);
          const del = vanishing.slice(step * 15, step * 15 + 15);
          queueMicrotask(() => sim!.control({ addParameters: params(add), deleteParameters: del }));
        }
      },
    });
    try {
      const { db, sync } = await setup(sim);
      await walk(sync);
      const indexed = await indexedNames(db);
      expect(indexed.length).toBe(new Set(indexed).size);
      const found = new Set(indexed);
      for (const name of stable.filter(readable)) expect(found.has(name), name).toBe(true);
      // Nothing that never existed; what came and went may or may not be there.
      const possible = new Set([...stable, ...vanishing, ...appearing]);
      for (const name of indexed) expect(possible.has(name), name).toBe(true);
      expect(calls).toBeGreaterThan(120);
      expect(sync.lastWalk('params')!.chains).toBeGreaterThan(1);
    } finally {
      await sim.close();
    }
  }, 60_000);

  it('walks 25,000 parameters near the rate floor, with few calls beyond one a page', async () => {
    // 20 calls/s at 75 ms a call keeps as many calls in flight as 10/s at 150 ms (the issue's
    // target), in half the time. The floor is the pages needed at the configured rate.
    const rate = 20;
    for (const pattern of ['hierarchy', 'flat:flat']) {
      const sim = await startSimulatedAws({ ssm: [{ pattern, count: 25_000 }], latencyMs: 75, quotas: UNLIMITED });
      try {
        const { db, sync } = await setup(sim, rate);
        const started = performance.now();
        await walk(sync);
        const seconds = (performance.now() - started) / 1000;
        expect(await db.index.countStore('params')).toBe(25_000);
        const pages = Math.ceil(25_000 / 50);
        const floor = pages / rate;
        const calls = sim.stats().operations['ssm:DescribeParameters']!.calls;
        const shape = sync.lastWalk('params')!;
        console.log(`${pattern} 25,000 at ${rate}/s, 75 ms a call: ${seconds.toFixed(1)} s, floor ${floor} s (${(seconds / floor).toFixed(2)}x), ${calls} calls for ${pages} pages, ${shape.chains} chains`);
        expect(calls).toBeLessThanOrEqual(pages * 1.08);
        expect(shape.maxOpenChains).toBeGreaterThan(2);
        // One chain alone takes over 1.55x the floor (518 calls one after another at 75 ms); on a quiet
        // machine this walk takes 1.1-1.2x, on a loaded one (tests in parallel) up to 1.45x.
        expect(seconds / floor).toBeLessThan(1.45);
      } finally {
        await sim.close();
      }
    }
  }, 150_000);

  it('walks an organisation\'s store near the rate floor at 10 calls/s and 150 ms a call (calls and time counted in virtual time)', async () => {
    // The sync's scheduling replayed in virtual time (scripts/bench/ssm-walk-calls.ts), each page
    // the real SsmStore's against the simulator: the counts do not depend on the machine's load.
    // Before the whole store split into a few chains, all of /scale/ (300 pages) was one chain
    // (51.9-52.4 s, 1.31x the floor); the 25,000 shapes stay near one call a page.
    for (const [shape, count] of [['org', 20_000], ['hierarchy', 25_000], ['flat', 25_000]] as const) {
      const walk = await modelWalk(WALK_SHAPES[shape]!(count), { rate: 10, latencyMs: 150 });
      const pages = Math.ceil(count / 50);
      expect(walk.items, shape).toBe(count);
      expect(walk.calls, shape).toBeLessThanOrEqual(pages * 1.1);
      expect(walk.seconds / (pages / 10), shape).toBeLessThan(1.2);
      expect(walk.maxOpenChains, shape).toBeGreaterThan(2);
    }
  }, 90_000);

  it('costs one call a page for a store of up to three pages', async () => {
    for (const count of [1, 49, 150]) {
      const sim = await startSimulatedAws({ ssm: [{ pattern: 'hierarchy', count }], latencyMs: 2, quotas: UNLIMITED });
      try {
        const { db, sync } = await setup(sim);
        await walk(sync);
        expect(sim.stats().operations['ssm:DescribeParameters']?.calls).toBe(Math.ceil(count / 50));
        expect(sync.lastWalk('params')).toEqual({ chains: 1, maxOpenChains: 1 });
        expect(await db.index.countStore('params')).toBe(count);
      } finally {
        await sim.close();
      }
    }
  });
});

describe('splitting a Parameter Store chain', () => {
  const alphabet = fc.constantFrom(...PARAMETER_NAME_CHARACTERS, '/', '/', 'a', '1');
  const name = fc.array(alphabet, { minLength: 1, maxLength: 12 }).map((cs) => cs.join(''));

  /** Which chains of a split hold a name: prefixes by BeginsWith, exact names by Equals. */
  function holders(split: NonNullable<ReturnType<typeof splitChain>>, n: string): number {
    return split.prefixes.filter((values) => values.some((v) => n.startsWith(v))).length + split.exact.filter((values) => values.includes(n)).length;
  }

  it('covers the parent exactly, each name in one chain, whatever names were seen', () => {
    fc.assert(
      fc.property(
        fc.array(name, { minLength: 1, maxLength: 120 }),
        fc.array(name, { maxLength: 200 }),
        fc.option(fc.array(name, { minLength: 1, maxLength: 5 }), { nil: undefined }),
        fc.integer({ min: 2, max: 40 }),
        (seenAll, others, parent, room) => {
          // A parent of prefixes none of which starts another (as splits make them).
          const values = parent?.filter((v, _, all) => !all.some((w) => w !== v && v.startsWith(w)));
          const inParent = (n: string) => (values ? values.some((v) => n.startsWith(v)) : true);
          const seen = seenAll.filter(inParent);
          const split = splitChain(values ? [...new Set(values)] : undefined, seen, room);
          if (!split) return;
          expect(split.prefixes.length + split.exact.length).toBeLessThanOrEqual(room);
          for (const chain of [...split.prefixes, ...split.exact]) expect(chain.length).toBeLessThanOrEqual(MAX_FILTER_VALUES);
          for (const n of [...seenAll, ...others]) expect(holders(split, n), n).toBe(inParent(n) ? 1 : 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('spreads the prefixes the seen names fall in over different chains', () => {
    const seen = Array.from({ length: 150 }, (_, i) => `/scale/team1/svc${1 + Math.floor(i / 148) * 9}/key${i}`);
    const split = splitChain(['/'], seen, 31)!;
    expect(split.prefixes.length).toBeGreaterThan(2);
    const withHot = split.prefixes.filter((values) => values.includes('/scale/team1/svc1/') || values.includes('/scale/team1/svc10'));
    expect(withHot).toHaveLength(2);
    // Neighbouring prefixes (team2, team3) go to different chains.
    const chainOf = (v: string) => split.prefixes.findIndex((values) => values.includes(v));
    expect(chainOf('/scale/team2')).not.toBe(chainOf('/scale/team3'));
    expect(split.exact.flat()).toContain('/scale/team1');
    // No room for a split: none.
    expect(splitChain(['/'], seen, 1)).toBeNull();
  });

  it('splits the whole store into a few chains, the prefixes after the seen names apart from them', () => {
    // The store's first pages in name order: all under /bulk/ (then /scale/, never seen yet).
    const seen = Array.from({ length: 150 }, (_, i) => `/bulk/item-${String(i + 1).padStart(6, '0')}`);
    const split = splitChain(undefined, seen, 31)!;
    expect(split.prefixes.length + split.exact.length).toBeLessThanOrEqual(ROOT_SPLIT_CHAINS);
    const chainOf = (v: string) => split.prefixes.findIndex((values) => values.includes(v));
    expect(chainOf('/s')).toBeGreaterThanOrEqual(0);
    expect(chainOf('/s')).not.toBe(chainOf('/b'));
    // Likely empty prefixes before the seen names go with the hot one.
    expect(chainOf('/a')).toBe(chainOf('/b'));
  });

  it('narrows a refused chain down: halves, then the exact name, then one character deeper', () => {
    expect(afterRefusal({ b: ['/a', '/b', '/c'], k: 2, t: 'x' })).toEqual({ forks: [{ b: ['/a', '/b'], k: 0, r: true }, { b: ['/c'], k: 0, r: true }] });
    expect(afterRefusal({ b: ['/secret'], k: 0 })).toEqual({ forks: [{ e: ['/secret'], k: 0, d: true }] });
    expect(afterRefusal({ e: ['/secret'], k: 0, d: true })).toEqual({ refused: '/secret' });
    expect(afterRefusal({ e: ['/a', '/b'], k: 0 })).toEqual({ forks: [{ e: ['/a'], k: 0, r: true }, { e: ['/b'], k: 0, r: true }] });
    const root = afterRefusal({ k: 0 });
    expect('forks' in root && root.forks.flatMap((f) => f.b)).toEqual(PARAMETER_NAME_CHARACTERS);
    expect(descend('/x').flatMap((f) => f.b ?? [])).toEqual(PARAMETER_NAME_CHARACTERS.map((c) => `/x${c}`));
  });
});
