import { z } from 'zod';
import { THEME_CHOICES, type ThemeChoice } from '@/lib/theme-choice';

export { THEME_CHOICES, THEME_COOKIE, type ThemeChoice } from '@/lib/theme-choice';

export const themeChoiceSchema = z.enum(THEME_CHOICES);

/** The theme cookie's value as a choice; a missing, unknown or tampered value is "system". */
export function parseThemeChoice(value: unknown): ThemeChoice {
  const parsed = themeChoiceSchema.safeParse(value);
  return parsed.success ? parsed.data : 'system';
}
