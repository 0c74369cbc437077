import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import { createSilence, liftSilence, listSilences, sendTestAlert } from '@/lib/alerts/admin';
import { resetAlertsConfig } from '@/lib/alerts/alerts-config';
import { alertsDb, closeAlertsDb, recordConditions, recordEventConditions, startAlertDelivery } from '@/lib/alerts/alerts';
import { listAudit } from '@/lib/audit/audit-log';
import { AuthorizationError } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import { ConflictError } from '@/lib/conflict-error';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { RequestError } from '@/lib/request-error';
import { DATABASES, useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { startReceiver, subject } from './support/alerts-fixture';

// Silences and "Send test", as the /alerts page will call them: admins only (an operator is
// refused, and the refusal audited), every input validated (a reason, an expiry in the future and
// at most 90 days ahead, a rule and/or an item that exist), each change in the audit chain. A
// silence in force keeps its alerts from being sent; lifted, it lists as lifted, and twice is a
// conflict. A test message goes out through the configured webhook channel, delivered by the
// replica holding the alerts-delivery lease. On SQLite and PostgreSQL.

const DAY = 86_400_000;
const admin: Principal = { via: 'session', userId: 'u-admin', email: 'admin@example.com', name: null, role: 'admin', grants: [{ role: 'admin', stores: null, paths: ['/**'] }] };
const operator: Principal = { via: 'session', userId: 'u-op', email: 'operator@example.com', name: null, role: 'operator', grants: [{ role: 'operator', stores: null, paths: ['/**'] }] };
const SECRET = 'webhook-secret-for-the-silence-tests-0123456789';

describe.each(DATABASES)('alert silences and test sends (%s)', (database) => {
  const temp = makeTempDir('alerts-silences-');
  const saved = Object.fromEntries(['DATA_DIR', 'CONFIG_FILE', 'HOOK_URL', 'HOOK_SECRET'].map((k) => [k, process.env[k]]));
  let cleanupDb: () => Promise<void>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();
  const valid = (over: Record<string, unknown> = {}) => ({ ruleId: 'prod-overdue', reason: 'Rotation planned for Monday with the payments team.', expiresAt: inDays(7), ...over });
  const auditOf = async (action: string) => (await listAudit(1000)).filter((e) => e.action === action);
  const silenceCount = async () => (await (await alertsDb()).silences(1000)).length;

  beforeAll(async () => {
    receiver = await startReceiver();
    process.env.DATA_DIR = path.join(temp.dir, 'data');
    process.env.HOOK_URL = `${receiver.url}/hook`;
    process.env.HOOK_SECRET = SECRET;
    const config = path.join(temp.dir, 'config.yaml');
    writeFileSync(
      config,
      `stores:
  - { id: prod, kind: local }
alerts:
  channels:
    - { id: hook, kind: webhook, urlEnv: HOOK_URL, secretEnv: HOOK_SECRET }
  rules:
    - { id: prod-overdue, events: [overdue], channel: hook }
`,
    );
    process.env.CONFIG_FILE = config;
    resetAlertsConfig();
    cleanupDb = (await useDatabase(database)).cleanup;
  });

  afterAll(async () => {
    await closeAlertsDb();
    await closeKeyrings();
    await cleanupDb?.();
    await receiver.close();
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    resetAlertsConfig();
    temp.cleanup();
  });

  it('refuses an operator, auditing the refusal, with nothing written', async () => {
    const deniedBefore = (await listAudit(1000)).filter((e) => e.outcome === 'denied').length;
    await expect(createSilence(operator, valid())).rejects.toMatchObject({ status: 403 });
    await expect(createSilence(operator, valid())).rejects.toBeInstanceOf(AuthorizationError);
    await expect(liftSilence(operator, { id: 1 })).rejects.toMatchObject({ status: 403 });
    await expect(listSilences(operator)).rejects.toMatchObject({ status: 403 });
    await expect(sendTestAlert(operator, { channelId: 'hook' })).rejects.toMatchObject({ status: 403 });
    await expect(createSilence(null, valid())).rejects.toMatchObject({ status: 401 });
    expect(await silenceCount()).toBe(0);
    expect((await listAudit(1000)).filter((e) => e.outcome === 'denied').length - deniedBefore).toBe(6);
    expect(await auditOf('alert.silence')).toEqual([]);
  });

  const BAD: [string, unknown, RegExp][] = [
    ['no reason', (({ reason: _r, ...rest }) => rest)(valid()), /a reason is required/],
    ['a reason of two characters', valid({ reason: ' ok ' }), /at least 3 characters/],
    ['an expiry in the past', valid({ expiresAt: inDays(-1) }), /expiresAt must lie in the future/],
    ['an expiry 91 days ahead', valid({ expiresAt: inDays(91) }), /at most 90 days ahead/],
    ['an expiry that is not a date', valid({ expiresAt: 'soon' }), /expiresAt must be a date/],
    ['neither a rule nor an item', { reason: 'quiet please', expiresAt: inDays(1) }, /silence a rule \(ruleId\), an item \(storeId and itemName\), or both/],
    ['a store without an item', valid({ storeId: 'prod' }), /storeId and itemName together/],
    ['an item name without its slash', valid({ storeId: 'prod', itemName: 'prod/db' }), /itemName/],
    ['a rule that is not configured', valid({ ruleId: 'nope' }), /no alert rule "nope" is configured/],
    ['a store that is not configured', valid({ storeId: 'staging', itemName: '/prod/db' }), /no store "staging" is configured/],
    ['an unknown field', valid({ channel: 'hook' }), /unknown key "channel"/],
    ['not an object', 'silence everything', /./],
  ];

  it.each(BAD)('answers %s with a 400 naming it, nothing written', async (_name, input, message) => {
    const before = [await silenceCount(), (await auditOf('alert.silence')).length];
    const error = await createSilence(admin, input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect(error).toMatchObject({ status: 400, message: expect.stringMatching(message) });
    expect([await silenceCount(), (await auditOf('alert.silence')).length]).toEqual(before);
  });

  it('silences an item (audited), keeps its alert from being sent, lists it active, lifts it once (audited)', async () => {
    const silence = await createSilence(admin, { storeId: 'prod', itemName: '/prod/app/b', reason: 'Rotation planned for Monday.', expiresAt: inDays(3) });
    expect(silence).toMatchObject({ ruleId: null, storeId: 'prod', itemName: '/prod/app/b', createdBy: 'admin@example.com', state: 'active', liftedAt: null });
    const [entry] = await auditOf('alert.silence');
    expect(entry).toMatchObject({ actor: 'admin@example.com', target: 'prod:/prod/app/b', outcome: 'success' });
    expect(entry!.details).toMatchObject({ silence: silence.id, reason: 'Rotation planned for Monday.' });

    const counts = await recordConditions({ rule: 'prod-overdue', event: 'overdue', subjects: [subject('/prod/app/a'), subject('/prod/app/b')] });
    expect(counts).toMatchObject({ opened: 2, silenced: 1, queued: 1 });

    expect((await listSilences(admin)).map((s) => [s.id, s.state])).toEqual([[silence.id, 'active']]);
    // Past its expiry it lists as expired.
    expect((await listSilences(admin, new Date(Date.now() + 4 * DAY)))[0]!.state).toBe('expired');

    const lifted = await liftSilence(admin, { id: silence.id });
    expect(lifted).toMatchObject({ state: 'lifted', liftedBy: 'admin@example.com' });
    expect(await auditOf('alert.lift-silence')).toEqual([expect.objectContaining({ actor: 'admin@example.com', target: 'prod:/prod/app/b' })]);
    await expect(liftSilence(admin, { id: silence.id })).rejects.toBeInstanceOf(ConflictError);
    await expect(liftSilence(admin, { id: 999_999 })).rejects.toMatchObject({ status: 404 });
    await expect(liftSilence(admin, { id: 'one' })).rejects.toMatchObject({ status: 400 });
    expect(await auditOf('alert.lift-silence')).toHaveLength(1);

    // Lifted while b still holds: its trigger goes out now (recorded as a condition does, for every rule listening).
    const byRule = await recordEventConditions('overdue', [subject('/prod/app/a'), subject('/prod/app/b')]);
    expect([...byRule.entries()]).toEqual([['prod-overdue', expect.objectContaining({ queued: 1, unchanged: 2 })]]);
    expect((await recordEventConditions('due-soon', [subject('/prod/app/a')])).size).toBe(0);
    await expect(recordConditions({ rule: 'nope', event: 'overdue', subjects: [] })).rejects.toThrow(/no alert rule "nope"/);
  });

  it('sends a test message through the configured webhook channel (audited), delivered by the lease holder', async () => {
    await expect(sendTestAlert(admin, { channelId: 'nope' })).rejects.toMatchObject({ status: 404 });
    await expect(sendTestAlert(admin, { channelId: 'Not An Id' })).rejects.toMatchObject({ status: 400 });
    const id = await sendTestAlert(admin, { channelId: 'hook' });
    expect(await auditOf('alert.send-test')).toEqual([expect.objectContaining({ actor: 'admin@example.com', target: 'channel:hook', outcome: 'success' })]);
    const db = await alertsDb();
    expect(await db.delivery(id)).toMatchObject({ action: 'test', channelId: 'hook', status: 'pending' });

    await startAlertDelivery({ pollMs: 50 });
    await vi.waitFor(async () => expect((await db.delivery(id))?.status).toBe('delivered'), { timeout: 10_000, interval: 100 });
    const test = receiver.received.find((r) => r.message.action === 'test')!;
    expect(test).toMatchObject({ channel: 'hook', status: 200 });
    expect(test.message.title).toBe('Test message for channel hook');
    expect(test.message.summary).toContain('admin@example.com');
    // The queued triggers went out too, each once; the signing secret never travels.
    await vi.waitFor(async () => expect((await db.deliveries({ limit: 100 })).every((d) => d.status === 'delivered')).toBe(true), { timeout: 10_000, interval: 100 });
    expect([...receiver.delivered().values()].every((n) => n === 1)).toBe(true);
    expect(JSON.stringify(receiver.received)).not.toContain(SECRET);
  });
});
