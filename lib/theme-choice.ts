// The theme a person chose with the switch, kept in a cookie the browser sends with every request, so
// the server renders the page in that theme from its first byte. "system" (and anything unreadable)
// means no choice: the operating system's light or dark setting decides. No zod here: the theme switch
// and the global error page import this in the browser, and zod in a client bundle costs its size (the
// server parses the cookie with zod, lib/validations/theme.ts).

export const THEME_COOKIE = 'theme';
export const THEME_CHOICES = ['system', 'light', 'dark'] as const;
export type ThemeChoice = (typeof THEME_CHOICES)[number];

export const isThemeChoice = (value: unknown): value is ThemeChoice => (THEME_CHOICES as readonly unknown[]).includes(value);

/** The choice in a Cookie header's form (`a=1; theme=dark`, as document.cookie reads too); "system" without one. */
export function themeChoiceFromCookieHeader(header: string): ThemeChoice {
  const value = header
    .split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${THEME_COOKIE}=`))
    ?.slice(THEME_COOKIE.length + 1);
  return isThemeChoice(value) ? value : 'system';
}
