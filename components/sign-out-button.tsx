'use client';

import { signOut } from 'next-auth/react';

export function SignOutButton() {
  return (
    <button type="button" onClick={() => signOut({ callbackUrl: '/sign-in' })} className="min-h-11 px-2 text-sm text-slate-600 hover:text-slate-900 md:min-h-0 md:px-0">
      Sign out
    </button>
  );
}
