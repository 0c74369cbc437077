'use client';

import { useRouter } from 'next/navigation';
import { useEffect } from 'react';

/** Re-renders the page every `everyMs` while `running`, so a background job's progress moves on screen. */
export function RefreshWhileRunning({ running, everyMs = 3000 }: { running: boolean; everyMs?: number }) {
  const router = useRouter();
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => router.refresh(), everyMs);
    return () => clearInterval(timer);
  }, [running, everyMs, router]);
  return null;
}
