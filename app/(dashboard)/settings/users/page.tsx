import type { Metadata } from 'next';
import { ActionForm } from '@/components/action-form';
import { RelativeTime } from '@/components/relative-time';
import { SimpleTable } from '@/components/simple-table';
import { createUserAction } from '@/lib/actions/create-user';
import { removeUserAction } from '@/lib/actions/remove-user';
import { ROLES } from '@/lib/auth/roles';
import { listUsers } from '@/lib/auth/users';
import { requirePermission } from '@/lib/session';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Users' };

export default async function UsersPage() {
  const me = await requirePermission('manage-users');
  const users = await listUsers();
  return (
    <div className="space-y-6">
      <h1 className="text-xl font-semibold">Users</h1>
      <section className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-3 font-semibold">Add a local account</h2>
        <ActionForm action={createUserAction} submitLabel="Add user" className="flex flex-wrap items-end gap-3">
          <label className="text-sm">
            <span className="block text-slate-600">Email</span>
            <input name="email" type="email" required className="rounded-md border border-slate-300 px-2 py-1.5" />
          </label>
          <label className="text-sm">
            <span className="block text-slate-600">Role</span>
            <select name="role" className="rounded-md border border-slate-300 px-2 py-1.5">
              {ROLES.map((role) => (
                <option key={role}>{role}</option>
              ))}
            </select>
          </label>
          <label className="text-sm">
            <span className="block text-slate-600">Initial password (12+ characters)</span>
            <input name="password" type="password" minLength={12} required autoComplete="new-password" className="rounded-md border border-slate-300 px-2 py-1.5" />
          </label>
        </ActionForm>
        <p className="mt-2 text-xs text-slate-500">
          A role applies to every path, unless CONFIG_FILE grants name the user; identity-provider users get their access from group grants.
        </p>
      </section>
      <SimpleTable headers={['Email', 'Role', 'Sign-in', 'Last signed in', '']} phoneHidden={[3, 4]}>
          {users.map((user) => (
            <tr key={user.id} data-testid="user-row">
              <td className="px-3 py-2 break-all">{user.email}</td>
              <td className="px-3 py-2">{user.role ?? 'grants only'}</td>
              <td className="px-3 py-2">{user.provider}</td>
              <td className="px-3 py-2">{user.lastSignInAt ? <RelativeTime iso={user.lastSignInAt} /> : 'never'}</td>
              <td className="px-3 py-2 text-right">
                {user.id !== me.userId && (
                  <ActionForm action={removeUserAction} submitLabel="Remove" danger>
                    <input type="hidden" name="email" value={user.email} />
                  </ActionForm>
                )}
              </td>
            </tr>
          ))}
      </SimpleTable>
    </div>
  );
}
