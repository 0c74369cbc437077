import type { Metadata } from 'next';
import { ActionForm } from '@/components/action-form';
import { RelativeTime } from '@/components/relative-time';
import { SimpleTable } from '@/components/simple-table';
import { CreateTokenForm } from '@/components/settings/create-token-form';
import { revokeApiTokenAction } from '@/lib/actions/revoke-api-token';
import { listApiTokens } from '@/lib/auth/api-tokens';
import { listUsers } from '@/lib/auth/users';
import { requirePermission } from '@/lib/session';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'API tokens' };

export default async function TokensPage() {
  await requirePermission('create-token');
  const [tokens, users] = await Promise.all([listApiTokens(), listUsers()]);
  return (
    <div className="space-y-6">
      <h1 className="text-xl font-semibold">API tokens</h1>
      <section className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-1 font-semibold">Create a token</h2>
        <p className="mb-3 text-sm text-slate-600">
          A token acts with its user&apos;s grants on <code>/api/v1</code>: send <code>Authorization: Bearer &lt;token&gt;</code>.
        </p>
        <CreateTokenForm users={users.map((u) => ({ id: u.id, email: u.email }))} />
      </section>
      <SimpleTable headers={['Name', 'Acts as', 'Created', 'Expires', 'Last used', '']} phoneHidden={[3, 5]}>
          {tokens.map((token) => (
            <tr key={token.id} data-testid="token-row">
              <td className="px-3 py-2 font-mono break-all">{token.name}</td>
              <td className="px-3 py-2 break-all">{token.userEmail}</td>
              <td className="px-3 py-2">
                <RelativeTime iso={token.createdAt} /> by {token.createdBy}
              </td>
              <td className="px-3 py-2">
                <RelativeTime iso={token.expiresAt} />
              </td>
              <td className="px-3 py-2">{token.lastUsedAt ? <RelativeTime iso={token.lastUsedAt} /> : 'never'}</td>
              <td className="px-3 py-2 text-right">
                {token.revoked ? (
                  <span className="text-slate-500">revoked</span>
                ) : (
                  <ActionForm action={revokeApiTokenAction} submitLabel="Revoke" danger>
                    <input type="hidden" name="id" value={token.id} />
                  </ActionForm>
                )}
              </td>
            </tr>
          ))}
      </SimpleTable>
    </div>
  );
}
