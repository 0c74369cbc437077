import { randomUUID } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventIndex } from '@/lib/cloudtrail/event-index';
import { FULL_SCOPE } from '@/lib/cloudtrail/event-scope';
import { CloudTrailSync, type EventSink, type SourceRunContext } from '@/lib/cloudtrail/sync';
import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { parseVaultAuditLine } from '@/lib/cloudtrail/vault-audit-record';
import { parseVaultFileCursor, VaultFileSource } from '@/lib/cloudtrail/vault-file-source';
import { realClock } from '@/lib/inventory/rate-limiter';
import type { SimulatedVault } from '@/simulator/vault/simulated-vault';
import { makeTempDir } from '../support/temp-dir';
import { vaultHttp } from '../vault-sim/vault-http';
import { driveRequests, ROOT_TOKEN, sourceConfig, startAuditedVault, STORES } from './support';

// Reading Vault's audit file incrementally: by file identity and offset, so appended lines are read
// once, a rotated file is read on to its end once and never again, a truncated or replaced file is
// read from its start, a copytruncate copy goes on where the original was, and a partial last line
// waits for the next run. "Never twice" is what the index is handed: every event id exactly as
// often as the lines written hold it. A missing file is named on the source's status; the rest goes on.

const temp = makeTempDir('vault-audit-source-');
let sim: SimulatedVault;
/** A response line of a read of secret/data/app/db, as the simulator's device wrote it. */
let template: Record<string, any>;
let index: EventIndex;
let handed: string[];

/** The index, counting every event id it is handed. */
function countingSink(): EventSink {
  return new Proxy(index, {
    get(target, key, receiver) {
      if (key === 'ingest')
        return (...args: Parameters<EventIndex['ingest']>) => {
          handed.push(...args[3].map((r: CloudTrailRecord) => r.eventID!));
          return target.ingest(...args);
        };
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as EventSink;
}

const context = (): SourceRunContext => ({ sink: countingSink(), stores: STORES, stopped: () => false, clock: realClock, now: Date.now });

/** `n` audit lines (each a distinct call: one event), and their event ids. */
function auditLines(n: number): { text: string; ids: string[] } {
  const ids: string[] = [];
  let text = '';
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    ids.push(`vault-vault-kv-${id}`);
    text += `${JSON.stringify({ ...template, time: new Date().toISOString(), request: { ...template.request, id } })}\n`;
  }
  return { text, ids };
}

beforeAll(async () => {
  sim = await startAuditedVault(join(temp.dir, 'sim'));
  await driveRequests(sim);
  const lines = readFileSync(join(temp.dir, 'sim', 'vault_audit.log'), 'utf8').split('\n').filter(Boolean).map((l) => parseVaultAuditLine(l) as Record<string, any>);
  template = lines.find((l) => l.type === 'response' && l.request.path === 'secret/data/app/db' && l.request.operation === 'read' && !l.error)!;
});
afterAll(async () => {
  await sim.close();
  temp.cleanup();
});

let dir: string;
beforeEach(async () => {
  dir = join(temp.dir, randomUUID());
  mkdirSync(dir, { recursive: true });
  index = await EventIndex.open(join(dir, 'index'), { retentionDays: 3650 });
  handed = [];
});
afterEach(() => index.close());

describe('the Vault audit file source', () => {
  it('reads appended lines once; a partial last line waits for its newline', async () => {
    const file = join(dir, 'vault_audit.log');
    const first = auditLines(3);
    const partial = auditLines(1);
    writeFileSync(file, first.text + partial.text.slice(0, 40));
    const source = new VaultFileSource(sourceConfig(file));
    expect((await source.run(context())).error).toBeNull();
    expect(handed).toEqual(first.ids);

    const more = auditLines(2);
    appendFileSync(file, partial.text.slice(40) + more.text);
    await source.run(context());
    await source.run(context());
    expect(handed).toEqual([...first.ids, ...partial.ids, ...more.ids]);
    expect((await index.counts()).events).toBe(6);
    const state = (await index.sourceState(source.id))!;
    expect(state).toMatchObject({ kind: 'vault-file', region: 'vault-kv', lastError: null, eventsIndexed: 6 });
    expect(parseVaultFileCursor(state.cursor).files).toEqual([expect.objectContaining({ name: 'vault_audit.log', offset: statSync(file).size })]);
  });

  it('reads a line longer than a read chunk (a LIST of many keys) whole', async () => {
    const file = join(dir, 'vault_audit.log');
    const id = randomUUID();
    const long = { ...template, request: { ...template.request, id }, response: { data: { keys: Array.from({ length: 30_000 }, (_, i) => `hmac-sha256:${String(i).padStart(64, '0')}`) } } };
    const after = auditLines(1);
    writeFileSync(file, `${JSON.stringify(long)}\n${after.text}`);
    expect(statSync(file).size).toBeGreaterThan(2 * 1024 * 1024);
    await new VaultFileSource(sourceConfig(file)).run(context());
    expect(handed).toEqual([`vault-vault-kv-${id}`, ...after.ids]);
  });

  it('reads the simulator’s rotated file on to its end once, then the new file, and never again', async () => {
    const file = join(temp.dir, 'sim', 'vault_audit.log');
    const source = new VaultFileSource(sourceConfig(file, 'vault-kv', 'rotation'));
    await source.run(context());
    const before = handed.length;
    expect(before).toBeGreaterThan(5);
    const root = vaultHttp(sim.url, { token: ROOT_TOKEN });
    await root.get('secret/data/app/db');
    const rotated = sim.control({ rotateAudit: true }).rotated!;
    await root.get('secret/metadata/app/db');
    await root.post('secret/data/app/db', { data: { password: 'x' } });
    await source.run(context());
    await source.run(context());
    const names = (await index.queries.timeline({}, FULL_SCOPE, { limit: 500 })).entries.slice(0, 3).map((e) => e.eventName);
    expect(names).toEqual(['UpdateSecret', 'ReadSecretMetadata', 'ReadSecretVersion']);
    expect(handed).toHaveLength(before + 3);
    // Every id handed once, but for the denied call's request and response lines (one event, stored once).
    expect(handed.length - new Set(handed).size).toBe(1);
    const cursor = parseVaultFileCursor((await index.sourceState(source.id))!.cursor);
    expect(cursor.files.map((f) => f.name).sort()).toEqual([rotated.split('/').at(-1)!, 'vault_audit.log'].sort());
  });

  it('a truncated file, or one replaced by a longer one, is read from its start', async () => {
    const file = join(dir, 'vault_audit.log');
    const first = auditLines(4);
    writeFileSync(file, first.text);
    const source = new VaultFileSource(sourceConfig(file));
    await source.run(context());
    truncateSync(file, 0);
    const after = auditLines(1);
    appendFileSync(file, after.text);
    await source.run(context());
    expect(handed).toEqual([...first.ids, ...after.ids]);

    // Replaced in place by more than was read: its first bytes tell.
    const replaced = auditLines(6);
    writeFileSync(file, replaced.text);
    await source.run(context());
    expect(handed).toEqual([...first.ids, ...after.ids, ...replaced.ids]);
  });

  it('logrotate’s copytruncate: the copy goes on from the original’s offset, the emptied original from its start', async () => {
    const file = join(dir, 'vault_audit.log');
    const first = auditLines(3);
    writeFileSync(file, first.text);
    const source = new VaultFileSource(sourceConfig(file));
    await source.run(context());
    const late = auditLines(2);
    appendFileSync(file, late.text);
    copyFileSync(file, `${file}.1`);
    truncateSync(file, 0);
    const fresh = auditLines(1);
    appendFileSync(file, fresh.text);
    await source.run(context());
    await source.run(context());
    expect(handed.slice(0, 3)).toEqual(first.ids);
    expect(handed.slice(3).sort()).toEqual([...late.ids, ...fresh.ids].sort());
  });

  it('renamed rotation in a folder source: the rotated file read to its end once, the new one from its start', async () => {
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const file = join(logs, 'audit.log');
    const first = auditLines(2);
    writeFileSync(file, first.text);
    const source = new VaultFileSource(sourceConfig(logs));
    await source.run(context());
    const tail = auditLines(2);
    appendFileSync(file, tail.text);
    renameSync(file, `${file}.1`);
    const next = auditLines(1);
    writeFileSync(file, next.text);
    await source.run(context());
    await source.run(context());
    expect(handed).toEqual([...first.ids, ...tail.ids, ...next.ids]);
    // Compressed rotated files are passed over (their lines were read from the plain file).
    writeFileSync(`${file}.2.gz`, 'not read');
    await source.run(context());
    expect(handed).toHaveLength(5);
  });

  it('a missing file or an unreachable folder is named on the source’s status; the other sources go on, and it recovers', async () => {
    const missing = join(dir, 'not-yet', 'vault_audit.log');
    const present = join(dir, 'vault_audit.log');
    const lines = auditLines(2);
    writeFileSync(present, lines.text);
    writeFileSync(join(dir, 'a-file'), '');
    const sources = [
      new VaultFileSource(sourceConfig(missing, 'vault-kv', 'missing')),
      new VaultFileSource(sourceConfig(join(dir, 'a-file', 'audit.log'), 'vault-kv', 'unreachable')),
      new VaultFileSource(sourceConfig(present, 'vault-kv', 'present')),
    ];
    const sync = new CloudTrailSync(countingSink(), sources, { intervalMs: 60_000, stores: STORES });
    const results = await sync.runOnce();
    expect(results.get('missing')!.error).toMatch(/Vault audit folder .*not-yet does not exist/);
    expect(results.get('unreachable')!.error).toMatch(/a-file.* a part of its path is a file, not a folder/);
    expect(results.get('present')!.error).toBeNull();
    expect(handed).toEqual(lines.ids);
    expect((await index.sourceState('missing'))!.lastError!.message).toMatch(/does not exist/);
    expect((await index.sourceState('present'))!.lastError).toBeNull();

    mkdirSync(join(dir, 'not-yet'));
    const later = auditLines(1);
    writeFileSync(missing, later.text);
    await sync.runOnce();
    expect((await index.sourceState('missing'))!.lastError).toBeNull();
    expect(handed).toEqual([...lines.ids, ...later.ids]);
    await sync.stop();
  });
});
