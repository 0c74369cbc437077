'use client';

import { useSyncExternalStore } from 'react';

// False in the server's HTML and while React hydrates it, true from then on (and at once for a
// component first drawn in the browser). The Content-Security-Policy refuses style="" attributes in
// server HTML (lib/http/content-security-policy.ts), while styles React sets in the browser go
// through the CSSOM and are allowed: components with computed positions or widths draw them only
// once this is true.

const subscribe = () => () => undefined;

export function useHydrated(): boolean {
  return useSyncExternalStore(
    subscribe,
    () => true,
    () => false,
  );
}
