import { describe, expect, it } from 'vitest';
import { themeChoiceFromCookieHeader } from '@/lib/theme-choice';
import { parseThemeChoice } from '@/lib/validations/theme';

// The theme cookie is whatever the browser sends: only the three choices count, anything else is no
// choice (the system setting decides), and nothing it holds reaches the page's HTML.

describe('parseThemeChoice', () => {
  it.each(['system', 'light', 'dark'] as const)('takes the choice %s', (value) => {
    expect(parseThemeChoice(value)).toBe(value);
  });

  it.each([
    ['no cookie', undefined],
    ['an empty value', ''],
    ['another case', 'Dark'],
    ['padding', ' dark'],
    ['an unknown theme', 'purple'],
    ['markup', '"><script>alert(1)</script>'],
    ['a list', ['dark']],
    ['a number', 1],
  ])('reads %s as system', (_, value) => {
    expect(parseThemeChoice(value)).toBe('system');
  });
});

// app/global-error.tsx reads the choice from document.cookie (it replaces the root layout that reads it on the server).
describe('themeChoiceFromCookieHeader', () => {
  it.each([
    ['theme=dark', 'dark'],
    ['a=1; theme=light; b=2', 'light'],
    ['next-auth.session-token=x;theme=dark', 'dark'],
  ] as const)('finds the choice in %s', (header, choice) => {
    expect(themeChoiceFromCookieHeader(header)).toBe(choice);
  });

  it.each([
    ['no cookies', ''],
    ['no theme cookie', 'a=1; b=2'],
    ['a cookie whose name only ends in theme', 'xtheme=dark'],
    ['an unknown theme', 'theme=purple'],
    ['an encoded value', 'theme=%64ark'],
  ])('reads %s as system', (_, header) => {
    expect(themeChoiceFromCookieHeader(header)).toBe('system');
  });
});
