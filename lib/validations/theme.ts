import { z } from 'zod';

// The theme a person chose with the switch, kept in a cookie the browser sends with every request, so
// the server renders the page in that theme from its first byte. "system" (and anything unreadable)
// means no choice: the operating system's light or dark setting decides.

export const THEME_COOKIE = 'theme';
export const THEME_CHOICES = ['system', 'light', 'dark'] as const;
export type ThemeChoice = (typeof THEME_CHOICES)[number];

export const themeChoiceSchema = z.enum(THEME_CHOICES);

/** The cookie's value as a choice; a missing, unknown or tampered value is "system". */
export function parseThemeChoice(value: unknown): ThemeChoice {
  const parsed = themeChoiceSchema.safeParse(value);
  return parsed.success ? parsed.data : 'system';
}

/** The choice in a Cookie header's form (`a=1; theme=dark`, as document.cookie reads too). */
export function themeChoiceFromCookieHeader(header: string): ThemeChoice {
  const pair = header
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${THEME_COOKIE}=`));
  return parseThemeChoice(pair?.slice(THEME_COOKIE.length + 1));
}
