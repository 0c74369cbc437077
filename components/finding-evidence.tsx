import { RelativeTime } from '@/components/relative-time';
import { controlOf } from '@/lib/findings/controls';
import type { ControlId, FindingEvidence as Evidence } from '@/lib/findings/types';

// What a finding rests on and what to do about it: its evidence (dates, principals, facts), the
// control's remediation (from the catalogue) and a link to the control (its description and
// references). Metadata only, as the DTO is. Drawn in the browser when a row's details are opened.

/** "lastRotatedAt" -> "last rotated at". */
function label(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
}

function When({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="text-slate-500">—</span>;
  return Number.isNaN(Date.parse(iso)) ? <span className="font-mono">{iso}</span> : <RelativeTime iso={iso} showDate />;
}

export function FindingEvidence({ control: controlId, evidence }: { control: ControlId; evidence: Evidence }) {
  const control = controlOf(controlId);
  const dates = Object.entries(evidence.dates ?? {});
  const facts = Object.entries(evidence.facts ?? {});
  return (
    <div className="space-y-3 text-sm" data-testid="finding-evidence">
      {(dates.length > 0 || facts.length > 0) && (
        <dl className="grid grid-cols-[minmax(0,12rem)_minmax(0,1fr)] gap-x-3 gap-y-1">
          {dates.map(([key, iso]) => (
            <div key={`d-${key}`} className="contents">
              <dt className="text-slate-500">{label(key)}</dt>
              <dd className="min-w-0 break-words">
                <When iso={iso} />
              </dd>
            </div>
          ))}
          {facts.map(([key, value]) => (
            <div key={`f-${key}`} className="contents">
              <dt className="text-slate-500">{label(key)}</dt>
              <dd className="min-w-0 break-all font-mono text-xs">{value === null ? '—' : String(value)}</dd>
            </div>
          ))}
        </dl>
      )}
      {evidence.principals && evidence.principals.length > 0 && (
        <div>
          <p className="text-slate-500">Principals</p>
          <ul className="space-y-0.5" data-testid="finding-principals">
            {evidence.principals.map((p) => (
              <li key={p.principal} className="min-w-0 break-all">
                <span className="font-mono text-xs">{p.principal}</span>
                {p.firstSeenAt && (
                  <span className="text-xs text-slate-500">
                    {' '}
                    · first <When iso={p.firstSeenAt} />
                  </span>
                )}
                {p.lastSeenAt && (
                  <span className="text-xs text-slate-500">
                    {' '}
                    · last <When iso={p.lastSeenAt} />
                  </span>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div>
        <p className="text-slate-500">What to do</p>
        <p className="break-words text-slate-800" data-testid="finding-remediation">
          {control.remediation}
        </p>
      </div>
      {/* The control's description and references stand once in the findings page's control table, not in every row. */}
      <p className="text-xs">
        <a href={`/findings?control=${control.id}#control-${control.id}`} className="text-sky-700 underline" data-testid="finding-control-link">
          About this control and the checks it follows
        </a>
      </p>
    </div>
  );
}
