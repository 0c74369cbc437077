import type { CSSProperties, ReactNode } from 'react';

// recharts draws its tooltip white with each line in its series' colour, and its legend's words in
// the series' colours too: unreadable in the dark theme, and under AA contrast for the lighter bars in
// the light one. These take the palette's text and surface colours instead (CSS variables, set through
// the CSSOM after hydration, which the CSP allows); the coloured swatch beside each name stays.

export const CHART_TOOLTIP_PROPS: { contentStyle: CSSProperties; itemStyle: CSSProperties; labelStyle: CSSProperties } = {
  contentStyle: { backgroundColor: 'var(--color-white)', borderColor: 'var(--color-slate-200)' },
  itemStyle: { color: 'var(--color-slate-900)' },
  labelStyle: { color: 'var(--color-slate-900)' },
};

/** A legend entry's name in the page's text colour (recharts' Legend formatter). */
export function chartLegendText(name: ReactNode): ReactNode {
  return <span className="text-slate-700">{name}</span>;
}
