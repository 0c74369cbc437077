import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globsPattern, nameRanges } from '@/lib/auth/path-glob';
import { FindingsDb, type FindingScope, type FindingsWhere, type RaisedRow, type StoredFinding } from '@/lib/findings/findings-db';
import { FINDING_STATUSES, SEVERITIES, type ControlId } from '@/lib/findings/types';
import { seededRandom } from '@/lib/random/seeded-random';
import { createTestDatabase, DATABASES } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// The findings page filtered to status=suppressed is found from the suppressions in force, not by
// walking the page order: it must answer exactly what filtering every finding by its status answers,
// for every caller's cut (whole stores, a folder grant by its name ranges, a wildcard grant by its
// pattern), with other filters, page by page through the cursor; a finding suppressed twice once; a
// lifted or expired suppression, or one of a resolved finding, none.

const NOW = new Date('2026-12-05T08:00:00Z');
const DAY = 86_400_000;
const CONTROLS: ControlId[] = ['no-owner', 'not-read-recently', 'sm-using-cmk', 'new-reader'];

function raisedRows(store: number, count: number): RaisedRow[] {
  const rows: RaisedRow[] = [];
  for (let i = 0; i < count; i++)
    for (const [k, control] of CONTROLS.entries())
      if ((i + k) % 3 !== 0) rows.push({ itemName: `/team${i % 4}/svc${i % 3}/item-${store}-${i}`, control, kind: 'SecureString', arn: null, account: '111122223333', owner: i % 2 ? 'alice' : null, evidence: { note: `${store}-${i}` } as never });
  return rows;
}

/** Every page of `where`, `limit` at a time, through the position of each page's last row. */
async function allPages(db: FindingsDb, where: FindingsWhere, limit: number): Promise<StoredFinding[]> {
  const out: StoredFinding[] = [];
  for (;;) {
    const last = out.at(-1);
    const after = last ? { rank: SEVERITIES.indexOf(last.severity), storeId: last.storeId, itemName: last.itemName, control: last.control } : null;
    const page = await db.page(where, limit, after);
    out.push(...page);
    if (page.length < limit) return out;
  }
}

describe.each(DATABASES)('the suppressed findings page (%s)', (database) => {
  const temp = makeTempDir('findings-suppressed-');
  let db: FindingsDb;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (database === 'sqlite') db = await FindingsDb.open(temp.dir);
    else {
      const created = await createTestDatabase();
      drop = created.drop;
      db = await FindingsDb.openPostgres(created.url);
    }
    const random = seededRandom(99);
    for (const [s, storeId] of ['s1', 's2'].entries()) {
      const raised = raisedRows(s, 60);
      await db.applyEvaluation({ storeId, evaluatedAt: new Date(NOW.getTime() - DAY).toISOString(), inputs: 'first', items: 60, durationMs: 1, raised });
      // Some resolved since: their suppressions must not make them "suppressed".
      const kept = raised.filter((_, k) => k % 7 !== 0);
      await db.applyEvaluation({ storeId, evaluatedAt: NOW.toISOString(), inputs: 'second', items: 60, durationMs: 1, raised: kept });
      for (const [k, f] of raised.entries()) {
        if (random() > 0.3) continue;
        const base = { storeId, itemName: f.itemName, control: f.control, reason: 'test', createdBy: 't@example.com', createdAt: new Date(NOW.getTime() - DAY).toISOString() };
        const roll = k % 5;
        if (roll === 0) await db.addSuppression({ ...base, expiresAt: new Date(NOW.getTime() - 1000).toISOString() }); // expired
        else if (roll === 1) {
          const id = await db.addSuppression({ ...base, expiresAt: new Date(NOW.getTime() + DAY).toISOString() });
          await db.liftSuppression(id, 't@example.com', NOW.toISOString()); // lifted
        } else {
          await db.addSuppression({ ...base, expiresAt: new Date(NOW.getTime() + 10 * DAY).toISOString() });
          if (roll === 2) await db.addSuppression({ ...base, expiresAt: new Date(NOW.getTime() + 20 * DAY).toISOString() }); // twice
        }
      }
    }
  });

  afterAll(async () => {
    await db?.close();
    await drop?.();
    temp.cleanup();
  });

  const whole: FindingScope[] = [
    { storeId: 's1', namePattern: null },
    { storeId: 's2', namePattern: null },
  ];
  const folder = (globs: string[]): FindingScope[] => [{ storeId: 's1', namePattern: globsPattern(globs), ranges: nameRanges(globs) }, { storeId: 's2', namePattern: null }];
  const CUTS: [string, FindingScope[]][] = [
    ['every store whole', whole],
    ['a folder grant in one store (name ranges)', folder(['/team1/**'])],
    ['two folder grants', folder(['/team1/**', '/team3/svc2/**'])],
    ['a wildcard grant (pattern only)', [{ storeId: 's1', namePattern: globsPattern(['/*/svc1/**']), ranges: nameRanges(['/*/svc1/**']) }]],
    ['one store', [{ storeId: 's2', namePattern: null }]],
  ];

  it.each(CUTS)('answers what filtering every finding by status answers: %s', async (_name, scopes) => {
    for (const filters of [{}, { controls: ['no-owner', 'new-reader'] as ControlId[] }, { owners: ['alice'] }]) {
      const everything = await allPages(db, { scopes, statuses: [...FINDING_STATUSES], now: NOW, ...filters }, 1000);
      const expected = everything.filter((f) => f.status === 'suppressed');
      for (const limit of [7, 1000]) {
        const suppressed = await allPages(db, { scopes, statuses: ['suppressed'], now: NOW, ...filters }, limit);
        expect(suppressed).toEqual(expected);
      }
    }
  });

  it('holds suppressed findings only: none resolved, lifted, expired or twice', async () => {
    const suppressed = await allPages(db, { scopes: whole, statuses: ['suppressed'], now: NOW }, 1000);
    expect(suppressed.length).toBeGreaterThan(10);
    expect(suppressed.every((f) => f.status === 'suppressed' && f.resolvedAt === null && f.suppression !== null)).toBe(true);
    const keys = suppressed.map((f) => `${f.storeId} ${f.itemName} ${f.control}`);
    expect(new Set(keys).size).toBe(keys.length);
    // The resolved findings that had a suppression in force are not among them.
    const resolved = await allPages(db, { scopes: whole, statuses: ['resolved'], now: NOW }, 1000);
    expect(resolved.length).toBeGreaterThan(0);
    expect(resolved.some((f) => keys.includes(`${f.storeId} ${f.itemName} ${f.control}`))).toBe(false);
    // After every suppression expires, nothing is suppressed.
    expect(await db.page({ scopes: whole, statuses: ['suppressed'], now: new Date(NOW.getTime() + 30 * DAY) }, 10, null)).toEqual([]);
  });
});
