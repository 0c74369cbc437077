import Link from 'next/link';
import { headers } from 'next/headers';

function describe(path: string, query: string): string {
  const [area, store, ...rest] = path.split('/').filter(Boolean);
  const name = `/${rest.join('/')}`;
  if (area === 'browse' && store) return rest.length ? `There is no folder ${name}/ in store “${store}”.` : `There is no store “${store}”.`;
  if (area === 'items' && store) {
    // The same words whether the item or a version is missing: nothing tells who may not see the item that it exists.
    const compared = new URLSearchParams(query);
    const versions = [compared.get('from'), compared.get('to')].filter((v): v is string => v !== null);
    const what = `There is no item ${name} in store “${store}” (or no such store)`;
    return versions.length === 2 ? `${what}, or it has no version “${versions[0]}” or no version “${versions[1]}” to compare: pick two from its version history.` : `${what}.`;
  }
  return `Nothing lives at ${path}.`;
}

export default async function NotFound() {
  const requestHeaders = await headers();
  const path = requestHeaders.get('x-request-path') ?? '';
  const query = requestHeaders.get('x-request-query') ?? '';
  return (
    <main className="mx-auto max-w-2xl px-6 py-16">
      <p className="text-sm text-slate-500">404 · Not found</p>
      <h1 className="mt-2 text-2xl font-semibold">Not found</h1>
      <p className="mt-3 break-all">
        <code className="rounded bg-slate-200 px-1.5 py-0.5">{path || 'this address'}</code>
      </p>
      <p className="mt-3 text-slate-700">{path ? describe(path, query) : 'This page does not exist.'}</p>
      <p className="mt-6">
        <Link href="/browse" className="underline">
          Back to browsing
        </Link>
      </p>
    </main>
  );
}
