import { redirect } from 'next/navigation';
import { listStoreSummaries } from '@/lib/data/browse';

export const dynamic = 'force-dynamic';

export default async function BrowseIndex() {
  const [first] = await listStoreSummaries();
  if (!first) return <p className="text-slate-600">No stores are configured. Set CONFIG_FILE or remove it to use the built-in store.</p>;
  redirect(`/browse/${first.id}`);
}
