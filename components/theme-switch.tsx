import { cookies } from 'next/headers';
import { parseThemeChoice, THEME_COOKIE } from '@/lib/validations/theme';
import { ThemeSelect } from './theme-select';

// The theme switch as the server renders it: already showing the choice the page was rendered with.
export async function ThemeSwitch() {
  const choice = parseThemeChoice((await cookies()).get(THEME_COOKIE)?.value);
  return <ThemeSelect initial={choice} />;
}
