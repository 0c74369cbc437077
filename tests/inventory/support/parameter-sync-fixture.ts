import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startSimulatedAws, type SimulatedAws } from '@/simulator/simulated-aws';
import { InventorySync } from '@/lib/inventory/sync';
import { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import { SsmStore } from '@/lib/stores/ssm';
import type { DatabaseKind } from '../../support/databases';
import { inventoryOpener } from '../open-inventory';
import { useSyncHarness } from './sync-harness';

// The background sync of a Parameter Store ('params') and a Secrets Manager ('secrets') against one
// simulated AWS (the real wire protocol to the real SDK, latency, AWS's quotas) into an inventory on
// SQLite or PostgreSQL: what tests/inventory/sync.test.ts and sync-rates.test.ts share.

export const PARAMS = 620;
export const SECRETS = 230;
const CALM = { failAll: null, latencyMs: 2, quotas: { 'ssm:DescribeParameters': 50 }, denyTags: null, resetStats: true } as const;

export function useParameterSyncFixture() {
  let simulated: SimulatedAws | undefined;
  beforeAll(async () => {
    simulated = await startSimulatedAws({
      ssm: [{ pattern: 'hierarchy', count: PARAMS }],
      secretsmanager: [{ pattern: 'hierarchy', count: SECRETS }],
      latencyMs: 2,
      quotas: { 'ssm:DescribeParameters': 50, 'ssm:ListTagsForResource': 200 },
    });
  });
  afterAll(async () => {
    await simulated?.close();
  });
  afterEach(() => {
    simulated?.control(CALM);
  });
  // Registered after the reset above: after-hooks run in reverse, so syncs stop before the simulator calms.
  const { syncs } = useSyncHarness();
  const sim = (): SimulatedAws => simulated!;

  /** Opens inventories on `kind` for a describe block (removed after it). */
  function onDatabase(kind: DatabaseKind) {
    const inventories = inventoryOpener(kind);
    afterAll(() => inventories.cleanup());

    async function setup(rates: Record<string, number> = {}, fetchTags = false) {
      const db = await inventories.open();
      const ssm = SsmStore.fromConfig({ id: 'params', region: 'us-east-1', endpoint: sim().url });
      const sm = SecretsManagerStore.fromConfig({ id: 'secrets', region: 'us-east-1', endpoint: sim().url });
      const sync = new InventorySync(db, [ssm, sm], { intervalMs: 3_600_000, rates: { params: rates, secrets: rates }, fetchTags });
      syncs.push(sync);
      return { db, sync };
    }
    return { setup };
  }

  return { sim, onDatabase };
}

export async function walk(sync: InventorySync, storeId: string): Promise<void> {
  expect(sync.request(storeId)).toBe('started');
  await sync.idle(storeId);
}

/** Secrets the simulator lists (those scheduled for deletion are not, as AWS does without IncludePlannedDeletion). */
export async function listedSecrets(endpoint: string): Promise<number> {
  const client = new SecretsManagerClient({ region: 'us-east-1', endpoint });
  let count = 0;
  let token: string | undefined;
  do {
    const out = await client.send(new ListSecretsCommand({ MaxResults: 100, NextToken: token, IncludePlannedDeletion: false }));
    count += out.SecretList?.length ?? 0;
    token = out.NextToken;
  } while (token);
  expect(count).toBeGreaterThan(SECRETS / 2);
  return count;
}
