'use client';

import { useState } from 'react';
import { ActionForm } from '@/components/action-form';
import { createApiTokenAction } from '@/lib/actions/create-api-token';

/** Creates a token and shows it once; after this page is left it cannot be seen again. */
export function CreateTokenForm({ users }: { users: { id: string; email: string }[] }) {
  const [created, setCreated] = useState<{ token: string; expiresAt: string } | null>(null);
  return (
    <div className="space-y-3">
      <ActionForm action={createApiTokenAction} submitLabel="Create token" onDone={setCreated} className="flex flex-wrap items-end gap-3">
        {/* A long address must not widen the page on a phone: the select shrinks to the screen. */}
        <label className="min-w-0 max-w-full text-sm">
          <span className="block text-slate-600">Acts as</span>
          <select name="userId" required className="max-w-full rounded-md border border-slate-300 px-2 py-1.5">
            {users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.email}
              </option>
            ))}
          </select>
        </label>
        <label className="text-sm">
          <span className="block text-slate-600">Name</span>
          <input name="name" required maxLength={100} placeholder="ci-deploy" className="rounded-md border border-slate-300 px-2 py-1.5" />
        </label>
        <label className="text-sm">
          <span className="block text-slate-600">Expires in (days)</span>
          <input name="expiresInDays" type="number" min={1} max={365} defaultValue={30} required className="w-24 rounded-md border border-slate-300 px-2 py-1.5" />
        </label>
      </ActionForm>
      {created && (
        <div role="status" className="rounded-md border border-emerald-200 bg-emerald-50 p-3 text-sm">
          <p className="font-medium text-emerald-900">Copy this token now: it is shown only once.</p>
          <code data-testid="new-token" className="mt-2 block break-all rounded bg-white px-2 py-1 font-mono">
            {created.token}
          </code>
          <p className="mt-1 text-emerald-800">Expires {new Date(created.expiresAt).toUTCString()}.</p>
        </div>
      )}
    </div>
  );
}
