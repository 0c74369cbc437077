import { describe, expect, it } from 'vitest';
import { DATABASES } from '../support/databases';
import { listedSecrets, PARAMS, SECRETS, useParameterSyncFixture, walk } from './support/parameter-sync-fixture';

// The sync's calls a second against a simulated AWS with AWS's quotas (throttling answered as AWS
// does), on SQLite and PostgreSQL. Counted per second, so this file runs alone (vitest.config.mts,
// RATE_MEASURING_FILES); the rest of the sync's behaviour is in sync.test.ts.

const fixture = useParameterSyncFixture();
const sim = fixture.sim;

describe.each(DATABASES)('the inventory sync (%s)', (kind) => {
  const { setup } = fixture.onDatabase(kind);

  describe('a cold walk', () => {
    it('takes in every parameter and secret with one listing call per page and no value read', async () => {
      const { db, sync } = await setup({ DescribeParameters: 40 });
      await Promise.all([walk(sync, 'params'), walk(sync, 'secrets')]);
      expect(await db.index.countStore('params')).toBe(PARAMS);
      // Secrets scheduled for deletion are not listed, as AWS does without IncludePlannedDeletion.
      expect(await db.index.countStore('secrets')).toBe(await listedSecrets(sim().url));
      expect((await db.index.getFolder('params', '/'))?.totalItems).toBe(PARAMS);

      // A cold Parameter Store walk splits into chains (tests/inventory/ssm-walk.test.ts): a page per call, some re-read.
      const record = await db.index.syncRecord('params');
      expect(record).toMatchObject({ items: PARAMS, error_code: null });
      expect(record!.pages).toBeGreaterThanOrEqual(Math.ceil(PARAMS / 50));
      expect(JSON.parse(record!.calls)).toEqual({ DescribeParameters: record!.pages });

      const stats = sim().stats().operations;
      expect(stats['ssm:DescribeParameters']?.calls).toBe(record!.pages);
      expect(stats['ssm:DescribeParameters']?.maxAcceptedPerSecond).toBeLessThanOrEqual(40);
      expect(stats['secretsmanager:ListSecrets']?.calls).toBe(Math.ceil(SECRETS / 100) + Math.ceil(SECRETS / 100));
      for (const op of ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:BatchGetSecretValue'])
        expect(stats[op]?.calls ?? 0, op).toBe(0);

      // Secrets Manager rotation fields come from the listing itself.
      const rotated = (await db.index.folderPage({ storeId: 'secrets', folder: '/', recursive: true, limit: 500, namePattern: null })).items.filter(
        (i) => i.extra.rotation?.enabled,
      );
      expect(rotated.length).toBeGreaterThan(0);
      expect(rotated[0]!.extra.rotation).toMatchObject({ enabled: true, schedule: expect.any(String), lambdaArn: expect.stringContaining('arn:aws:lambda') });

      // Search reads its candidates (10 × the limit) in the walk's name order, then ranks them: the same hits on both dialects.
      const names = (await db.index.folderPage({ storeId: 'params', folder: '/', recursive: true, limit: 5000, namePattern: null })).items.map((i) => i.name);
      const leaf = (n: string) => n.slice(n.lastIndexOf('/') + 1);
      const rankOf = (n: string) => (leaf(n).startsWith('key1') ? 1 : leaf(n).includes('key1') ? 2 : 3);
      const expected = names
        .filter((n) => n.toLowerCase().includes('key1'))
        .slice(0, 50)
        .sort((a, b) => rankOf(a) - rankOf(b) || a.length - b.length || (a < b ? -1 : 1))
        .slice(0, 5);
      expect(expected).toHaveLength(5);
      expect((await db.index.search([{ storeId: 'params', namePattern: null }], 'KEY1', 5)).map((h) => h.name)).toEqual(expected);
    });

    it('never goes above the configured rate, and slows down when AWS throttles below it', async () => {
      // Configured at 30/s, but the account only allows 8/s (someone else uses the quota).
      sim().control({ quotas: { 'ssm:DescribeParameters': 8 } });
      const { db, sync } = await setup({ DescribeParameters: 30 });
      await walk(sync, 'params');
      const stats = sim().stats().operations['ssm:DescribeParameters']!;
      expect(stats.throttled).toBeGreaterThan(0);
      expect(stats.maxCallsPerSecond).toBeLessThanOrEqual(30);
      expect(await db.index.countStore('params')).toBe(PARAMS);
      expect((await db.index.syncRecord('params'))?.throttled).toBe(stats.throttled);
    }, 30_000);
  });

});
