import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '@/lib/audit/audit-log';
import { createTestDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { startReplica, type ReplicaProcess } from './support/replica-process';

// Two replicas (OS processes, each with its own DATA_DIR) that share only a PostgreSQL database:
// the audit chain, session revocation and the write guard hold across them.

describe('two replicas sharing one PostgreSQL database', () => {
  const temp = makeTempDir('secrets-replicas-');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let a: ReplicaProcess;
  let b: ReplicaProcess;
  const saved = { DATABASE_URL: process.env.DATABASE_URL, DATA_DIR: process.env.DATA_DIR, MASTER_KEY: process.env.MASTER_KEY };
  // Every replica on PostgreSQL has the same master key (the audit chain key is sealed under it).
  const masterKey = Buffer.alloc(32, 11).toString('base64');

  async function query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    await query('CREATE TABLE public.guard_runs (id bigserial PRIMARY KEY, request text NOT NULL, replica text NOT NULL)');
    await query('CREATE TABLE public.guard_events (id bigserial PRIMARY KEY, replica text NOT NULL, n integer NOT NULL, kind text NOT NULL)');
    // Sessions are sealed with one key every replica shares (NEXTAUTH_SECRET), the data keys and the
    // audit chain key with another (MASTER_KEY); nothing else is shared.
    const shared = { DATABASE_URL: database.url, NEXTAUTH_SECRET: 'replicas-test-secret-0123456789abcdef', MASTER_KEY: masterKey };
    a = startReplica('a', { ...shared, DATA_DIR: `${temp.dir}/a` });
    b = startReplica('b', { ...shared, DATA_DIR: `${temp.dir}/b` });
    await Promise.all([a.eventSeen('ready'), b.eventSeen('ready')]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    await database.drop();
    temp.cleanup();
  });

  it('50 audit appends from each at once make one intact chain of 100 entries, both writers interleaved, no fork', async () => {
    await Promise.all([a.call('append', { count: 50 }), b.call('append', { count: 50 })]);
    const rows = await query<{ seq: number; actor: string; prev_hash: string }>('SELECT seq, actor, prev_hash FROM app.audit_log ORDER BY seq');
    expect(rows).toHaveLength(100);
    expect(rows.filter((r) => r.actor === 'os:a')).toHaveLength(50);
    // Two entries after the same one would be a fork.
    expect(new Set(rows.map((r) => r.prev_hash)).size).toBe(100);
    const switches = rows.filter((r, i) => i > 0 && r.actor !== rows[i - 1]!.actor).length;
    expect(switches).toBeGreaterThan(1);

    process.env.DATABASE_URL = database.url;
    process.env.DATA_DIR = `${temp.dir}/verifier`;
    process.env.MASTER_KEY = masterKey;
    expect(await verifyAuditChain()).toMatchObject({ intact: true, entries: 100 });
  }, 60_000);

  it('a session signed out on one replica is refused by the other, which had accepted it before', async () => {
    const cookie = await a.call<string>('issueSession', { uid: 'user-1', email: 'one@example.com' });
    const claims = await b.call<{ uid: string; sid: string; authTime: number } | null>('decodeSession', { value: cookie });
    expect(claims).toMatchObject({ uid: 'user-1' });
    // b has now decrypted (and remembered) this cookie; revocation must still reach it.
    await a.call('revokeSession', { sid: claims!.sid, authTime: claims!.authTime });
    expect(await b.call('decodeSession', { value: cookie })).toBeNull();
    expect(await a.call('decodeSession', { value: cookie })).toBeNull();
    // Another session of the same user is untouched.
    const other = await b.call<string>('issueSession', { uid: 'user-1', email: 'one@example.com' });
    expect(await a.call('decodeSession', { value: other })).toMatchObject({ uid: 'user-1' });
  });

  it('the same request id sent to both replicas at once runs once, and both answer the same', async () => {
    const key = 'admin@example.com\nprod:/db/password\nrequest-1';
    const [fromA, fromB] = await Promise.all([a.call('oncePerRequest', { key, workMs: 300 }), b.call('oncePerRequest', { key, workMs: 300 })]);
    expect(fromA).toEqual(fromB);
    expect(await query('SELECT replica FROM public.guard_runs WHERE request = $1', [key])).toHaveLength(1);
    // A repeat later, on either replica, still gets the first answer without running again.
    expect(await b.call('oncePerRequest', { key })).toEqual(fromA);
    expect(await query('SELECT replica FROM public.guard_runs WHERE request = $1', [key])).toHaveLength(1);
  }, 30_000);

  it('writes to one item from both replicas never overlap', async () => {
    await Promise.all([a.call('writes', { item: 'prod:/db/password', count: 10, workMs: 5 }), b.call('writes', { item: 'prod:/db/password', count: 10, workMs: 5 })]);
    const events = await query<{ replica: string; n: number; kind: string }>('SELECT replica, n, kind FROM public.guard_events ORDER BY id');
    expect(events).toHaveLength(40);
    // One write at a time: every start is followed by the end of the same write.
    for (let i = 0; i < events.length; i += 2) {
      expect(events[i]).toMatchObject({ kind: 'start' });
      expect(events[i + 1]).toEqual({ ...events[i], kind: 'end' });
    }
    // Both replicas wrote, taking turns (the test would prove nothing if one had finished first).
    const writers = events.filter((e) => e.kind === 'start').map((e) => e.replica);
    expect(writers.filter((w) => w === 'a')).toHaveLength(10);
    expect(writers.filter((w, i) => i > 0 && w !== writers[i - 1]).length).toBeGreaterThan(1);
  }, 30_000);
});
