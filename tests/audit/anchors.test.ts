import { spawn } from 'node:child_process';
import path from 'node:path';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { appendAudit, listAudit } from '@/lib/audit/audit-log';
import { anchorIfHeadMoved, flushAnchors, lastAnchor, recordAnchor, startAnchorTimer, stopAnchorTimer } from '@/lib/audit/anchors';
import { resetAnchorS3 } from '@/lib/audit/anchor-s3';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { appDb } from '@/lib/db/app-db';
import { startSimulatedS3, type SimulatedS3 } from '@/simulator/simulated-s3';
import { DATABASES, useDatabase, type DatabaseKind } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// Anchors: the chain's head written outside the database every AUDIT_ANCHOR_EVERY entries and on a
// timer, to the server log, the audit_anchors table and an S3 object (Object Lock COMPLIANCE when
// the bucket has it), in the background after the append committed.

const temp = makeTempDir('secrets-anchors-');
const ANCHOR_SETTINGS = ['AUDIT_ANCHOR_S3_BUCKET', 'AUDIT_ANCHOR_S3_ENDPOINT', 'AUDIT_ANCHOR_S3_REGION', 'AUDIT_ANCHOR_S3_PREFIX', 'AUDIT_ANCHOR_EVERY', 'AUDIT_ANCHOR_RETENTION_DAYS', 'AUDIT_ANCHOR_INTERVAL_MINUTES', 'DEPLOYMENT_NAME'];
const AWS = { AWS_ACCESS_KEY_ID: 'AKIASIMULATED0000000', AWS_SECRET_ACCESS_KEY: 'simulated-secret-access-key', AWS_EC2_METADATA_DISABLED: 'true' };
const saved = Object.fromEntries([...ANCHOR_SETTINGS, 'DATA_DIR', 'DATABASE_URL', 'MASTER_KEY', ...Object.keys(AWS)].map((k) => [k, process.env[k]]));

let s3: SimulatedS3;
beforeAll(async () => {
  Object.assign(process.env, AWS);
  s3 = await startSimulatedS3({
    latencyMs: 1,
    buckets: [{ name: 'anchors-locked', objectLock: true }, { name: 'anchors-plain' }],
  });
});
afterAll(async () => {
  await s3.close();
  for (const [name, value] of Object.entries(saved)) if (value === undefined) delete process.env[name]; else process.env[name] = value;
  temp.cleanup();
});

let dirs = 0;
let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await flushAnchors();
  stopAnchorTimer();
  resetAnchorS3();
  s3.control({ failPuts: null, resetStats: true });
  for (const name of ANCHOR_SETTINGS) delete process.env[name];
  await closeKeyrings();
  await cleanup?.();
  cleanup = null;
});

async function freshDeployment(kind: DatabaseKind, settings: Record<string, string> = {}): Promise<void> {
  process.env.DATA_DIR = path.join(temp.dir, `data-${++dirs}`);
  Object.assign(process.env, settings);
  cleanup = (await useDatabase(kind)).cleanup;
}

const toS3 = (bucket: string, deployment = 'test-deploy') => ({
  AUDIT_ANCHOR_S3_BUCKET: bucket,
  AUDIT_ANCHOR_S3_ENDPOINT: s3.url,
  AUDIT_ANCHOR_S3_REGION: 'us-east-1',
  DEPLOYMENT_NAME: deployment,
});

async function appendSome(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await appendAudit({ actor: 'alice@example.com', action: 'reveal', target: `local:/prod/item-${i}`, outcome: 'success' });
}

async function anchorRows() {
  return (await (await appDb()).selectFrom('audit_anchors').selectAll().orderBy('seq').execute()).map((r) => ({ ...r, seq: Number(r.seq) }));
}

const DAY = 86_400_000;

describe.each(DATABASES)('audit anchors on %s', (kind) => {
  it('anchors every AUDIT_ANCHOR_EVERY entries: a row per anchor and an S3 object locked in COMPLIANCE for the retention', async () => {
    await freshDeployment(kind, { ...toS3('anchors-locked', `locked-${kind}`), AUDIT_ANCHOR_EVERY: '5', AUDIT_ANCHOR_RETENTION_DAYS: '30' });
    await appendSome(12);
    await flushAnchors();
    const entries = new Map((await listAudit(20)).map((e) => [e.seq, e]));
    const rows = await anchorRows();
    expect(rows.map((r) => [r.seq, r.hash, r.reason, r.deployment])).toEqual([
      [5, entries.get(5)!.hash, 'every', `locked-${kind}`],
      [10, entries.get(10)!.hash, 'every', `locked-${kind}`],
    ]);
    expect(rows[0]!.s3_url).toBe(`s3://anchors-locked/audit-anchors/locked-${kind}/00000000000000000005.json`);
    expect(Date.parse(rows[0]!.object_lock_until!)).toBeGreaterThan(Date.now() + 30 * DAY - 3_600_000);
    expect(rows[0]!.s3_error).toBeNull();

    // What S3 received: Object Lock headers (the bucket has it) with an integrity checksum, never overwriting.
    const puts = s3.stats().puts.sort((a, b) => a.key.localeCompare(b.key));
    expect(puts.map((p) => [p.key, p.status, p.lockMode, p.checksum, p.ifNoneMatch])).toEqual([
      [`audit-anchors/locked-${kind}/00000000000000000005.json`, 200, 'COMPLIANCE', true, '*'],
      [`audit-anchors/locked-${kind}/00000000000000000010.json`, 200, 'COMPLIANCE', true, '*'],
    ]);
    expect(Math.abs(Date.parse(puts[0]!.retainUntil!) - (Date.now() + 30 * DAY))).toBeLessThan(3_600_000);
    expect(s3.stats().lockConfigReads).toBe(1); // asked once, not per anchor
    const [version] = s3.versions('anchors-locked', `audit-anchors/locked-${kind}/00000000000000000010.json`);
    expect(JSON.parse(version!.body.toString('utf8'))).toEqual({
      format: 'secrets-dashboard/audit-anchor',
      version: 1,
      deployment: `locked-${kind}`,
      seq: 10,
      hash: entries.get(10)!.hash,
      at: entries.get(10)!.at,
      anchoredAt: rows[1]!.anchored_at,
    });
    expect(await lastAnchor()).toMatchObject({ seq: 10, s3Url: rows[1]!.s3_url, s3Error: null });

    // The lock holds: the version cannot be deleted; a plain delete only hides it behind a marker.
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.url, forcePathStyle: true });
    const key = `audit-anchors/locked-${kind}/00000000000000000010.json`;
    await expect(client.send(new DeleteObjectCommand({ Bucket: 'anchors-locked', Key: key, VersionId: version!.versionId }))).rejects.toMatchObject({ name: 'AccessDenied' });
    await client.send(new DeleteObjectCommand({ Bucket: 'anchors-locked', Key: key }));
    expect(s3.versions('anchors-locked', key).filter((v) => !v.deleteMarker)).toHaveLength(1);
    client.destroy();
  });

  it('writes plain objects (no Object Lock headers) to a bucket without Object Lock, and the row says so', async () => {
    await freshDeployment(kind, { ...toS3('anchors-plain', `plain-${kind}`), AUDIT_ANCHOR_EVERY: '3' });
    await appendSome(3);
    await flushAnchors();
    expect(s3.stats().puts.map((p) => [p.key, p.status, p.lockMode, p.retainUntil])).toEqual([[`audit-anchors/plain-${kind}/00000000000000000003.json`, 200, null, null]]);
    expect(await anchorRows()).toMatchObject([{ seq: 3, s3_url: `s3://anchors-plain/audit-anchors/plain-${kind}/00000000000000000003.json`, object_lock_until: null }]);
  });

  it('the timer anchors the head only when it moved, and one anchor per head however many replicas try', async () => {
    await freshDeployment(kind, { AUDIT_ANCHOR_EVERY: '1000' });
    expect(await anchorIfHeadMoved()).toBeNull(); // nothing logged yet
    await appendSome(3);
    expect(await anchorIfHeadMoved()).toMatchObject({ seq: 3, reason: 'interval', s3Url: null });
    expect(await anchorIfHeadMoved()).toBeNull();
    await appendSome(1);
    const [head] = await listAudit(1);
    const both = await Promise.all([recordAnchor({ seq: 4, hash: head!.hash, at: head!.at }, 'interval'), recordAnchor({ seq: 4, hash: head!.hash, at: head!.at }, 'interval')]);
    expect(both.filter((r) => r !== null)).toHaveLength(1);
    expect((await anchorRows()).map((r) => r.seq)).toEqual([3, 4]);
  });
});

describe('anchors never fail or slow an append', () => {
  it('an append that anchors returns before the S3 write, and a failing S3 is logged on the row, not thrown', async () => {
    await freshDeployment('sqlite', { ...toS3('anchors-plain', 'never-slow'), AUDIT_ANCHOR_EVERY: '2' });
    await appendSome(1);
    s3.control({ failPuts: 'AccessDenied' });
    const slow = await startSimulatedS3({ latencyMs: 1500, buckets: [{ name: 'anchors-slow' }] });
    try {
      process.env.AUDIT_ANCHOR_S3_ENDPOINT = slow.url;
      process.env.AUDIT_ANCHOR_S3_BUCKET = 'anchors-slow';
      const started = Date.now();
      await appendSome(1); // entry #2: anchors, against an S3 that takes 1.5 s per call
      expect(Date.now() - started).toBeLessThan(1000);
      await flushAnchors();
      expect(slow.stats().puts).toHaveLength(1);

      process.env.AUDIT_ANCHOR_S3_ENDPOINT = s3.url;
      process.env.AUDIT_ANCHOR_S3_BUCKET = 'anchors-plain';
      await appendSome(2); // entry #4: S3 refuses
      await flushAnchors();
      const rows = await anchorRows();
      expect(rows.map((r) => r.seq)).toEqual([2, 4]);
      expect(rows[1]!.s3_url).toBeNull();
      expect(rows[1]!.s3_error).toMatch(/Cannot write the anchor object to s3:\/\/anchors-plain .*access denied: the dashboard's AWS identity needs s3:PutObject/);
      expect((await listAudit(10)).length).toBe(4);
    } finally {
      await slow.close();
    }
  });

  it('the server timer anchors on its own every AUDIT_ANCHOR_INTERVAL_MINUTES', async () => {
    await freshDeployment('sqlite', { AUDIT_ANCHOR_INTERVAL_MINUTES: '0.05' });
    await appendSome(2);
    // The interval is the timer's own (3 s): faked, so the test waits for none of it. Only
    // setInterval is faked; the database and the rest of the process keep real time.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      startAnchorTimer();
      await vi.advanceTimersByTimeAsync(2_999);
      await flushAnchors();
      expect(await lastAnchor()).toBeNull(); // not before the interval
      await vi.advanceTimersByTimeAsync(1);
      await flushAnchors();
      expect(await lastAnchor()).toMatchObject({ seq: 2, reason: 'interval' });
    } finally {
      stopAnchorTimer();
      vi.useRealTimers();
    }
  });
});

describe('the anchor in the server log', () => {
  it('is one JSON line naming the deployment, seq and hash (never a value or key)', async () => {
    const dataDir = path.join(temp.dir, `data-${++dirs}`);
    const child = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'tests/audit/support/append-entries.ts'], {
      cwd: process.cwd(),
      env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, COUNT: '4', WRITER: 'log', AUDIT_ANCHOR_EVERY: '2', DEPLOYMENT_NAME: 'log-test', LOG_LEVEL: 'info' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('ready') && !child.stdin.writableEnded) child.stdin.end('go\n');
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // 'close', not 'exit': at 'exit' the pipes may still hold the child's last lines (its second anchor).
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const anchors = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; auditAnchor?: { deployment: string; seq: number; hash: string; at: string } })
      .filter((l) => l.msg === 'audit chain anchor');
    expect(anchors.map((a) => [a.auditAnchor!.deployment, a.auditAnchor!.seq])).toEqual([
      ['log-test', 2],
      ['log-test', 4],
    ]);
    expect(anchors[0]!.auditAnchor!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(anchors[0]!.auditAnchor!).sort()).toEqual(['at', 'deployment', 'hash', 'seq']);
  }, 30_000);
});

describe('an anchor S3 already holds for another hash', () => {
  it('is not replaced, and the row says the log was rewritten or restored since', async () => {
    await freshDeployment('sqlite', { ...toS3('anchors-plain', 'diverged'), AUDIT_ANCHOR_EVERY: '2' });
    const earlier = { format: 'secrets-dashboard/audit-anchor', version: 1, deployment: 'diverged', seq: 2, hash: 'ab'.repeat(32), at: '2026-01-01T00:00:00.000Z', anchoredAt: '2026-01-01T00:00:01.000Z' };
    const key = 'audit-anchors/diverged/00000000000000000002.json';
    s3.put({ bucket: 'anchors-plain', key, body: Buffer.from(JSON.stringify(earlier)) });
    await appendSome(2);
    await flushAnchors();
    expect((await anchorRows())[0]!.s3_error).toMatch(/s3:\/\/anchors-plain\/audit-anchors\/diverged\/00000000000000000002\.json already records entry #2 with another hash \(abababababab…/);
    expect(JSON.parse(s3.versions('anchors-plain', key)[0]!.body.toString('utf8'))).toEqual(earlier);
  });
});
