import type { CSSProperties } from 'react';

// recharts' tooltip box is white with dark text whatever the page's theme; these take the palette's
// colours (CSS variables, set through the CSSOM after hydration, which the CSP allows).
export const CHART_TOOLTIP_STYLE: CSSProperties = {
  backgroundColor: 'var(--color-white)',
  borderColor: 'var(--color-slate-200)',
  color: 'var(--color-slate-900)',
};
