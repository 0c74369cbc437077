import { RelativeTime } from '@/components/relative-time';
import type { RotationState } from '@/lib/data/rotation-state';

/** A rotation that did not finish: AWSPENDING left behind, and the last failure CloudTrail recorded. */
export function RotationStatePanel({ state }: { state: RotationState }) {
  return (
    <section role="alert" aria-label="Rotation problem" className="space-y-1 rounded-lg border border-red-200 bg-red-50 p-4 text-sm text-red-900">
      <h2 className="font-semibold">Rotation did not finish</h2>
      {state.pending && (
        <p>
          Version <span className="break-all font-mono text-xs">{state.pending.version}</span> has been AWSPENDING since{' '}
          <RelativeTime iso={state.pending.createdAt} />: a rotation started and was never promoted to AWSCURRENT. A new rotation is refused until it
          finishes or AWSPENDING is removed.
        </p>
      )}
      {state.lastFailure && (
        <p>
          Last failure (CloudTrail {state.lastFailure.event}, <RelativeTime iso={state.lastFailure.at} />)
          {state.lastFailure.errorCode ? `: ${state.lastFailure.errorCode}` : ''}
          {state.lastFailure.errorMessage ? ` — ${state.lastFailure.errorMessage}` : ''}
        </p>
      )}
    </section>
  );
}
