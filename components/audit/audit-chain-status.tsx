import { RelativeTime } from '@/components/relative-time';
import type { AuditChainStatus as Status } from '@/lib/data/audit';
import { verifyAuditChainAction } from '@/lib/actions/verify-audit-chain';
import { FullPassButton } from './full-pass-button';
import { RefreshWhileRunning } from './refresh-while-running';

// The audit chain's state on /audit: whether it verifies (a break named with who found it), how far
// new entries are verified, the last full pass (or its progress while it runs), the last anchor.
// All of it is the kept verdict: the page never waits for a whole pass.

const n = (value: number) => value.toLocaleString('en-US');

function FullPassLine({ chain }: { chain: Status }) {
  const pass = chain.fullPass;
  const every = `every ${chain.fullPassEveryHours} h`;
  if (!pass) return <>No full pass yet (one runs in the background {every}).</>;
  if (pass.state === 'running') {
    const percent = pass.total > 0 ? Math.min(100, Math.floor((pass.checked / pass.total) * 100)) : 0;
    return (
      <>
        Full pass running: {n(pass.checked)} of {n(pass.total)} entries checked ({percent}%), started <RelativeTime iso={pass.startedAt} />
        <progress className="ml-2 h-2 w-24 align-middle" max={Math.max(pass.total, 1)} value={pass.checked} aria-label="Full pass progress" />
      </>
    );
  }
  const when = pass.finishedAt ? <RelativeTime iso={pass.finishedAt} /> : null;
  if (pass.state === 'intact') return <>Last full pass {when}: intact, {n(pass.checked)} entries (again {every}).</>;
  if (pass.state === 'broken') return <span className="text-red-700">Last full pass {when}: broken at entry #{pass.brokenAt !== null ? n(pass.brokenAt) : '?'} after {n(pass.checked)} verified entries.</span>;
  return <span className="text-red-700">Last full pass {when} could not finish: {pass.error ?? 'unknown error'}.</span>;
}

export function AuditChainStatus({ chain }: { chain: Status }) {
  const keyedNote =
    chain.keyedFromSeq && chain.keyedFromSeq > 1 ? `; the ${n(chain.keyedFromSeq - 1)} written before the chain was keyed use plain SHA-256` : '';
  return (
    <div className="space-y-0.5 text-right text-sm">
      <RefreshWhileRunning running={chain.fullPass?.state === 'running'} />
      <p data-testid="audit-chain" className={chain.intact ? 'text-emerald-700' : 'font-medium text-red-700'}>
        {chain.brokenAt !== null
          ? `Keyed hash chain broken at entry #${chain.brokenAt}: ${chain.problem ?? 'entries were altered or removed'}`
          : chain.verdictAlteredAt
            ? 'The kept verification record was altered (it does not verify under the audit chain key): the chain is being verified again from the first entry'
            : `Keyed hash chain intact (${n(chain.entries ?? 0)} dashboard entries${keyedNote})`}
      </p>
      {chain.brokenAt !== null && chain.breakFoundAt && (
        <p data-testid="audit-chain-break" className="text-xs text-red-700">
          Found by {chain.breakFoundBy === 'full-pass' ? 'the full pass' : 'the check of new entries'} <RelativeTime iso={chain.breakFoundAt} />; new entries are still checked as they come.
        </p>
      )}
      <p data-testid="audit-chain-verified" className="text-xs text-slate-600">
        {chain.verifiedUpTo ? (
          <>
            New entries verified up to #{n(chain.verifiedUpTo.seq)} (<RelativeTime iso={chain.verifiedUpTo.at} />)
            {chain.pendingEntries > 0 && `; ${n(chain.pendingEntries)} more to check`}
          </>
        ) : (
          'No entries verified yet.'
        )}
      </p>
      <p data-testid="audit-chain-full-pass" className="text-xs text-slate-600">
        <FullPassLine chain={chain} />
      </p>
      {chain.mayRunFullPass && chain.fullPass?.state !== 'running' && <FullPassButton action={verifyAuditChainAction} />}
      <p data-testid="audit-anchor" className="text-xs text-slate-600">
        {chain.lastAnchor ? (
          <>
            Last anchor: entry #{n(chain.lastAnchor.seq)}, <RelativeTime iso={chain.lastAnchor.anchoredAt} />, in the server log
            {chain.lastAnchor.s3Url && (
              <>
                {' '}
                and <span className="font-mono break-all">{chain.lastAnchor.s3Url}</span>
                {chain.lastAnchor.objectLockUntil && ` (Object Lock until ${chain.lastAnchor.objectLockUntil.slice(0, 10)})`}
              </>
            )}
            {chain.lastAnchor.s3Error && <span className="block text-red-700">Not written to S3: {chain.lastAnchor.s3Error}</span>}
          </>
        ) : (
          `No anchor yet: the head is anchored every ${n(chain.anchorEvery)} entries and every ${chain.anchorIntervalMinutes} minutes${
            chain.anchorBucket ? ` (server log and s3://${chain.anchorBucket})` : ' (server log)'
          }.`
        )}
      </p>
    </div>
  );
}
