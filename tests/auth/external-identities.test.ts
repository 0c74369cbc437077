import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Account, Profile, User } from 'next-auth';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { githubVerifiedPrimaryEmail } from '@/lib/auth/github-emails';
import { authOptions } from '@/lib/auth/options';
import { createLocalUser, findUserByEmail, findUserById, removeUser, verifyLocalPassword } from '@/lib/auth/users';
import { appDb } from '@/lib/db/app-db';
import { DATABASES, useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// Identity-provider sign-ins are bound to provider + subject; an email reaches an existing account
// only when the provider says it is verified and the admin turned linking on for that provider.
// The real next-auth callbacks (signIn, then jwt) are called as next-auth calls them.

const ADMIN = { email: 'admin@example.com', password: 'admin-password-long-enough' };
/** Never stored, never audited: every test's account carries it as the access token. */
const TOKEN_SENTINEL = 'gho_SENTINEL_ACCESS_TOKEN_never_in_audit';
const LINK_SETTINGS = ['OIDC_LINK_VERIFIED_EMAIL', 'GITHUB_LINK_VERIFIED_EMAIL'] as const;

interface Asserted {
  sub: string;
  email?: string;
  verified?: boolean | string;
  groups?: string[];
  name?: string;
}

/** next-auth's callback arguments for an OIDC sign-in (profile() output, account, raw claims). */
function oidcArgs(a: Asserted): { user: User; account: Account; profile: Profile } {
  return {
    user: { id: a.sub, email: a.email ?? '', name: a.name ?? a.email ?? '', groups: a.groups ?? [] },
    account: { provider: 'oidc', type: 'oauth', providerAccountId: a.sub, access_token: TOKEN_SENTINEL },
    profile: { sub: a.sub, email: a.email, ...(a.verified === undefined ? {} : { email_verified: a.verified }) } as Profile,
  };
}

/** A GitHub sign-in: the numeric id is the subject; the profile email is the public one. */
function githubArgs(id: number, email: string): { user: User; account: Account; profile: Profile } {
  return {
    user: { id: String(id), email, name: 'octo' },
    account: { provider: 'github', type: 'oauth', providerAccountId: String(id), access_token: TOKEN_SENTINEL },
    profile: { id, login: 'octo', email } as unknown as Profile,
  };
}

/** signIn, then (when admitted) jwt: the account id the session would carry, or the refusal redirect. */
async function signIn(args: { user: User; account: Account; profile: Profile }): Promise<{ uid?: string; refused?: string }> {
  const callbacks = authOptions().callbacks!;
  const allowed = await callbacks.signIn!({ user: args.user, account: args.account, profile: args.profile });
  if (allowed !== true) return { refused: String(allowed) };
  const token = await callbacks.jwt!({ token: {}, user: args.user, account: args.account, profile: args.profile, trigger: 'signIn' });
  return { uid: token.uid };
}

async function bindingsOf(userId: string) {
  return (await appDb()).selectFrom('external_identities').select(['provider', 'subject']).where('user_id', '=', userId).orderBy('subject').execute();
}

async function auditAfter(seq: number) {
  const rows = await (await appDb()).selectFrom('audit_log').select(['seq', 'actor', 'action', 'target', 'outcome', 'details']).where('seq', '>', seq).orderBy('seq').execute();
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}

async function lastSeq(): Promise<number> {
  const row = await (await appDb()).selectFrom('audit_log').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return Number(row?.seq ?? 0);
}

async function adminRow() {
  return (await appDb()).selectFrom('users').selectAll().where('email', '=', ADMIN.email).executeTakeFirstOrThrow();
}

/** A users row as sign-ins wrote it before identities were bound: provider set, no binding. */
async function insertLegacyRow(email: string, provider: string): Promise<string> {
  const id = `legacy-${randomBytes(4).toString('hex')}`;
  await (await appDb())
    .insertInto('users')
    .values({ id, email, name: null, role: null, password_hash: null, provider, groups: '[]', created_at: new Date().toISOString(), last_sign_in_at: null })
    .execute();
  return id;
}

function setLinking(settings: Partial<Record<(typeof LINK_SETTINGS)[number], '1'>>) {
  for (const key of LINK_SETTINGS) {
    if (settings[key]) process.env[key] = settings[key];
    else delete process.env[key];
  }
}

describe.each(DATABASES)('external identities (%s)', (database) => {
  const temp = makeTempDir('secrets-identities-');
  const saved = { ...process.env };
  let db: Awaited<ReturnType<typeof useDatabase>>;
  let adminId: string;

  beforeAll(async () => {
    Object.assign(process.env, { DATA_DIR: path.join(temp.dir, 'data'), NEXTAUTH_SECRET: randomBytes(32).toString('base64'), DEMO_DATA: '0' });
    delete process.env.CONFIG_FILE;
    db = await useDatabase(database);
    adminId = (await createLocalUser({ email: ADMIN.email, role: 'admin', password: ADMIN.password })).id;
  });
  afterEach(() => {
    setLinking({});
    vi.unstubAllGlobals();
  });
  afterAll(async () => {
    await db?.cleanup();
    process.env = saved;
    temp.cleanup();
  });

  it('binds a first sign-in to its provider and subject, with no role', async () => {
    const { uid } = await signIn(oidcArgs({ sub: 'sub-first', email: 'first@example.com', verified: false, groups: ['payments'] }));
    const row = await findUserByEmail('first@example.com');
    expect(row).toMatchObject({ id: uid, provider: 'oidc', role: null, groups: ['payments'] });
    expect(await bindingsOf(uid!)).toEqual([{ provider: 'oidc', subject: 'sub-first' }]);
  });

  it('is the same account at a later sign-in with the same subject, whatever email it asserts now', async () => {
    const first = await signIn(oidcArgs({ sub: 'sub-moves', email: 'moves@example.com' }));
    const later = await signIn(oidcArgs({ sub: 'sub-moves', email: 'moved-elsewhere@example.com', groups: ['new-group'] }));
    expect(later.uid).toBe(first.uid);
    // The asserted email creates no account and does not replace the one grants name.
    expect(await findUserByEmail('moved-elsewhere@example.com')).toBeNull();
    expect(await findUserById(first.uid!)).toMatchObject({ email: 'moves@example.com', groups: ['new-group'] });
    // Not even an admin's email, asserted by a bound identity, makes it the admin.
    const asAdmin = await signIn(oidcArgs({ sub: 'sub-moves', email: ADMIN.email, verified: true }));
    expect(asAdmin.uid).toBe(first.uid);
    expect(asAdmin.uid).not.toBe(adminId);
  });

  it('refuses the same email under another subject while linking is off, and audits it', async () => {
    const owner = await signIn(oidcArgs({ sub: 'sub-owner', email: 'owner@example.com' }));
    const before = await lastSeq();
    const other = await signIn(oidcArgs({ sub: 'sub-impostor', email: 'owner@example.com', verified: true }));
    expect(other).toEqual({ refused: '/sign-in?error=IdentityNotLinked' });
    expect(await bindingsOf(owner.uid!)).toEqual([{ provider: 'oidc', subject: 'sub-owner' }]);
    expect(await auditAfter(before)).toEqual([
      expect.objectContaining({ actor: 'owner@example.com', action: 'sign-in', outcome: 'denied', details: { provider: 'oidc', subject: 'sub-impostor', reason: 'linking-off' } }),
    ]);
  });

  // The bad input of the issue: an unverified (or unchecked) email equal to the admin's.
  const refusals: [string, Partial<Record<(typeof LINK_SETTINGS)[number], '1'>>, Asserted, string, string][] = [
    ['verified, linking off', {}, { sub: 'sub-a1', email: ADMIN.email, verified: true }, 'IdentityNotLinked', 'linking-off'],
    ['unverified, linking off', {}, { sub: 'sub-a2', email: ADMIN.email, verified: false }, 'IdentityNotLinked', 'linking-off'],
    ['unverified, linking on', { OIDC_LINK_VERIFIED_EMAIL: '1' }, { sub: 'sub-a3', email: ADMIN.email, verified: false }, 'EmailNotVerified', 'email-not-verified'],
    ['no email_verified claim, linking on', { OIDC_LINK_VERIFIED_EMAIL: '1' }, { sub: 'sub-a4', email: 'ADMIN@Example.com' }, 'EmailNotVerified', 'email-not-verified'],
    ['email_verified "false", linking on', { OIDC_LINK_VERIFIED_EMAIL: '1' }, { sub: 'sub-a5', email: ADMIN.email, verified: 'false' }, 'EmailNotVerified', 'email-not-verified'],
    ['verified, only GitHub linking on', { GITHUB_LINK_VERIFIED_EMAIL: '1' }, { sub: 'sub-a6', email: ADMIN.email, verified: true }, 'IdentityNotLinked', 'linking-off'],
  ];
  it.each(refusals)("refuses an OIDC sign-in with the admin's email (%s): audited, the admin's row unchanged", async (_case, linking, asserted, code, reason) => {
    setLinking(linking);
    const rowBefore = await adminRow();
    const before = await lastSeq();
    expect(await signIn(oidcArgs(asserted))).toEqual({ refused: `/sign-in?error=${code}` });
    expect(await adminRow()).toEqual(rowBefore);
    expect(await bindingsOf(adminId)).toEqual([]);
    const audit = await auditAfter(before);
    expect(audit).toEqual([expect.objectContaining({ actor: asserted.email, action: 'sign-in', target: 'dashboard', outcome: 'denied', details: { provider: 'oidc', subject: asserted.sub, reason } })]);
    expect(JSON.stringify(audit)).not.toContain('SENTINEL');
    // Still the admin's own password signs the admin in.
    expect(await verifyLocalPassword(ADMIN.email, ADMIN.password)).toMatchObject({ id: adminId });
  });

  it('links a verified email to the existing (local) account when linking is on, and binds it', async () => {
    const local = await createLocalUser({ email: 'local@example.com', role: 'operator', password: 'local-password-long' });
    setLinking({ OIDC_LINK_VERIFIED_EMAIL: '1' });
    const before = await lastSeq();
    const linked = await signIn(oidcArgs({ sub: 'sub-local', email: 'Local@Example.com', verified: true, groups: ['ops'] }));
    expect(linked.uid).toBe(local.id);
    expect(await bindingsOf(local.id)).toEqual([{ provider: 'oidc', subject: 'sub-local' }]);
    expect(await findUserById(local.id)).toMatchObject({ email: 'local@example.com', provider: 'local', role: 'operator', groups: ['ops'] });
    expect(await verifyLocalPassword('local@example.com', 'local-password-long')).toMatchObject({ id: local.id });
    expect(await auditAfter(before)).toEqual([
      expect.objectContaining({ actor: 'local@example.com', action: 'link-identity', outcome: 'success', details: { provider: 'oidc', subject: 'sub-local', via: 'verified-email' } }),
      expect.objectContaining({ actor: 'local@example.com', action: 'sign-in', outcome: 'success' }),
    ]);
    // Bound now: the next sign-in is that account even with linking off and no verified email.
    setLinking({});
    expect((await signIn(oidcArgs({ sub: 'sub-local', email: 'local@example.com', verified: false }))).uid).toBe(local.id);
  });

  it('binds a row an earlier version created (same provider, same email, no binding) at its next sign-in', async () => {
    const legacyId = await insertLegacyRow('legacy@example.com', 'oidc');
    const before = await lastSeq();
    expect((await signIn(oidcArgs({ sub: 'sub-legacy', email: 'legacy@example.com' }))).uid).toBe(legacyId);
    expect(await bindingsOf(legacyId)).toEqual([{ provider: 'oidc', subject: 'sub-legacy' }]);
    expect((await auditAfter(before))[0]).toMatchObject({ action: 'link-identity', details: { provider: 'oidc', subject: 'sub-legacy', via: 'existing-row-of-provider' } });
    // Once bound, another subject with that email is refused like any other.
    expect(await signIn(oidcArgs({ sub: 'sub-legacy-2', email: 'legacy@example.com', verified: true }))).toEqual({ refused: '/sign-in?error=IdentityNotLinked' });
  });

  it("does not bind another provider's legacy row, nor a local account, by email", async () => {
    const githubRow = await insertLegacyRow('octo-legacy@example.com', 'github');
    expect(await signIn(oidcArgs({ sub: 'sub-octo', email: 'octo-legacy@example.com', verified: true }))).toEqual({ refused: '/sign-in?error=IdentityNotLinked' });
    expect(await bindingsOf(githubRow)).toEqual([]);
    await createLocalUser({ email: 'local-only@example.com', role: 'viewer', password: 'local-password-long' });
    expect(await signIn(oidcArgs({ sub: 'sub-local-only', email: 'local-only@example.com', verified: true }))).toEqual({ refused: '/sign-in?error=IdentityNotLinked' });
  });

  it('forgets the bindings of a removed account: the next sign-in creates a new one', async () => {
    const first = await signIn(oidcArgs({ sub: 'sub-removed', email: 'removed@example.com' }));
    expect(await removeUser('removed@example.com')).toBe(true);
    expect(await bindingsOf(first.uid!)).toEqual([]);
    const again = await signIn(oidcArgs({ sub: 'sub-removed', email: 'removed@example.com' }));
    expect(again.uid).toBeTruthy();
    expect(again.uid).not.toBe(first.uid);
  });

  it.each([
    ['no sub claim', { ...oidcArgs({ sub: 'x', email: 'nosub@example.com' }), profile: { email: 'nosub@example.com' } as Profile }, 'InvalidIdentity'],
    ['a sub that is not the claim', { ...oidcArgs({ sub: 'x', email: 'nosub@example.com' }), profile: { sub: 42, email: 'nosub@example.com' } as unknown as Profile }, 'InvalidIdentity'],
    ['a 256-character sub', oidcArgs({ sub: 's'.repeat(256), email: 'longsub@example.com' }), 'InvalidIdentity'],
    ['no email on a first sign-in', oidcArgs({ sub: 'sub-noemail' }), 'NoEmail'],
    ['an email that is not an address', oidcArgs({ sub: 'sub-bademail', email: 'not an address' }), 'NoEmail'],
  ])('refuses %s without writing an account', async (_case, args, code) => {
    const users = await (await appDb()).selectFrom('users').select('id').execute();
    expect(await signIn(args)).toEqual({ refused: `/sign-in?error=${code}` });
    expect(await (await appDb()).selectFrom('users').select('id').execute()).toHaveLength(users.length);
  });

  describe('GitHub', () => {
    const emailsAnswer = (emails: { email: string; primary: boolean; verified: boolean }[]) => {
      const fake = vi.fn(async () => new Response(JSON.stringify(emails), { status: 200, headers: { 'content-type': 'application/json' } }));
      vi.stubGlobal('fetch', fake);
      return fake;
    };

    it('binds a new GitHub user by numeric id without asking the emails API', async () => {
      const fake = emailsAnswer([]);
      const first = await signIn(githubArgs(1001, 'octo-new@example.com'));
      expect(await bindingsOf(first.uid!)).toEqual([{ provider: 'github', subject: '1001' }]);
      expect((await signIn(githubArgs(1001, 'octo-renamed@example.com'))).uid).toBe(first.uid);
      expect(fake).not.toHaveBeenCalled();
    });

    it.each([
      ['the verified primary address, linking on', { GITHUB_LINK_VERIFIED_EMAIL: '1' as const }, [{ email: 'gh-linked@example.com', primary: true, verified: true }], 'linked'],
      ['the primary address unverified', { GITHUB_LINK_VERIFIED_EMAIL: '1' as const }, [{ email: 'gh-linked@example.com', primary: true, verified: false }], 'EmailNotVerified'],
      ['a verified address that is not the primary', { GITHUB_LINK_VERIFIED_EMAIL: '1' as const }, [{ email: 'other@example.com', primary: true, verified: true }, { email: 'gh-linked@example.com', primary: false, verified: true }], 'EmailNotVerified'],
      ['the verified primary address, only OIDC linking on', { OIDC_LINK_VERIFIED_EMAIL: '1' as const }, [{ email: 'gh-linked@example.com', primary: true, verified: true }], 'IdentityNotLinked'],
    ])('an existing account and %s', async (_case, linking, emails, expected) => {
      const existing = (await findUserByEmail('gh-linked@example.com')) ?? (await createLocalUser({ email: 'gh-linked@example.com', role: 'viewer', password: 'local-password-long' }));
      await (await appDb()).deleteFrom('external_identities').where('user_id', '=', existing.id).execute();
      setLinking(linking);
      const fake = emailsAnswer(emails);
      const result = await signIn(githubArgs(2002, 'gh-linked@example.com'));
      if (expected === 'linked') {
        expect(result.uid).toBe(existing.id);
        expect(await bindingsOf(existing.id)).toEqual([{ provider: 'github', subject: '2002' }]);
      } else {
        expect(result).toEqual({ refused: `/sign-in?error=${expected}` });
        expect(await bindingsOf(existing.id)).toEqual([]);
      }
      // The emails API is asked only when linking is on for GitHub, with the account's own token.
      if ('GITHUB_LINK_VERIFIED_EMAIL' in linking) expect(fake).toHaveBeenCalledWith('https://api.github.com/user/emails', expect.objectContaining({ headers: expect.objectContaining({ authorization: `Bearer ${TOKEN_SENTINEL}` }) }));
      else expect(fake).not.toHaveBeenCalled();
    });
  });
});

describe('githubVerifiedPrimaryEmail', () => {
  const answer = (status: number, body: unknown) => vi.fn(async () => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status }));
  it.each([
    ['a verified primary address', answer(200, [{ email: 'a@example.com', primary: false, verified: true }, { email: 'p@example.com', primary: true, verified: true, visibility: 'private' }]), 'p@example.com'],
    ['an unverified primary address', answer(200, [{ email: 'p@example.com', primary: true, verified: false }, { email: 'a@example.com', primary: false, verified: true }]), null],
    ['no primary address', answer(200, [{ email: 'a@example.com', primary: false, verified: true }]), null],
    ['no addresses', answer(200, []), null],
    ['a refused token (401)', answer(401, { message: 'Bad credentials' }), null],
    ['a token without user:email (404)', answer(404, { message: 'Not Found' }), null],
    ['a malformed answer', answer(200, { email: 'p@example.com', primary: true, verified: true }), null],
    ['fields of the wrong type', answer(200, [{ email: 'p@example.com', primary: 'true', verified: 'true' }]), null],
    ['not JSON', answer(200, 'not json'), null],
    ['a network failure', vi.fn(async () => Promise.reject(new TypeError('fetch failed'))), null],
  ])('%s -> %s', async (_case, fake, expected) => {
    expect(await githubVerifiedPrimaryEmail('token-abc', { fetchImpl: fake as unknown as typeof fetch, apiBase: 'http://github.test/api' })).toBe(expected);
    expect(fake).toHaveBeenCalledWith('http://github.test/api/user/emails', expect.objectContaining({ headers: expect.objectContaining({ authorization: 'Bearer token-abc' }) }));
  });
});
