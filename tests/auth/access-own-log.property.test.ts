import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { can, canEverywhere } from '@/lib/auth/authorize';
import { grantCoversStore, grantCoversSubtree } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { roleAllows } from '@/lib/auth/roles';
import { appendAudit, listAudit, type AuditEntry } from '@/lib/audit/audit-log';
import { exportTimeline, timelineChart } from '@/lib/data/audit-timeline';
import { seededRandom } from '@/lib/random/seeded-random';
import { DATABASES } from '../support/databases';
import { startHarness, type Harness } from './harness';
import { FC_PARAMS, FC_SEED, grantsArb } from './support/access-arbitraries';

// The dashboard's own audit log in the merged timeline, its export and its chart, against the rule
// written out plainly: an entry about an item is shown when the caller may audit that item; one
// about a folder only when their view-audit grants hold everything below it (a grant that merely
// passes through the folder shows nothing there, not even other users' emails); dashboard-wide
// entries (sign-ins, users) only to auditors of everything. Random grants, SQLite and PostgreSQL.

const NAMES = ['/prod/payments/stripe-key', '/prod/payments/db/password', '/prod/paymentsx/one', '/prod/web/session', '/staging/payments/key', '/prod/payments/../../staging/KEY', '/dev/a.b'];
const FOLDERS = ['/', '/prod/', '/prod/payments/', '/prod/paymentsx/', '/prod/payments/db/', '/staging/'];
const STORES = ['local', 'aws-params'];
const principalOf = (grants: Principal['grants']): Principal => ({ via: 'session', userId: 'u', email: 'u@example.com', name: null, role: null, grants });

/** The reference: the rule, over the one check's pieces. */
function shown(p: Principal, entry: AuditEntry): boolean {
  const match = /^([a-z0-9][a-z0-9-]*):(\/.*)$/.exec(entry.target);
  if (!match) return canEverywhere(p, 'view-audit');
  const [, storeId, name] = match as unknown as [string, string, string];
  if (!name.endsWith('/')) return can(p, 'view-audit', { storeId, name });
  return p.grants.some((g) => roleAllows(g.role, 'view-audit') && grantCoversStore(g, storeId) && grantCoversSubtree(g, name));
}

describe.each(DATABASES)('the own audit log in the timeline against the one check (%s)', (database) => {
  let h: Harness;
  let all: AuditEntry[];

  beforeAll(async () => {
    h = await startHarness({ database });
    const random = seededRandom(FC_SEED);
    const pick = <T,>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    for (let i = 0; i < 150; i++) {
      const roll = random();
      const target = roll < 0.5 ? `${pick(STORES)}:${pick(NAMES)}` : roll < 0.85 ? `${pick(STORES)}:${pick(FOLDERS)}` : pick(['dashboard', 'users', 'user:someone@example.com']);
      await appendAudit({ actor: `person-${i % 7}@example.com`, action: pick(['rotate', 'reveal', 'import', 'refresh-inventory', 'list', 'sign-in']), target, outcome: pick(['success', 'denied', 'failure']) });
    }
    all = [];
    for (let before: number | undefined; ; ) {
      const batch = await listAudit(500, before);
      all.push(...batch);
      if (batch.length < 500) break;
      before = batch.at(-1)!.seq;
    }
    expect(all.length).toBeGreaterThanOrEqual(150);
  }, 120_000);
  afterAll(() => h?.cleanup());

  it('the timeline, its export and its chart show exactly the entries the rule allows', async () => {
    await fc.assert(
      fc.asyncProperty(grantsArb(STORES), async (grants) => {
        const p = principalOf(grants);
        const keys: string[] = [];
        for await (const entry of exportTimeline(p, {})) if (entry.source === 'dashboard') keys.push(entry.key);
        const expected = all.filter((e) => shown(p, e)).map((e) => `d${e.seq}`);
        expect(keys.sort()).toEqual(expected.sort());
        // The chart counts the reads (reveal) and writes (rotate, import…) of exactly that set; the
        // harness's CloudTrail index holds no events.
        const points = await timelineChart(p, {}, 'day');
        const allowed = all.filter((e) => shown(p, e));
        expect(points.reduce((n, pt) => n + pt.reads, 0)).toBe(allowed.filter((e) => e.action === 'reveal').length);
        expect(points.reduce((n, pt) => n + pt.writes, 0)).toBe(allowed.filter((e) => ['rotate', 'generate', 'schedule-rotation', 'import'].includes(e.action)).length);
      }),
      { ...FC_PARAMS, numRuns: Math.min(FC_PARAMS.numRuns, 300) },
    );
  }, 900_000);
});
