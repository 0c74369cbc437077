import { describe, expect, it } from 'vitest';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startSimulatedAws, type SecretInput, type SimulatedAws } from '@/simulator/simulated-aws';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { InventorySync } from '@/lib/inventory/sync';
import { SecretsManagerStore, secretToItemName } from '@/lib/stores/secrets-manager';
import { SECRET_NAME_CHARACTERS, splitChain, type WalkChain } from '@/lib/stores/secrets-manager-walk';
import { checkItemName } from '@/lib/validations/item-name';
import { makeTempDir } from '../support/temp-dir';
import { useSyncHarness } from './support/sync-harness';

// The Secrets Manager walk as concurrent chains of name filters, against the simulated AWS (real
// wire protocol, real SDK, latency, ListSecrets quota): every secret exactly once whatever its first
// character or case, never above the configured rate, and one call for a small store.

const { temps, syncs } = useSyncHarness();

async function setup(sim: SimulatedAws, rates: Record<string, number> = {}, maxWalkChains?: number) {
  const temp = makeTempDir('secrets-sm-sync-');
  temps.push(temp);
  const db = await InventoryDb.open(temp.dir);
  const sm = SecretsManagerStore.fromConfig({ id: 'secrets', region: 'us-east-1', endpoint: sim.url });
  const sync = new InventorySync(db, [sm], { intervalMs: 3_600_000, rates: { secrets: rates }, fetchTags: false, maxWalkChains });
  syncs.push(sync);
  return { db, sync };
}

async function walk(sync: InventorySync) {
  expect(sync.request('secrets')).toBe('started');
  await sync.idle('secrets');
}

/** Every secret the simulator lists, one plain sequential chain (the truth the walk must match). */
async function listedNames(sim: SimulatedAws): Promise<string[]> {
  const client = new SecretsManagerClient({ region: 'us-east-1', endpoint: sim.url });
  const names: string[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(new ListSecretsCommand({ MaxResults: 100, NextToken: token, IncludePlannedDeletion: false }));
    names.push(...(out.SecretList ?? []).map((s) => s.Name!));
    token = out.NextToken;
  } while (token);
  return names;
}

async function indexedNames(db: InventoryDb): Promise<string[]> {
  const page = await db.index.folderPage({ storeId: 'secrets', folder: '/', recursive: true, limit: 100_000, namePattern: null });
  return page.items.map((i) => i.name);
}

/** Names over every allowed first character, both cases, prefixes of one another, and a skew. */
function mixedSecrets(): SecretInput[] {
  const names = new Set<string>();
  const rest = [...'abcxyzABCXYZ0189'];
  for (const c of SECRET_NAME_CHARACTERS) {
    names.add(c);
    for (let i = 0; i < 12; i++) names.add(`${c}${rest[i % rest.length]}${i}/key-${i}`);
  }
  // Upper and lower case of the same word, and names that are exact prefixes of other names.
  for (const word of ['prod', 'Prod', 'PROD', 'pRod']) for (let i = 0; i < 40; i++) names.add(`${word}/svc${i % 7}/secret-${i}`);
  for (const exact of ['prod', 'prod/', 'prod/svc1', 'prod/svc1/', 'pro', 'p']) names.add(exact);
  // Characters the tree cannot show ('+', '=', '@'), which the walk counts as unreadable.
  for (let i = 0; i < 30; i++) names.add(`team+${i}@corp=x/${i}`);
  // A skew: most secrets under one deep prefix, so chains must split more than once.
  for (let i = 0; names.size < 5000; i++) names.add(`prod/app/service-${i % 37}/credential-${i}`);
  return [...names].map((Name) => ({ Name, DeletedDate: null }));
}

describe('a Secrets Manager walk split into chains', () => {
  it('indexes every secret exactly once, whatever its first character or case, and counts unreadable names once', async () => {
    const secrets = mixedSecrets();
    const sim = await startSimulatedAws({ extraSecrets: secrets, latencyMs: 2, quotas: { 'secretsmanager:ListSecrets': 100 } });
    try {
      const listed = await listedNames(sim);
      expect(listed).toHaveLength(5000);
      sim.resetStats();
      const { db, sync } = await setup(sim, { ListSecrets: 100 });
      await walk(sync);

      const readable = listed.map(secretToItemName).filter((name) => {
        const problem = checkItemName(name);
        return !problem || problem.rule === 'reserved-prefix';
      });
      // No two listed names map to one item name here, so the inventory holds one row per readable secret.
      expect(new Set(readable).size).toBe(readable.length);
      const indexed = await indexedNames(db);
      expect(indexed).toHaveLength(readable.length);
      expect(new Set(indexed)).toEqual(new Set(readable));
      for (const name of ['/a', '/A', '/0', '/_', '/.', '/-', '/prod', '/Prod/svc1/secret-1', '/PROD/svc0/secret-0', '/pRod/svc2/secret-2', '/p', '/pro', '/prod/svc1'])
        expect(indexed, name).toContain(name);

      const record = await db.index.syncRecord('secrets');
      expect(record).toMatchObject({ items: readable.length, unreadable_items: listed.length - readable.length, error_code: null });
      expect(listed.length - readable.length).toBeGreaterThanOrEqual(30);

      const shape = sync.lastWalk('secrets')!;
      expect(shape.chains).toBeGreaterThan(1);
      expect(shape.maxOpenChains).toBeGreaterThan(1);
      const stats = sim.stats().operations['secretsmanager:ListSecrets']!;
      expect(stats.throttled).toBe(0);
      expect(JSON.parse(record!.calls)).toEqual({ ListSecrets: stats.calls });
      console.log(`5,000 mixed secrets: ${stats.calls} ListSecrets calls (${Math.ceil(listed.length / 100)} at the least), ${shape.chains} chains, ${shape.maxOpenChains} at once`);
    } finally {
      await sim.close();
    }
  }, 60_000);

  it('reads a chain from both ends when it may not split, and the halves stop where they meet', async () => {
    const sim = await startSimulatedAws({ extraSecrets: mixedSecrets(), latencyMs: 5 });
    try {
      const listed = await listedNames(sim);
      sim.resetStats();
      // Room for two chains only: the whole-store chain cannot split (a split makes three or more),
      // so after a few pages it gets a descending twin.
      const { db, sync } = await setup(sim, { ListSecrets: 100 }, 2);
      await walk(sync);
      expect(sync.lastWalk('secrets')).toEqual({ chains: 2, maxOpenChains: 2 });
      const record = await db.index.syncRecord('secrets');
      expect(record!.items + record!.unreadable_items).toBe(listed.length);
      const readable = listed.map(secretToItemName).filter((name) => !checkItemName(name) || checkItemName(name)!.rule === 'reserved-prefix');
      expect(new Set(await indexedNames(db))).toEqual(new Set(readable));
      // Both halves together read each page about once (one overlapping page where they meet).
      const calls = sim.stats().operations['secretsmanager:ListSecrets']!.calls;
      expect(calls).toBeLessThanOrEqual(Math.ceil(listed.length / 100) + 2);
      expect(JSON.parse(record!.calls)).toEqual({ ListSecrets: calls });
    } finally {
      await sim.close();
    }
  }, 60_000);

  it('never goes above the configured rate, and with 30 ms a call comes near the rate floor', async () => {
    const sim = await startSimulatedAws({ secretsmanager: [{ pattern: 'hierarchy', count: 6000 }], latencyMs: 30 });
    try {
      const { db, sync } = await setup(sim, { ListSecrets: 40 });
      const started = performance.now();
      await walk(sync);
      const seconds = (performance.now() - started) / 1000;
      const record = await db.index.syncRecord('secrets');
      expect(record?.error_code).toBeNull();
      const listed = record!.items + record!.unreadable_items;
      expect(await db.index.countStore('secrets')).toBe(record!.items);
      expect(listed).toBe((await listedNames(sim)).length);
      const stats = sim.stats().operations['secretsmanager:ListSecrets']!;
      expect(stats.maxCallsPerSecond).toBeLessThanOrEqual(40);
      expect(stats.throttled).toBe(0);
      const shape = sync.lastWalk('secrets')!;
      expect(shape.maxOpenChains).toBeGreaterThan(1);
      const floor = Math.ceil(listed / 100) / 40;
      console.log(
        `${listed} secrets at 40 ListSecrets/s, 30 ms a call: ${seconds.toFixed(2)} s, floor ${floor.toFixed(2)} s (${(seconds / floor).toFixed(2)}x; one chain alone would be ~${((Math.ceil(listed / 100) * 0.03) / floor).toFixed(2)}x), ${stats.calls} calls, busiest second ${stats.maxCallsPerSecond}, ${shape.chains} chains, ${shape.maxOpenChains} at once`,
      );
    } finally {
      await sim.close();
    }
  }, 60_000);

  it('costs one call for a store of fewer than 100 secrets, and three for 230', async () => {
    const small = await startSimulatedAws({ secretsmanager: [{ pattern: 'hierarchy', count: 60 }], latencyMs: 2 });
    const medium = await startSimulatedAws({ secretsmanager: [{ pattern: 'hierarchy', count: 230 }], latencyMs: 2 });
    try {
      for (const [sim, calls] of [
        [small, 1],
        [medium, 3],
      ] as const) {
        const { db, sync } = await setup(sim);
        await walk(sync);
        expect(sim.stats().operations['secretsmanager:ListSecrets']?.calls).toBe(calls);
        expect(sync.lastWalk('secrets')).toEqual({ chains: 1, maxOpenChains: 1 });
        expect(await db.index.countStore('secrets')).toBe((await listedNames(sim)).length);
      }
    } finally {
      await Promise.all([small.close(), medium.close()]);
    }
  });

  it('fails as a whole when a chain fails, keeping the last inventory', async () => {
    const sim = await startSimulatedAws({ secretsmanager: [{ pattern: 'hierarchy', count: 3000 }], latencyMs: 20 });
    try {
      const { db, sync } = await setup(sim);
      await walk(sync);
      const items = await db.index.countStore('secrets');
      expect(items).toBeGreaterThan(2000);
      expect(sync.request('secrets')).toBe('started');
      await new Promise((resolve) => setTimeout(resolve, 250));
      sim.control({ failAll: 'AccessDeniedException' });
      await sync.idle('secrets');
      expect(await db.index.syncRecord('secrets')).toMatchObject({ error_code: 'access-denied', items });
      expect(await db.index.countStore('secrets')).toBe(items);
    } finally {
      await sim.close();
    }
  }, 30_000);
});

describe('splitting a chain', () => {
  /** Whether a name is in a chain, by the filter semantics AWS documents (case-sensitive prefixes, '!' negation). */
  const inChain = (name: string, chain: WalkChain) => name.startsWith(chain.p) && !chain.n.some((n) => name.startsWith(n));

  it('makes disjoint chains that together hold exactly the parent, for any names', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const word = (length: number) => Array.from({ length }, () => SECRET_NAME_CHARACTERS[Math.floor(random() * SECRET_NAME_CHARACTERS.length)]!).join('');
    for (let round = 0; round < 300; round++) {
      const base = word(Math.floor(random() * 3));
      const names = Array.from({ length: 60 }, () => (random() < 0.5 ? base : '') + word(1 + Math.floor(random() * 6)));
      names.push(base, `${base}a`, `${base}A`);
      let chain: WalkChain = { p: '', n: [] };
      if (random() < 0.5 && base) chain = { p: base.slice(0, 1), n: random() < 0.5 ? [`${base.slice(0, 1)}Z`] : [] };
      const members = names.filter((n) => inChain(n, chain));
      if (members.length < 2) continue;
      const sortedMembers = [...members].sort();
      const first = random() < 0.8 ? sortedMembers[0]! : members[Math.floor(random() * members.length)]!;
      const last = random() < 0.8 ? sortedMembers.at(-1)! : members[Math.floor(random() * members.length)]!;
      const parts = splitChain(chain, first, last, 2 + Math.floor(random() * 20), members.slice(0, 10));
      if (!parts) continue;
      for (const name of names) {
        const holders = parts.filter((part) => inChain(name, part)).length;
        expect(holders, `${name} in ${JSON.stringify(parts)}`).toBe(inChain(name, chain) ? 1 : 0);
      }
    }
  });

  it('splits where the first and last names part, keeps a rest for everything else, and stays within the room', () => {
    const parts = splitChain({ p: 's', n: [] }, 'scale/team1/svc1/secret1', 'scale/team9/svc9/secret9', 32, ['scale/team1/svc1/secret1'])!;
    expect(parts.slice(0, 2).map((c) => c.p)).toEqual(['scale/team1', 'scale/team9']);
    expect(parts.at(-1)).toEqual({ p: 's', n: parts.slice(0, -1).map((c) => c.p) });
    expect(splitChain({ p: '', n: [] }, 'a', 'z', 3)).toHaveLength(3);
    expect(splitChain({ p: '', n: [] }, 'a', 'z', 1)).toBeNull();
    expect(splitChain({ p: '', n: [] }, 'same', 'same', 10)).toBeNull();
  });
});
