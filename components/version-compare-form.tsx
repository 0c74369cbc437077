import type { ItemVersion } from '@/lib/stores/types';

// Picks two versions of an item to compare: a plain GET form (?from=…&to=…), so a comparison has
// its own address and works before the page's scripts run.

const SELECT = 'w-full min-w-0 rounded border border-slate-300 px-2 py-1 font-mono text-sm';

const optionLabel = (v: ItemVersion, current: string) =>
  `v${v.id.length > 12 ? `${v.id.slice(0, 8)}…` : v.id} · ${v.createdAt.slice(0, 10)}${v.id === current ? ' · current' : ''}${v.labels.length ? ` · ${v.labels.join(', ')}` : ''}`;

export function VersionCompareForm({
  action,
  versions,
  current,
  from,
  to,
}: {
  /** The item's own address: the form replaces only its query. */
  action: string;
  /** Newest first. */
  versions: ItemVersion[];
  current: string;
  from?: string;
  to?: string;
}) {
  if (versions.length < 2) return null;
  // By default the newest version against the one before it.
  const defaultTo = to ?? versions[0]!.id;
  const defaultFrom = from ?? versions[1]!.id;
  return (
    <form method="get" action={action} className="flex flex-wrap items-end gap-2" aria-label="Compare two versions" data-testid="version-compare-form">
      <label className="min-w-0 flex-1 space-y-0.5 text-xs text-slate-600">
        <span>From (before)</span>
        <select name="from" defaultValue={defaultFrom} className={SELECT}>
          {versions.map((v) => (
            <option key={v.id} value={v.id}>
              {optionLabel(v, current)}
            </option>
          ))}
        </select>
      </label>
      <label className="min-w-0 flex-1 space-y-0.5 text-xs text-slate-600">
        <span>To (after)</span>
        <select name="to" defaultValue={defaultTo} className={SELECT}>
          {versions.map((v) => (
            <option key={v.id} value={v.id}>
              {optionLabel(v, current)}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="rounded bg-slate-900 px-3 py-1.5 text-sm font-medium text-white hover:bg-slate-700">
        Compare
      </button>
    </form>
  );
}
