import Link from 'next/link';
import { LockIcon } from '@/components/icons';
import { KeyboardShortcuts } from '@/components/keyboard-shortcuts';
import { MainMenu } from '@/components/main-menu';
import { SearchBox } from '@/components/search-box';
import { SignOutButton } from '@/components/sign-out-button';
import { SyncSummary } from '@/components/sync-summary';
import { ThemeSelect } from '@/components/theme-select';
import { can } from '@/lib/auth/authorize';
import { listInventoryStatuses } from '@/lib/data/browse';
import { requireUser } from '@/lib/session';
import { requestThemeChoice } from '@/lib/theme';

// Phones (below md): the brand and the menu button on the first line, the search on the second; the
// links and the account summary are in the menu. From md: all on one header line, search after the links.
const NAV_LINK = 'flex min-h-11 items-center rounded-md px-2 text-sm text-slate-600 hover:bg-slate-100 hover:text-slate-900 md:min-h-0 md:px-0 md:hover:bg-transparent';

export default async function DashboardLayout({ children }: { children: React.ReactNode }) {
  const user = await requireUser();
  const isAdmin = can(user, 'manage-users');
  const isAuditor = can(user, 'view-audit');
  const statuses = await listInventoryStatuses(user);
  const theme = await requestThemeChoice();
  return (
    <div className="flex min-h-screen flex-col">
      <header className="relative border-b border-slate-200 bg-white">
        <nav className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-2 sm:px-6 md:py-3" aria-label="Main">
          <Link href="/" className="inline-flex min-h-11 items-center gap-2 font-semibold tracking-tight text-slate-900 md:min-h-0">
            <LockIcon className="h-5 w-5 text-emerald-600" />
            Secrets Dashboard
          </Link>
          <MainMenu>
            <div className="flex flex-col md:flex-row md:items-center md:gap-x-6">
              <Link href="/" className={NAV_LINK}>
                Overview
              </Link>
              <Link href="/browse" className={NAV_LINK}>
                Browse
              </Link>
              {isAuditor && (
                <>
                  <Link href="/findings" className={NAV_LINK}>
                    Findings
                  </Link>
                  <Link href="/alerts" className={NAV_LINK}>
                    Alerts
                  </Link>
                  <Link href="/audit" className={NAV_LINK}>
                    Audit log
                  </Link>
                </>
              )}
              {isAdmin && (
                <>
                  <Link href="/settings/users" className={NAV_LINK}>
                    Users
                  </Link>
                  <Link href="/settings/tokens" className={NAV_LINK}>
                    API tokens
                  </Link>
                </>
              )}
            </div>
            <div className="flex flex-wrap items-center gap-x-3 gap-y-1 border-t border-slate-200 px-2 pt-2 md:order-2 md:ml-auto md:border-0 md:px-0 md:pt-0">
              <span className="flex min-w-0 flex-wrap items-center gap-x-3 text-sm text-slate-500">
                <SyncSummary statuses={statuses} />
                <span data-testid="current-user" className="break-all">
                  {user.email}
                  {user.role ? ` · ${user.role}` : ''}
                </span>
              </span>
              <ThemeSelect initial={theme} />
              <SignOutButton />
            </div>
          </MainMenu>
          <div className="order-last w-full md:order-1 md:w-72">
            <SearchBox />
          </div>
        </nav>
      </header>
      <main className="mx-auto w-full min-w-0 max-w-7xl flex-1 px-4 py-4 sm:px-6 md:py-6">{children}</main>
      <KeyboardShortcuts canAudit={isAuditor} />
    </div>
  );
}
