import path from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { appendAudit } from '@/lib/audit/audit-log';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { useDatabase, type DatabaseKind } from '../../support/databases';
import { makeTempDir } from '../../support/temp-dir';

/**
 * A fresh, empty deployment per test (its own DATA_DIR, or its own PostgreSQL database and
 * MASTER_KEY), torn down after each test: `beforeTeardown` first (a background loop to stop), then
 * the keyrings and the database. The environment the file started with is put back at the end.
 */
export function useFreshDeployments(tempPrefix: string, beforeTeardown?: () => Promise<void>): { freshDeployment: (kind: DatabaseKind) => Promise<void> } {
  const temp = makeTempDir(tempPrefix);
  const saved = { DATA_DIR: process.env.DATA_DIR, DATABASE_URL: process.env.DATABASE_URL, MASTER_KEY: process.env.MASTER_KEY };
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    temp.cleanup();
  });

  let dirs = 0;
  let cleanup: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await beforeTeardown?.();
    await closeKeyrings();
    await cleanup?.();
    cleanup = null;
  });

  return {
    freshDeployment: async (kind) => {
      process.env.DATA_DIR = path.join(temp.dir, `data-${++dirs}`);
      cleanup = (await useDatabase(kind)).cleanup;
    },
  };
}

/** Appends entries `from` … `from + n - 1` by one actor, alternating reveal and rotate. */
export async function appendSome(n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) await appendAudit({ actor: 'alice@example.com', action: i % 2 ? 'reveal' : 'rotate', target: `local:/prod/item-${i}`, outcome: 'success', details: { i } });
}
