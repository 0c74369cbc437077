import type { ItemVersion } from '@/lib/stores/types';

// Picks two versions of an item to compare: a plain GET form (?from=…&to=…), so a comparison has
// its own address and works before the page's scripts run.

const optionLabel = (v: ItemVersion, current: string) =>
  `v${v.id.length > 12 ? `${v.id.slice(0, 8)}…` : v.id} · ${v.createdAt.slice(0, 10)}${v.id === current ? ' · current' : ''}${v.labels.length ? ` · ${v.labels.join(', ')}` : ''}`;

/** One of the two pickers: every version, labelled with its date, whether it is current and its labels. */
function VersionSelect({ name, label, versions, current, defaultValue }: { name: string; label: string; versions: ItemVersion[]; current: string; defaultValue: string }) {
  return (
    <label className="min-w-0 flex-1 space-y-0.5 text-xs text-slate-600">
      <span>{label}</span>
      {/* Below md a thumb's height (44 px). */}
      <select name={name} defaultValue={defaultValue} className="min-h-11 w-full min-w-0 rounded border border-slate-300 px-2 py-1 font-mono text-sm md:min-h-0">
        {versions.map((v) => (
          <option key={v.id} value={v.id}>
            {optionLabel(v, current)}
          </option>
        ))}
      </select>
    </label>
  );
}

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
      <VersionSelect name="from" label="From (before)" versions={versions} current={current} defaultValue={defaultFrom} />
      <VersionSelect name="to" label="To (after)" versions={versions} current={current} defaultValue={defaultTo} />
      <button type="submit" className="min-h-11 rounded bg-slate-900 px-3 py-1.5 text-sm font-medium text-white hover:bg-slate-700 md:min-h-0">
        Compare
      </button>
    </form>
  );
}
