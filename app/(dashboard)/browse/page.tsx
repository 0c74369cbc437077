import { redirect } from 'next/navigation';
import { listStoreSummaries } from '@/lib/data/browse';
import { requireUser } from '@/lib/session';

export const dynamic = 'force-dynamic';

export default async function BrowseIndex() {
  const principal = await requireUser();
  const [first] = await listStoreSummaries(principal);
  if (!first)
    return (
      <p className="text-slate-600">
        You have no grants on any store yet. Ask an admin to grant you a role on the paths you need.
      </p>
    );
  redirect(`/browse/${first.id}`);
}
