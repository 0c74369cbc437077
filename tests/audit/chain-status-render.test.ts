import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';

vi.mock('next/navigation', () => ({ useRouter: () => ({ refresh: () => undefined }) }));
vi.mock('@/lib/actions/verify-audit-chain', () => ({ verifyAuditChainAction: async () => ({ ok: true, data: { state: 'started' } }) }));

import { AuditChainStatus } from '@/components/audit/audit-chain-status';
import type { AuditChainStatus as Status } from '@/lib/data/audit';

// The chain's status on /audit, server-rendered from the kept verdict: a break named with who found
// it while new entries are still verified, the full pass's progress while it runs, the admin's button.

const base: Status = {
  intact: true,
  brokenAt: null,
  problem: null,
  breakFoundBy: null,
  breakFoundAt: null,
  entries: 5007,
  keyedFromSeq: 1,
  verifiedUpTo: { seq: 5007, at: '2026-12-05T10:00:00.000Z' },
  pendingEntries: 0,
  verdictAlteredAt: null,
  fullPass: { state: 'intact', startedAt: '2026-12-05T09:00:00.000Z', finishedAt: '2026-12-05T09:00:10.000Z', checked: 5000, total: 5000, brokenAt: null, problem: null, error: null },
  lastAnchor: null,
  anchorEvery: 1000,
  anchorIntervalMinutes: 60,
  anchorBucket: null,
  fullPassEveryHours: 24,
  mayRunFullPass: false,
};
const render = (status: Partial<Status>) => renderToStaticMarkup(createElement(AuditChainStatus, { chain: { ...base, ...status } })).replace(/<!-- -->/g, '');

describe('the audit chain status', () => {
  it('intact: the entries verified, how far new entries are verified, the last full pass; no button for a non-admin', () => {
    const html = render({});
    expect(html).toContain('Keyed hash chain intact (5,007 dashboard entries)');
    expect(html).toContain('New entries verified up to #5,007');
    expect(html).toContain('Last full pass');
    expect(html).toContain('intact, 5,000 entries (again every 24 h)');
    expect(html).not.toContain('Verify whole chain now');
    expect(render({ mayRunFullPass: true })).toContain('Verify whole chain now');
  });

  it('a break found by the full pass far back is named, and new entries are still said to be verified past it', () => {
    const html = render({
      intact: false,
      brokenAt: 10,
      problem: "hash mismatch: the entry was edited after it was written (or the audit chain key is not this log's)",
      breakFoundBy: 'full-pass',
      breakFoundAt: '2026-12-05T09:00:10.000Z',
      fullPass: { ...base.fullPass!, state: 'broken', checked: 9, brokenAt: 10, problem: 'hash mismatch' },
    });
    expect(html).toContain('Keyed hash chain broken at entry #10: hash mismatch: the entry was edited after it was written');
    expect(html).toContain('Found by the full pass');
    expect(html).toContain('new entries are still checked as they come');
    expect(html).toContain('New entries verified up to #5,007');
    expect(html).toContain('broken at entry #10 after 9 verified entries');
  });

  it('a full pass under way shows entries checked of the total, and no second button', () => {
    const html = render({ mayRunFullPass: true, fullPass: { ...base.fullPass!, state: 'running', finishedAt: null, checked: 2500, total: 5000 } });
    expect(html).toContain('Full pass running: 2,500 of 5,000 entries checked (50%)');
    expect(html).toMatch(/<progress[^>]*max="5000"[^>]*value="2500"|<progress[^>]*value="2500"[^>]*max="5000"/);
    expect(html).not.toContain('Verify whole chain now');
  });

  it('says when the kept verdict was altered, and when entries are still to be checked', () => {
    expect(render({ intact: false, verdictAlteredAt: '2026-12-05T10:00:00.000Z' })).toContain('The kept verification record was altered');
    expect(render({ pendingEntries: 12_000 })).toContain('12,000 more to check');
    expect(render({ fullPass: null })).toContain('No full pass yet');
  });
});
