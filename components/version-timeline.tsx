import Link from 'next/link';
import type { ItemVersion } from '@/lib/stores/types';
import { RelativeTime } from './relative-time';

/**
 * Every version, newest first: when, by whom, with which labels. No values. With `compareHref`,
 * each version that has one before it links to what changed since that one.
 */
export function VersionTimeline({
  versions,
  current,
  compareHref,
}: {
  versions: ItemVersion[];
  current: string;
  compareHref?: (from: string, to: string) => string;
}) {
  return (
    <ol className="relative space-y-4 border-l border-slate-200 pl-5" aria-label="Version history">
      {versions.map((version, index) => (
        <li key={version.id} className="relative" data-testid="version">
          <span
            aria-hidden
            className={`absolute -left-[1.65rem] top-1.5 h-3 w-3 rounded-full border-2 border-white ${
              version.id === current ? 'bg-emerald-500' : 'bg-slate-300'
            }`}
          />
          <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1 text-sm">
            <span className="font-mono font-medium" title={version.id}>
              v{version.id.length > 12 ? `${version.id.slice(0, 8)}…` : version.id}
            </span>
            {version.id === current && <span className="text-xs font-medium text-emerald-700">current</span>}
            <span className="text-slate-600">
              <RelativeTime iso={version.createdAt} showDate />
            </span>
            <span className="text-slate-500">{version.createdBy ?? 'unknown author'}</span>
            {version.labels.map((label) => (
              <span key={label} className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700">
                {label}
              </span>
            ))}
            {compareHref && versions[index + 1] && (
              <Link
                href={compareHref(versions[index + 1]!.id, version.id)}
                className="text-xs text-slate-600 underline hover:text-slate-900 max-md:inline-flex max-md:min-h-11 max-md:items-center"
                aria-label={`What changed in v${version.id} since v${versions[index + 1]!.id}`}
              >
                What changed
              </Link>
            )}
          </div>
        </li>
      ))}
    </ol>
  );
}
