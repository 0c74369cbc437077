'use client';

import { useState } from 'react';
import { isThemeChoice, THEME_CHOICES, THEME_COOKIE, type ThemeChoice } from '@/lib/theme-choice';

// System / Light / Dark. A choice applies at once (the <html> attribute app/globals.css reads) and is
// kept in a cookie for a year, which the server reads to render later pages in it; "System" forgets
// the choice, so the operating system's setting decides again.

const LABELS: Record<ThemeChoice, string> = { system: 'System theme', light: 'Light theme', dark: 'Dark theme' };
const YEAR_SECONDS = 365 * 24 * 60 * 60;

function remember(choice: ThemeChoice) {
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  const lifetime = choice === 'system' ? 'Max-Age=0' : `Max-Age=${YEAR_SECONDS}`;
  document.cookie = `${THEME_COOKIE}=${choice}; Path=/; ${lifetime}; SameSite=Lax${secure}`;
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

export function ThemeSelect({ initial }: { initial: ThemeChoice }) {
  const [choice, setChoice] = useState(initial);
  return (
    <label className="inline-flex items-center gap-1 text-sm text-slate-600">
      <span className="sr-only">Theme</span>
      <select
        data-testid="theme-switch"
        value={choice}
        onChange={(event) => {
          const next = isThemeChoice(event.target.value) ? event.target.value : 'system';
          setChoice(next);
          remember(next);
        }}
        className="rounded-md border border-slate-300 bg-white px-1.5 py-0.5 text-sm text-slate-700"
      >
        {THEME_CHOICES.map((value) => (
          <option key={value} value={value}>
            {LABELS[value]}
          </option>
        ))}
      </select>
    </label>
  );
}
