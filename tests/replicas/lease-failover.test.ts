import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { startReplica, type ReplicaProcess } from './support/replica-process';

// Two replicas (OS processes) sharing only a PostgreSQL database run for the same lease: one leads,
// and when it is killed outright (no chance to give the lease up) the other takes over once the
// lease has expired, not before.

describe('a lease between two replicas', () => {
  const temp = makeTempDir('secrets-failover-');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const replicas: ReplicaProcess[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await database.drop();
    temp.cleanup();
  });

  const start = (name: string) => {
    const replica = startReplica(name, { DATABASE_URL: database.url, DATA_DIR: `${temp.dir}/${name}`, LEASE_TTL_MS: '1500', LEASE_RENEW_MS: '200' });
    replicas.push(replica);
    return replica;
  };
  async function leaseRow(): Promise<{ holder: string; expires_at: string; acquired_at: string } | undefined> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT holder, expires_at, acquired_at FROM app.leases WHERE name = 'failover'");
      return rows[0];
    } finally {
      await client.end();
    }
  }

  it('moves to the other replica after the holder is killed and its lease expired', async () => {
    const a = start('a');
    await a.eventSeen('ready');
    await a.call('lead', { name: 'failover' });
    await a.eventSeen('lead');
    const holderA = await a.call<string>('holder');

    const b = start('b');
    await b.eventSeen('ready');
    const holderB = await b.call<string>('holder');
    expect(holderB).not.toBe(holderA);
    await b.call('lead', { name: 'failover' });
    // b's first try (made at once) is refused: a holds the lease and keeps renewing it.
    const whileAlive = await leaseRow();
    expect(whileAlive?.holder).toBe(holderA);
    expect(b.events).not.toContain('lead');

    a.child.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    const lastOfA = (await leaseRow())!;

    await b.eventSeen('lead');
    const afterTakeover = (await leaseRow())!;
    expect(afterTakeover.holder).toBe(holderB);
    // Not before a's lease ran out: the take-over happened at or after its last expiry.
    expect(lastOfA.holder).toBe(holderA);
    expect(afterTakeover.acquired_at >= lastOfA.expires_at).toBe(true);
    expect(b.events).toEqual(['ready', 'lead']);
  }, 60_000);
});
