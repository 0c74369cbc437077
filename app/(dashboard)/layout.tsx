import Link from 'next/link';
import { LockIcon } from '@/components/icons';
import { SearchBox } from '@/components/search-box';
import { SignOutButton } from '@/components/sign-out-button';
import { SyncSummary } from '@/components/sync-summary';
import { ThemeSwitch } from '@/components/theme-switch';
import { can } from '@/lib/auth/authorize';
import { listInventoryStatuses } from '@/lib/data/browse';
import { requireUser } from '@/lib/session';

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  const isAdmin = can(user, 'manage-users');
  const isAuditor = can(user, 'view-audit');
  const statuses = await listInventoryStatuses(user);
  return (
    <div className="flex min-h-screen flex-col">
      <header className="border-b border-slate-200 bg-white">
        <nav className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3 sm:px-6" aria-label="Main">
          <Link href="/" className="inline-flex items-center gap-2 font-semibold tracking-tight text-slate-900">
            <LockIcon className="h-5 w-5 text-emerald-600" />
            Secrets Dashboard
          </Link>
          <Link href="/" className="text-sm text-slate-600 hover:text-slate-900">
            Overview
          </Link>
          <Link href="/browse" className="text-sm text-slate-600 hover:text-slate-900">
            Browse
          </Link>
          {isAuditor && (
            <>
              <Link href="/findings" className="text-sm text-slate-600 hover:text-slate-900">
                Findings
              </Link>
              <Link href="/alerts" className="text-sm text-slate-600 hover:text-slate-900">
                Alerts
              </Link>
              <Link href="/audit" className="text-sm text-slate-600 hover:text-slate-900">
                Audit log
              </Link>
            </>
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
          <div className="order-last w-full md:order-none md:w-72">
            <SearchBox />
          </div>
          <span className="ml-auto flex min-w-0 flex-wrap items-center gap-x-3 text-sm text-slate-500">
            <SyncSummary statuses={statuses} />
            <span data-testid="current-user" className="break-all">
              {user.email}
              {user.role ? ` · ${user.role}` : ''}
            </span>
          </span>
          <ThemeSwitch />
          <SignOutButton />
        </nav>
      </header>
      <main className="mx-auto w-full min-w-0 max-w-7xl flex-1 px-4 py-6 sm:px-6">{children}</main>
    </div>
  );
}
