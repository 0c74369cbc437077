import { beforeEach, describe, expect, it, vi } from 'vitest';

// Which entries of the app's own audit log a caller reads (lib/data/audit.ts), entry by entry. The
// log itself (its chain, its storage) is tested in tests/audit; here it hands back fixed entries.
vi.mock('@/lib/audit/audit-log', () => ({
  listAudit: vi.fn(),
  appendAudit: vi.fn(),
}));
vi.mock('@/lib/audit/anchors', () => ({ lastAnchor: vi.fn(async () => null) }));
vi.mock('@/lib/audit/chain-status', () => ({ keptChainVerdict: vi.fn(async () => ({ intact: true, entries: 3, keyedFromSeq: 1 })) }));
vi.mock('@/lib/background/audit-chain-verification', () => ({ requestFullChainPass: vi.fn() }));

import { listAudit, type AuditEntry } from '@/lib/audit/audit-log';
import { keptChainVerdict } from '@/lib/audit/chain-status';
import type { Grant } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { auditChainStatus, listAuditFor, mayRead, parseTarget } from '@/lib/data/audit';

const principal = (...grants: Grant[]): Principal => ({ via: 'session', userId: 'u', email: 'u@example.com', name: null, role: null, grants });
const P = {
  everything: principal({ role: 'auditor', stores: null, paths: ['/**'] }),
  payments: principal({ role: 'auditor', stores: null, paths: ['/prod/payments/**'] }),
  localOnly: principal({ role: 'admin', stores: ['local'], paths: ['/**'] }),
  // Lists everything, audits nothing.
  viewer: principal({ role: 'viewer', stores: null, paths: ['/**'] }),
  // Audits one name and the names one level below a folder: no folder's whole subtree.
  narrow: principal({ role: 'auditor', stores: null, paths: ['/prod/key', '/dev/*'] }),
};
type Who = keyof typeof P;

let seq = 0;
const entry = (target: string, actor = 'someone@example.com'): AuditEntry => ({
  seq: ++seq,
  at: '2026-01-01T00:00:00.000Z',
  actor,
  action: 'x',
  target,
  outcome: 'success',
  details: {},
  prevHash: '',
  hash: '',
});

describe('parseTarget', () => {
  it.each([
    ['local:/prod/x', { storeId: 'local', name: '/prod/x' }],
    ['aws-params:/', { storeId: 'aws-params', name: '/' }],
    ['s1:/a:b', { storeId: 's1', name: '/a:b' }],
    ['dashboard', null],
    ['user:alice@example.com', null],
    ['Local:/x', null],
    [':/x', null],
    ['-x:/a', null],
    [`${'s'.repeat(64)}:/a`, null],
    ['local:prod/x', null],
    ['see local:/x', null],
    // A line break ends the address: what follows is not part of a name, so it is no address.
    ['local:/x\nlocal:/y', null],
  ])('%s is %j', (target, expected) => expect(parseTarget(target)).toEqual(expected));
});

describe('mayRead', () => {
  it.each<[string, Record<Who, boolean>]>([
    // Dashboard-wide entries: auditors of everything only.
    ['dashboard', { everything: true, payments: false, localOnly: false, viewer: false, narrow: false }],
    ['user:alice@example.com', { everything: true, payments: false, localOnly: false, viewer: false, narrow: false }],
    // An item: whoever may audit it.
    ['local:/prod/payments/k', { everything: true, payments: true, localOnly: true, viewer: false, narrow: false }],
    ['aws:/prod/payments/k', { everything: true, payments: true, localOnly: false, viewer: false, narrow: false }],
    ['local:/prod/web/k', { everything: true, payments: false, localOnly: true, viewer: false, narrow: false }],
    ['local:/prod/key', { everything: true, payments: false, localOnly: true, viewer: false, narrow: true }],
    ['local:/dev/k', { everything: true, payments: false, localOnly: true, viewer: false, narrow: true }],
    // A folder: whoever may audit all of it, not those whose grants only lead through it.
    ['local:/', { everything: true, payments: false, localOnly: true, viewer: false, narrow: false }],
    ['local:/prod/', { everything: true, payments: false, localOnly: true, viewer: false, narrow: false }],
    ['local:/prod/payments/', { everything: true, payments: true, localOnly: true, viewer: false, narrow: false }],
    ['local:/prod/payments/db/', { everything: true, payments: true, localOnly: true, viewer: false, narrow: false }],
    ['local:/dev/', { everything: true, payments: false, localOnly: true, viewer: false, narrow: false }],
    ['aws:/', { everything: true, payments: false, localOnly: false, viewer: false, narrow: false }],
  ])('%s', (target, readers) => {
    for (const who of Object.keys(P) as Who[]) expect(mayRead(P[who], entry(target)), `${who} reads ${target}`).toBe(readers[who]);
  });

  it('gives no one their own entries outside what they audit', () => {
    expect(mayRead(P.payments, entry('local:/prod/web/k', 'u@example.com'))).toBe(false);
    expect(mayRead(P.payments, entry('local:/', 'u@example.com'))).toBe(false);
    expect(mayRead(P.payments, entry('dashboard', 'u@example.com'))).toBe(false);
  });
});

describe('listAuditFor', () => {
  const LOG = [entry('dashboard'), entry('local:/prod/payments/k'), entry('local:/prod/web/k'), entry('local:/prod/payments/'), entry('local:/')];
  beforeEach(() => {
    vi.mocked(listAudit).mockReset();
    vi.mocked(listAudit).mockResolvedValue(LOG);
  });

  it.each<[Who, string[]]>([
    ['everything', ['dashboard', 'local:/prod/payments/k', 'local:/prod/web/k', 'local:/prod/payments/', 'local:/']],
    ['payments', ['local:/prod/payments/k', 'local:/prod/payments/']],
    ['viewer', []],
  ])('gives %s %j, in the log\'s order', async (who, targets) => {
    expect((await listAuditFor(P[who])).map((e) => e.target)).toEqual(targets);
  });

  it('reads the newest 500 entries unless told how many', async () => {
    await listAuditFor(P.payments);
    expect(listAudit).toHaveBeenLastCalledWith(500);
    await listAuditFor(P.payments, 20);
    expect(listAudit).toHaveBeenLastCalledWith(20);
  });
});

describe('auditChainStatus', () => {
  beforeEach(() => {
    vi.mocked(keptChainVerdict).mockClear();
  });

  it.each<[Who]>([['payments'], ['localOnly'], ['viewer']])('is nothing for %s, and is not even checked', async (who) => {
    expect(await auditChainStatus(P[who])).toBeNull();
    expect(keptChainVerdict).not.toHaveBeenCalled();
  });

  it('is the whole chain\'s kept verdict for an auditor of everything', async () => {
    expect(await auditChainStatus(P.everything)).toMatchObject({ intact: true, entries: 3, keyedFromSeq: 1, lastAnchor: null, mayRunFullPass: false });
    expect(keptChainVerdict).toHaveBeenCalledOnce();
  });
});
