import 'server-only';
import { cookies } from 'next/headers';
import { parseThemeChoice, THEME_COOKIE, type ThemeChoice } from '@/lib/validations/theme';

/** The theme this request's person chose (the theme cookie), or "system". */
export async function requestThemeChoice(): Promise<ThemeChoice> {
  return parseThemeChoice((await cookies()).get(THEME_COOKIE)?.value);
}
