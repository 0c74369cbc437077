import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// The logger reads LOG_LEVEL when first imported, before the harness sets it.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

// Pages read the session through next/headers; the mock hands them the caller's cookie.
vi.mock('next/headers', () => import('../support/next-headers-mock'));
// The forms ask for the router, which only a running app mounts.
vi.mock('next/navigation', async (original) => ({ ...(await original<object>()), useRouter: () => ({ refresh: () => undefined, push: () => undefined }) }));

import AlertsPage from '@/app/(dashboard)/alerts/page';
import DashboardLayout from '@/app/(dashboard)/layout';
import { liftAlertSilence } from '@/lib/actions/lift-alert-silence';
import { sendTestAlert } from '@/lib/actions/send-test-alert';
import { silenceAlert } from '@/lib/actions/silence-alert';
import { alertsDb, recordConditions } from '@/lib/alerts/alerts';
import { listAudit } from '@/lib/audit/audit-log';
import { DATABASES } from '../support/databases';
import { sessionJar } from '../support/next-headers-mock';
import {
  DEAD_CAUSE,
  HOOK_SECRET,
  HOOK_URL,
  INSIDE,
  INSIDE_DEAD,
  INSIDE_RESOLVED,
  INSIDE_SILENCED,
  RULE_SILENCE_REASON,
  SCOPE,
  SENTINEL_OUTSIDE,
  startAlertsHarness,
  type AlertsHarness,
  type Subject,
} from './harness';

// /alerts rendered on the server as Next.js would, and its three server actions called as the
// browser would, per caller: an admin sees the rules (channel ids and kinds, never the webhook's
// URL or secret), every alert, silence and delivery; an auditor held to /prod/payments/** sees only
// alerts, silences and deliveries about items inside it (no store-level or audit-chain alert, no
// rule silence, no digest or test, no rules) and the sentinel outside their grant nowhere; viewers
// and operators get a 404 page, and they, the auditor and an admin held to some paths are refused
// every action with a 403, nothing written and nothing but the refusal audited; bad input is a 400
// naming the field. On SQLite and PostgreSQL.

const DAY = 86_400_000;
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY).toISOString().slice(0, 10);
const render = async (page: Promise<React.ReactNode>) => renderToStaticMarkup(await page);
const alerts = (query: Record<string, string | string[]> = {}) => render(AlertsPage({ searchParams: Promise.resolve(query) }));
const isNotFound = (error: unknown) => String((error as { digest?: string }).digest ?? '').includes('404');
/** data-item of every row of a kind ("alert-row", "alert-delivery-row", "alert-silence-row"). */
const rowsOf = (html: string, testId: string) => [...html.matchAll(new RegExp(`data-testid="${testId}"[^>]*?data-item="([^"]*)"`, 'g'))].map((m) => m[1]!);
const rowTag = (html: string, testId: string, itemName: string) => html.match(new RegExp(`<tr data-testid="${testId}"[^>]*data-item="${itemName}"[^>]*>[\\s\\S]*?</tr>`))?.[0] ?? '';

describe.each(DATABASES)('/alerts and its actions (%s)', (database) => {
  let h: AlertsHarness;
  beforeAll(async () => {
    h = await startAlertsHarness(database);
  });
  afterAll(async () => {
    await h?.cleanup();
  });
  beforeEach(() => {
    sessionJar.cookie = null;
  });
  const as = (subject: Subject) => {
    sessionJar.cookie = h.cookies[subject];
  };
  const silenceCount = async () => (await (await alertsDb()).silences(1000)).length;
  const testDeliveries = async () => (await (await alertsDb()).deliveries({ limit: 1000 })).filter((d) => d.action === 'test').length;
  const successes = async () => (await listAudit(1000)).filter((e) => e.action.startsWith('alert.') && e.outcome === 'success').length;
  const validSilence = (over: Record<string, string> = {}) => ({ ruleId: '', storeId: 'local', itemName: INSIDE, reason: 'Rotation booked for Monday.', expiresAt: day(7), ...over });

  describe('the page', () => {
    it('shows an admin the rules and channels (ids and kinds only), every alert, silence and delivery', async () => {
      as('admin');
      const html = await alerts();
      expect(html).toMatch(/data-testid="alert-rule-row" data-rule="prod-overdue"/);
      expect(html).toMatch(/data-testid="alert-rule-row" data-rule="ops"/);
      expect(html).toContain('hook · webhook');
      expect(html).toContain('Overdue secrets, straight to the webhook');
      expect(html).toMatch(/data-testid="alert-channel" data-channel="hook"/);
      expect(html).toContain('Send test');
      // Open: the four overdue ones (one silenced), the store's failing sync and the broken chain; resolved: one.
      expect(rowsOf(html, 'alert-row').sort()).toEqual([INSIDE, INSIDE_DEAD, INSIDE_SILENCED, SENTINEL_OUTSIDE, 'audit chain', 'local', INSIDE_RESOLVED].sort());
      expect(rowTag(html, 'alert-row', INSIDE_SILENCED)).toContain('data-silenced="true"');
      expect(rowTag(html, 'alert-row', INSIDE)).toContain('data-silenced="false"');
      expect(rowTag(html, 'alert-row', INSIDE)).toContain(`href="/items/local${INSIDE}"`);
      expect(html).toMatch(/data-event="sync-failing"/);
      expect(html).toMatch(/data-event="audit-chain"/);
      // The log: delivered, dead with its cause, each linking to its item.
      expect(rowTag(html, 'alert-delivery-row', INSIDE)).toContain('data-status="delivered"');
      const dead = rowTag(html, 'alert-delivery-row', INSIDE_DEAD);
      expect(dead).toContain('data-status="dead"');
      expect(dead).toContain(DEAD_CAUSE);
      expect(dead).toContain(`href="/items/local${INSIDE_DEAD}"`);
      expect(rowsOf(html, 'alert-delivery-row')).toContain(SENTINEL_OUTSIDE);
      expect(rowsOf(html, 'alert-delivery-row')).not.toContain(INSIDE_SILENCED);
      // Silences: the items' and the rule's.
      expect(rowsOf(html, 'alert-silence-row').sort()).toEqual(['', INSIDE_SILENCED, SENTINEL_OUTSIDE].sort());
      expect(html).toContain(RULE_SILENCE_REASON);
      expect(html).toContain('data-testid="alert-silence"');
      // Never the channel's URL or secret.
      expect(html).not.toContain(HOOK_URL);
      expect(html).not.toContain('zz-hook-url-token');
      expect(html).not.toContain(HOOK_SECRET);
      expect(html).not.toContain('ALERTS_UI_HOOK');
    });

    it('shows a path-limited auditor only alerts, silences and deliveries on items inside their grant', async () => {
      as('auditor');
      const html = await alerts();
      const items = rowsOf(html, 'alert-row');
      expect(items.sort()).toEqual([INSIDE, INSIDE_DEAD, INSIDE_SILENCED, INSIDE_RESOLVED].sort());
      expect(items.every((name) => name.startsWith(SCOPE))).toBe(true);
      expect(rowsOf(html, 'alert-delivery-row').every((name) => name.startsWith(SCOPE))).toBe(true);
      expect(rowTag(html, 'alert-delivery-row', INSIDE_DEAD)).toContain(DEAD_CAUSE);
      expect(rowsOf(html, 'alert-silence-row')).toEqual([INSIDE_SILENCED]);
      // No store-level or audit-chain alert, no rule silence, no rules, no admin controls.
      expect(html).not.toMatch(/data-event="(sync-failing|audit-chain)"/);
      expect(html).not.toContain('data-action="test"');
      expect(html).not.toContain(RULE_SILENCE_REASON);
      expect(html).not.toContain('alert-rule-row');
      expect(html).not.toContain('Send test');
      expect(html).not.toContain('data-testid="alert-silence"');
      expect(html).not.toContain('zz-alert-sentinel');
      expect(html).not.toContain('/prod/web/');
    });

    it('is a 404 page for a viewer and an operator', async () => {
      for (const subject of ['viewer', 'operator'] as const) {
        as(subject);
        await expect(alerts()).rejects.toSatisfy(isNotFound);
      }
    });

    it('names a bad filter instead of failing, and cuts to a rule', async () => {
      as('admin');
      for (const [query, message] of [
        [{ delivery: 'lost' }, 'delivery must be one of pending, sending, delivered, failed, dead'],
        [{ colour: 'red' }, 'unknown parameter &quot;colour&quot;'],
        [{ rule: 'Not An Id' }, 'rule must be a rule id'],
        [{ rule: ['ops', 'prod-overdue'] }, 'rule is given more than once'],
        [{ rule: 'nope' }, 'no alert rule &quot;nope&quot; is configured'],
        [{ channel: 'nope' }, 'no alert channel &quot;nope&quot; is configured'],
      ] as const) {
        const html = await alerts(query as Record<string, string | string[]>);
        expect(html).toContain('data-testid="alerts-filter-error"');
        expect(html).toContain(message);
      }
      const ops = await alerts({ rule: 'ops' });
      expect(ops).not.toContain('data-testid="alerts-filter-error"');
      expect(rowsOf(ops, 'alert-row').sort()).toEqual(['audit chain', 'local']);
      const dead = await alerts({ delivery: 'dead' });
      expect(rowsOf(dead, 'alert-delivery-row')).toEqual([INSIDE_DEAD]);
    });

    it('shows the nav link to auditors, not to viewers', async () => {
      as('auditor');
      expect(await render(DashboardLayout({ children: null }))).toContain('href="/alerts"');
      as('viewer');
      expect(await render(DashboardLayout({ children: null }))).not.toContain('href="/alerts"');
    });
  });

  describe('the actions', () => {
    it.each(['viewer', 'operator', 'auditor', 'scoped-admin'] as const)('refuses a %s every admin action (403), writing nothing but the audited refusal', async (subject) => {
      as('admin');
      const [liftable] = (await (await alertsDb()).silences(10)).filter((s) => s.liftedAt === null);
      as(subject);
      const before = { silences: await silenceCount(), tests: await testDeliveries(), successes: await successes() };
      const deniedBefore = (await listAudit(1000)).filter((e) => e.outcome === 'denied' && e.action === 'manage-alerts').length;
      const results = [
        await silenceAlert(validSilence()),
        await silenceAlert(validSilence({ itemName: SENTINEL_OUTSIDE })),
        await liftAlertSilence({ id: String(liftable!.id) }),
        await sendTestAlert({ channelId: 'hook' }),
      ];
      for (const result of results) expect(result).toMatchObject({ ok: false, status: 403 });
      expect(JSON.stringify(results)).not.toContain('zz-alert-sentinel');
      expect({ silences: await silenceCount(), tests: await testDeliveries(), successes: await successes() }).toEqual(before);
      expect((await (await alertsDb()).silence(liftable!.id))?.liftedAt).toBeNull();
      expect((await listAudit(1000)).filter((e) => e.outcome === 'denied' && e.action === 'manage-alerts').length - deniedBefore).toBe(4);
    });

    const BAD: [string, Record<string, unknown>, string][] = [
      ['no reason', validSilence({ reason: '' }), 'a reason is required'],
      ['an expiry in the past', validSilence({ expiresAt: day(-1) }), 'expiresAt must lie in the future'],
      ['an expiry 91 days ahead', validSilence({ expiresAt: day(92) }), 'expiresAt may be at most 90 days ahead'],
      ['an expiry that is not a date', validSilence({ expiresAt: 'soon' }), 'expiresAt must be a date'],
      ['neither a rule nor an item', validSilence({ storeId: '', itemName: '' }), 'silence a rule (ruleId), an item (storeId and itemName), or both'],
      ['an item without its store', validSilence({ storeId: '' }), 'storeId and itemName together'],
      ['an unknown field', { ...validSilence(), channel: 'hook' }, 'unknown key "channel"'],
      ['a rule that is not configured', validSilence({ ruleId: 'nope' }), 'ruleId: no alert rule "nope" is configured'],
    ];

    it.each(BAD)('answers an admin’s silence with %s with a 400 naming it, nothing written', async (_name, input, message) => {
      as('admin');
      const before = { silences: await silenceCount(), successes: await successes() };
      const result = await silenceAlert(input);
      expect(result).toMatchObject({ ok: false, status: 400 });
      expect(result.ok ? '' : result.error).toContain(message);
      expect({ silences: await silenceCount(), successes: await successes() }).toEqual(before);
    });

    it('answers a bad lift or test input with a 400 naming the field', async () => {
      as('admin');
      const before = { tests: await testDeliveries(), successes: await successes() };
      expect(await liftAlertSilence({ id: 'one' })).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('id must be a number') });
      expect(await sendTestAlert({ channelId: 'Not An Id' })).toMatchObject({ ok: false, status: 400, error: expect.stringContaining('channelId must be') });
      expect(await sendTestAlert({ channelId: 'nope' })).toMatchObject({ ok: false, status: 404 });
      expect({ tests: await testDeliveries(), successes: await successes() }).toEqual(before);
    });

    it('lets an admin silence an item from the form (audited), see it, lift it once (audited)', async () => {
      as('admin');
      const result = await silenceAlert(validSilence());
      expect(result).toMatchObject({ ok: true, data: { ruleId: null, target: { storeId: 'local', name: INSIDE, href: `/items/local${INSIDE}` }, state: 'active', createdBy: 'admin@example.com' } });
      const id = result.ok ? result.data.id : 0;
      const [entry] = (await listAudit(1000)).filter((e) => e.action === 'alert.silence' && e.actor === 'admin@example.com');
      expect(entry).toMatchObject({ target: `local:${INSIDE}`, outcome: 'success' });
      const adminView = await alerts();
      expect(rowsOf(adminView, 'alert-silence-row')).toContain(INSIDE);
      expect(rowTag(adminView, 'alert-silence-row', INSIDE)).toContain('>Lift</button>');
      // The auditor sees the silence on their item too, read-only.
      as('auditor');
      const auditorView = await alerts();
      expect(rowsOf(auditorView, 'alert-silence-row')).toContain(INSIDE);
      expect(rowTag(auditorView, 'alert-silence-row', INSIDE)).toContain('data-state="active"');
      expect(auditorView).not.toContain('>Lift</button>');

      as('admin');
      expect(await liftAlertSilence({ id: String(id) })).toMatchObject({ ok: true, data: { state: 'lifted', liftedBy: 'admin@example.com' } });
      expect(await liftAlertSilence({ id: String(id) })).toMatchObject({ ok: false, status: 409 });
      expect((await listAudit(1000)).filter((e) => e.action === 'alert.lift-silence' && e.actor === 'admin@example.com')).toHaveLength(1);
      expect(rowTag(await alerts(), 'alert-silence-row', INSIDE)).toContain('data-state="lifted"');
    });

    it('lets an admin send a test to a channel (audited); the queued test shows in the admin’s log only', async () => {
      as('admin');
      const result = await sendTestAlert({ channelId: 'hook' });
      expect(result).toMatchObject({ ok: true, data: { deliveryId: expect.any(Number) } });
      expect((await listAudit(1000)).filter((e) => e.action === 'alert.send-test' && e.actor === 'admin@example.com')).toEqual([
        expect.objectContaining({ target: 'channel:hook', outcome: 'success' }),
      ]);
      const html = await alerts();
      expect(html).toMatch(/data-status="pending" data-item="" data-action="test" data-channel="hook"/);
      expect(html).not.toContain(HOOK_URL);
      as('auditor');
      expect(await alerts()).not.toContain('data-action="test"');
    });
  });

  // Last: it adds thousands of alerts. A path-limited auditor's lists are cut in SQL, so their own
  // (older) alerts are not crowded out of the rows read by newer ones outside their grant.
  describe('thousands of newer alerts outside the grant', () => {
    it('leave the auditor their own open alerts and deliveries', async () => {
      const crowd = Array.from({ length: 2_100 }, (_, i) => `/prod/web/zz-crowd-${String(i).padStart(4, '0')}`);
      const subject = (name: string) => ({ storeId: 'local', name, url: `http://dashboard.test/items/local${name}`, status: 'overdue' });
      const later = new Date(Date.now() + 3_600_000);
      await recordConditions({ rule: 'prod-overdue', event: 'overdue', subjects: [INSIDE, INSIDE_DEAD, INSIDE_SILENCED, SENTINEL_OUTSIDE, ...crowd].map(subject), now: later });
      expect((await (await alertsDb()).alerts({ limit: 5000, status: 'open' })).length).toBeGreaterThan(2_100);
      as('auditor');
      const html = await alerts();
      expect(rowsOf(html, 'alert-row').filter((name) => [INSIDE, INSIDE_DEAD, INSIDE_SILENCED].includes(name)).sort()).toEqual([INSIDE, INSIDE_DEAD, INSIDE_SILENCED].sort());
      expect(rowsOf(html, 'alert-delivery-row')).toContain(INSIDE_DEAD);
      expect(html).not.toContain('zz-crowd-');
      // Their count is of their own alerts, not of the crowd.
      expect(html.replaceAll('<!-- -->', '')).toMatch(/Open alerts <span[^>]*>\(3\)</);
    }, 60_000);

    it("show an admin the worst first and the count per rule, not only the newest", async () => {
      as('admin');
      const html = await alerts();
      // The audit chain (critical), opened before the crowd of (high) overdue items, leads the list.
      const events = [...html.matchAll(/data-testid="alert-row"[^>]*?data-event="([^"]+)"/g)].map((m) => m[1]);
      expect(events[0]).toBe('audit-chain');
      expect(events.slice(1, 5)).toEqual(['overdue', 'overdue', 'overdue', 'overdue']);
      const text = html.replaceAll('<!-- -->', '');
      expect(text).toMatch(/Open alerts <span[^>]*>\(200 of 2,10\d\)/);
      expect(text).toMatch(/data-rule="prod-overdue"[^>]*>prod-overdue \(2,10\d\)</);
      expect(text).toMatch(/data-rule="ops"[^>]*>ops \(2\)</);
    });
  });
});
