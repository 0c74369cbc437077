'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';

// Follows a Secrets Manager rotation the user just started: the new version is AWSPENDING until the
// secret's rotation function promotes it to AWSCURRENT. Polls the stages (metadata only) every two
// seconds for up to three minutes, then says what it saw.

const POLL_MS = 2_000;
const GIVE_UP_MS = 180_000;

type State = 'pending' | 'current' | 'gone' | 'stuck' | 'error';

export function RotationProgress({ storeId, name, version }: { storeId: string; name: string; version: string }) {
  const router = useRouter();
  const [state, setState] = useState<State>('pending');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const started = Date.now();
    const url = `/api/v1/stores/${encodeURIComponent(storeId)}/rotation${name.split('/').map(encodeURIComponent).join('/')}?version=${encodeURIComponent(version)}`;
    const poll = async () => {
      if (stopped) return;
      try {
        const res = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
        const body = (await res.json()) as { state?: 'pending' | 'current' | 'gone'; error?: string };
        if (!res.ok) {
          setState('error');
          setError(body.error ?? `The rotation state could not be read (HTTP ${res.status}).`);
          return;
        }
        if (body.state === 'current' || body.state === 'gone') {
          setState(body.state);
          router.refresh();
          return;
        }
      } catch {
        // A dropped poll is retried on the next tick.
      }
      if (Date.now() - started > GIVE_UP_MS) {
        setState('stuck');
        router.refresh();
        return;
      }
      setTimeout(poll, POLL_MS);
    };
    const first = setTimeout(poll, POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(first);
    };
  }, [storeId, name, version, router]);

  const short = version.slice(0, 8);
  return (
    <p role="status" aria-live="polite" className="text-sm" data-rotation-state={state}>
      {state === 'pending' && <span className="text-slate-700">Rotating: version {short}… is AWSPENDING; waiting for the rotation function to promote it to AWSCURRENT.</span>}
      {state === 'current' && <span className="text-emerald-700">Rotation finished: version {short}… is AWSCURRENT.</span>}
      {state === 'gone' && <span className="text-amber-800">Version {short}… is neither AWSPENDING nor AWSCURRENT any more; the rotation was abandoned or superseded.</span>}
      {state === 'stuck' && (
        <span className="text-red-700">Still AWSPENDING after three minutes: the rotation function has probably failed. See the rotation state on this page and the secret&apos;s CloudTrail events.</span>
      )}
      {state === 'error' && <span className="text-red-700">{error}</span>}
    </p>
  );
}
