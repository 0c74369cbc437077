import { describe, expect, it } from 'vitest';
import { appendAudit, listAudit } from '@/lib/audit/audit-log';
import { fullPassDue } from '@/lib/audit/chain-full-pass';
import { FULL_PASS, readVerdict, type FullPassVerdict } from '@/lib/audit/chain-verdict-store';
import { AuthorizationError } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import { AUDIT_CHAIN_LEASE, startAuditChainVerification, stopAuditChainVerification } from '@/lib/background/audit-chain-verification';
import { auditChainKey } from '@/lib/crypto/keyring';
import { requestAuditChainVerification } from '@/lib/data/audit';
import { appDb } from '@/lib/db/app-db';
import { leaseHolder } from '@/lib/db/lease';
import { DATABASES } from '../support/databases';
import { useFreshDeployments } from './support/fresh-deployments';

// The full pass in the background: one replica runs it under the 'audit-chain-verification'
// lease, at once when none ever ran, again when AUDIT_FULL_VERIFY_HOURS have passed, and when an
// admin asks (from any replica: the request waits for the leader). Others are refused, and both
// the request and the refusal are in the audit log.

const { freshDeployment } = useFreshDeployments('secrets-full-pass-', stopAuditChainVerification);

const principal = (role: 'admin' | 'auditor' | 'operator', stores: string[] | null = null): Principal => ({
  via: 'session',
  userId: `u-${role}`,
  email: `${role}@example.com`,
  name: null,
  role: null,
  grants: [{ role, stores, paths: ['/**'] }],
});

const fullPass = async (): Promise<FullPassVerdict | null> => (await readVerdict(await appDb(), await auditChainKey(), FULL_PASS)).body;

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(DATABASES)('the full pass in the background on %s', (kind) => {
  it('refuses the on-demand pass to non-admins (a scoped admin too), audited as a denial, and queues nothing', async () => {
    await freshDeployment(kind);
    for (const who of [principal('auditor'), principal('operator'), principal('admin', ['local'])]) {
      await expect(requestAuditChainVerification(who)).rejects.toMatchObject({ constructor: AuthorizationError, status: 403 });
    }
    const denials = (await listAudit(10)).filter((e) => e.action === 'verify-audit-chain');
    expect(denials.map((e) => [e.actor, e.outcome])).toEqual([
      ['admin@example.com', 'denied'],
      ['operator@example.com', 'denied'],
      ['auditor@example.com', 'denied'],
    ]);
    const waiting = await (await appDb()).selectFrom('background_requests').selectAll().where('name', '=', AUDIT_CHAIN_LEASE).execute();
    expect(waiting).toEqual([]);
  });

  it('runs one at once on the leader when none ever ran, then an admin\'s request from another replica, each audited', async () => {
    await freshDeployment(kind);
    for (let i = 0; i < 20; i++) await appendAudit({ actor: 'alice@example.com', action: 'reveal', target: `local:/prod/${i}`, outcome: 'allowed' });

    // Asked before any replica leads: the request waits for the leader.
    expect(await requestAuditChainVerification(principal('admin'))).toEqual({ state: 'queued' });
    expect(await requestAuditChainVerification(principal('admin'))).toEqual({ state: 'already-queued' });
    const asked = (await listAudit(5)).filter((e) => e.action === 'verify-audit-chain');
    expect(asked.map((e) => [e.actor, e.outcome, e.target, e.details])).toEqual([
      ['admin@example.com', 'success', 'audit-log', { state: 'already-queued' }],
      ['admin@example.com', 'success', 'audit-log', { state: 'queued' }],
    ]);

    startAuditChainVerification({ holder: 'test-leader', ttlMs: 600, renewEveryMs: 150, requestPollMs: 50, checkEveryMs: 60_000 });
    const first = await waitFor('the first pass', async () => {
      const pass = await fullPass();
      return pass?.state === 'intact' ? pass : null;
    });
    expect(first).toMatchObject({ holder: 'test-leader', checked: 22, total: 22 });
    expect((await leaseHolder(AUDIT_CHAIN_LEASE))?.holder).toBe('test-leader');
    // The queued request is taken by the leader too: a second pass (or the first, when it came first).
    await waitFor('the request taken', async () => (await (await appDb()).selectFrom('background_requests').selectAll().where('name', '=', AUDIT_CHAIN_LEASE).execute()).length === 0);

    // A request on the leading replica starts a pass at once.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = (await fullPass())!;
    await waitFor('no pass under way', async () => (await fullPass())?.state !== 'running');
    const state = (await requestAuditChainVerification(principal('admin'))).state;
    expect(['started', 'running']).toContain(state);
    const after = await waitFor('a newer pass', async () => {
      const pass = await fullPass();
      return pass && pass.state === 'intact' && pass.startedAt > before.startedAt ? pass : null;
    });
    // The request's own audit entry (appended before the pass read the log, or after) is counted or not; never less than before.
    expect(after.checked).toBeGreaterThanOrEqual(first.checked);
  });

  it('is due when none ran, when AUDIT_FULL_VERIFY_HOURS have passed, sooner after a break, and at once for a new leader after a pass that died', async () => {
    await freshDeployment(kind);
    await appendAudit({ actor: 'alice@example.com', action: 'reveal', target: 'local:/prod/a', outcome: 'allowed' });
    expect(await fullPassDue(new Date(), 'me')).toBe(true);
    const { runFullChainPass } = await import('@/lib/audit/chain-full-pass');
    await runFullChainPass({ holder: 'me' });
    const H = 3_600_000;
    expect(await fullPassDue(new Date(), 'me')).toBe(false);
    expect(await fullPassDue(new Date(Date.now() + 23 * H), 'me')).toBe(false);
    expect(await fullPassDue(new Date(Date.now() + 24 * H + 1000), 'me')).toBe(true);
    process.env.AUDIT_FULL_VERIFY_HOURS = '2';
    try {
      expect(await fullPassDue(new Date(Date.now() + 2 * H + 1000), 'me')).toBe(true);
    } finally {
      delete process.env.AUDIT_FULL_VERIFY_HOURS;
    }
    // A pass stopped mid-way (its replica lost the lease) is kept as failed: the next leader runs one at once.
    const abort = new AbortController();
    abort.abort(new Error('lost the lease'));
    await expect(runFullChainPass({ holder: 'old-leader', signal: abort.signal, progressEveryMs: 0 })).rejects.toThrow();
    expect(await fullPass()).toMatchObject({ state: 'failed', holder: 'old-leader' });
    expect(await fullPassDue(new Date(), 'new-leader')).toBe(true);
    expect(await fullPassDue(new Date(), 'old-leader')).toBe(false);
  });
});
