import Link from 'next/link';
import { LockIcon } from '@/components/icons';
import { SignOutButton } from '@/components/sign-out-button';
import { can } from '@/lib/auth/authorize';
import { requireUser } from '@/lib/session';

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  const isAdmin = can(user, 'manage-users');
  const isAuditor = can(user, 'view-audit');
  return (
    <div className="flex min-h-screen flex-col">
      <header className="border-b border-slate-200 bg-white">
        <nav className="mx-auto flex max-w-7xl items-center gap-6 px-6 py-3" aria-label="Main">
          <Link href="/browse" className="inline-flex items-center gap-2 font-semibold tracking-tight text-slate-900">
            <LockIcon className="h-5 w-5 text-emerald-600" />
            Secrets Dashboard
          </Link>
          <Link href="/browse" className="text-sm text-slate-600 hover:text-slate-900">
            Browse
          </Link>
          {isAuditor && (
            <Link href="/audit" className="text-sm text-slate-600 hover:text-slate-900">
              Audit log
            </Link>
          )}
          {isAdmin && (
            <>
              <Link href="/settings/users" className="text-sm text-slate-600 hover:text-slate-900">
                Users
              </Link>
              <Link href="/settings/tokens" className="text-sm text-slate-600 hover:text-slate-900">
                API tokens
              </Link>
            </>
          )}
          <span className="ml-auto text-sm text-slate-500" data-testid="current-user">
            {user.email}
            {user.role ? ` · ${user.role}` : ''}
          </span>
          <SignOutButton />
        </nav>
      </header>
      <main className="mx-auto w-full max-w-7xl flex-1 px-6 py-6">{children}</main>
    </div>
  );
}
