import type { FieldChange, VersionDiff } from '@/lib/data/version-diff';
import { RelativeTime } from './relative-time';

// What changed between two versions of an item: each field that differs, before and after; which
// fields are the same; which the store keeps no record of (and why); and for the built-in store
// whether the value changed. Never a value, never a fingerprint: the server sends only the verdict.

const VALUE_VERDICT: Record<VersionDiff['value'], string> = {
  changed: 'Value changed',
  unchanged: 'Value unchanged',
  'not-compared': 'Values are not compared: browsing an AWS store never reads them.',
};

const shortId = (id: string) => (id.length > 12 ? `${id.slice(0, 8)}…` : id);

function Side({ change, side }: { change: FieldChange; side: 'before' | 'after' }) {
  const text = change[side];
  if (text === null) return <span className="text-slate-600">(none)</span>;
  if (change.format === 'date') return <RelativeTime iso={text} showDate />;
  return <span className="break-all font-mono text-xs">{text}</span>;
}

export function VersionDiffPanel({ diff }: { diff: VersionDiff }) {
  const { from, to } = diff;
  return (
    <section className="space-y-3 rounded-md border border-slate-200 bg-slate-50 p-3" aria-labelledby="version-diff-heading" data-testid="version-diff">
      <h3 id="version-diff-heading" className="font-semibold">
        What changed from <span className="font-mono" title={from.id}>v{shortId(from.id)}</span> to{' '}
        <span className="font-mono" title={to.id}>v{shortId(to.id)}</span>
      </h3>
      <p
        className={`text-sm font-medium ${diff.value === 'changed' ? 'text-amber-800' : diff.value === 'unchanged' ? 'text-emerald-800' : 'text-slate-600'}`}
        data-testid="value-verdict"
      >
        {VALUE_VERDICT[diff.value]}
      </p>
      {diff.changes.length > 0 ? (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm" data-testid="version-changes">
            <caption className="sr-only">Fields that differ between the two versions</caption>
            <thead className="text-xs text-slate-600">
              <tr>
                <th scope="col" className="py-1 pr-3 font-medium">Field</th>
                <th scope="col" className="py-1 pr-3 font-medium">Before (v{shortId(from.id)})</th>
                <th scope="col" className="py-1 font-medium">After (v{shortId(to.id)})</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-200">
              {diff.changes.map((change) => (
                <tr key={change.field} data-testid="version-change">
                  <th scope="row" className="py-1 pr-3 align-top font-normal text-slate-700">{change.field}</th>
                  <td className="py-1 pr-3 align-top"><Side change={change} side="before" /></td>
                  <td className="py-1 align-top"><Side change={change} side="after" /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p className="text-sm text-slate-700">No metadata differs.</p>
      )}
      {diff.unchanged.length > 0 && (
        <p className="text-xs text-slate-600" data-testid="version-unchanged">
          The same in both: {diff.unchanged.join(', ')}.
        </p>
      )}
      {diff.notRecordedWhy && (
        <p className="text-xs text-slate-600" data-testid="version-not-recorded">
          Not compared ({diff.notRecorded.join(', ')}): {diff.notRecordedWhy}
        </p>
      )}
    </section>
  );
}
