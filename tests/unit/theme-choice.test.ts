import { describe, expect, it } from 'vitest';
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
