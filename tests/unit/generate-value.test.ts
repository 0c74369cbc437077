import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BASE64URL_ALPHABET,
  CLASS_CHARACTERS,
  classCharacters,
  HEX_ALPHABET,
  LOOK_ALIKE_CHARACTERS,
  PASSWORD_CLASSES,
  type PasswordClass,
} from '@/lib/secrets/generate-presets';
import { DEFAULT_ROTATE_SPEC, generateSecretValue, type GenerateSpec } from '@/lib/secrets/generate-value';
import { generateInputSchema, generateSpecSchema, revealInputSchema, rotateInputSchema } from '@/lib/validations/generate';

const password = (length: number, classes: PasswordClass[] = [...PASSWORD_CLASSES], noLookAlike = false): GenerateSpec => ({
  preset: 'password',
  length,
  classes,
  noLookAlike,
});

const classOf = (c: string) => PASSWORD_CLASSES.find((cls) => CLASS_CHARACTERS[cls].includes(c));

/** Pearson's chi-square statistic of the characters of `text` against a uniform draw over `alphabet`. */
function chiSquare(text: string, alphabet: string): number {
  const counts = new Map<string, number>([...alphabet].map((c) => [c, 0]));
  for (const c of text) {
    const n = counts.get(c);
    if (n === undefined) throw new Error(`${JSON.stringify(c)} is not in the alphabet`);
    counts.set(c, n + 1);
  }
  const expected = text.length / alphabet.length;
  return [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
}

describe('every preset has its shape', () => {
  it.each([8, 9, 32, 4096])('a password of length %i holds every class and nothing else', (length) => {
    const value = generateSecretValue(password(length));
    expect(value).toHaveLength(length);
    for (const c of value) expect(classOf(c)).toBeDefined();
    for (const cls of PASSWORD_CLASSES) expect([...value].some((c) => classOf(c) === cls)).toBe(true);
  });

  it('a password of only the chosen classes holds each of them, over many draws', () => {
    const chosen: PasswordClass[] = ['digits', 'symbols'];
    for (let i = 0; i < 2000; i++) {
      const value = generateSecretValue(password(8, chosen));
      expect(value).toHaveLength(8);
      expect(new Set([...value].map(classOf))).toEqual(new Set(chosen));
    }
  });

  it('every class in every 8-character password of all four classes, over many draws', () => {
    for (let i = 0; i < 2000; i++) {
      expect(new Set([...generateSecretValue(password(8))].map(classOf)).size).toBe(4);
    }
  });

  it('no look-alike characters when asked, and still every class', () => {
    const value = [...Array(200)].map(() => generateSecretValue(password(64, [...PASSWORD_CLASSES], true))).join('');
    for (const c of '0Oo1lI|`\'"') expect(value).not.toContain(c);
    for (const c of LOOK_ALIKE_CHARACTERS) expect(value).not.toContain(c);
    // Everything else of the classes does come up.
    const allowed = PASSWORD_CLASSES.map((cls) => classCharacters(cls, true)).join('');
    expect(new Set(value)).toEqual(new Set(allowed));
  });

  it('look-alikes do come up when not excluded (so the test above can fail)', () => {
    const value = generateSecretValue(password(4096));
    expect([...'0O1lI|'].some((c) => value.includes(c))).toBe(true);
  });

  it.each([8, 33, 4096])('hex of length %i', (length) => {
    expect(generateSecretValue({ preset: 'hex', length })).toMatch(new RegExp(`^[0-9a-f]{${length}}$`));
  });

  it.each([8, 33, 4096])('base64url of length %i', (length) => {
    expect(generateSecretValue({ preset: 'base64url', length })).toMatch(new RegExp(`^[A-Za-z0-9_-]{${length}}$`));
  });

  it('a UUID is version 4, RFC 9562 variant, and new each time', () => {
    const a = generateSecretValue({ preset: 'uuid' });
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(generateSecretValue({ preset: 'uuid' })).not.toBe(a);
  });

  it('a 256-bit key is 32 random bytes in base64', () => {
    const key = generateSecretValue({ preset: 'key-256' });
    expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(generateSecretValue({ preset: 'key-256' })).not.toBe(key);
  });

  it('the default rotation is a 32-character password of every class', () => {
    expect(DEFAULT_ROTATE_SPEC).toEqual({ preset: 'password', length: 32, classes: ['lower', 'upper', 'digits', 'symbols'], noLookAlike: false });
    expect(generateSecretValue(DEFAULT_ROTATE_SPEC)).toHaveLength(32);
  });

  it.each([
    [password(7), /from 8 to 4096 \(got 7\)/],
    [password(4097), /from 8 to 4096 \(got 4097\)/],
    [{ preset: 'hex', length: 12.5 }, /got 12.5/],
    [password(16, []), /at least one character class/],
    [{ preset: 'emoji' }, /Unknown preset "emoji"/],
  ])('refuses a bad spec it is handed directly: %j', (spec, message) => {
    expect(() => generateSecretValue(spec as GenerateSpec)).toThrow(message);
  });

  it('is quick at the largest length', () => {
    const started = performance.now();
    for (let i = 0; i < 50; i++) generateSecretValue(password(4096));
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('draws are uniform', () => {
  // Chi-square bounds far in the tail (about 8 standard deviations above the mean of the
  // distribution), so a fair generator practically never fails, while a modulo bias (the first
  // 256 % n characters drawn a quarter more often) or a stuck character lands far above them.
  it('hex: chi-square over 16 characters', () => {
    const sample = [...Array(40)].map(() => generateSecretValue({ preset: 'hex', length: 4096 })).join('');
    expect(chiSquare(sample, HEX_ALPHABET)).toBeLessThan(15 + 8 * Math.sqrt(30));
  });

  it('base64url: chi-square over 64 characters', () => {
    const sample = [...Array(40)].map(() => generateSecretValue({ preset: 'base64url', length: 4096 })).join('');
    expect(chiSquare(sample, BASE64URL_ALPHABET)).toBeLessThan(63 + 8 * Math.sqrt(126));
  });

  it('password: chi-square over all 90 characters of the four classes', () => {
    const alphabet = PASSWORD_CLASSES.map((cls) => CLASS_CHARACTERS[cls]).join('');
    const sample = [...Array(60)].map(() => generateSecretValue(password(4096))).join('');
    expect(chiSquare(sample, alphabet)).toBeLessThan(alphabet.length - 1 + 8 * Math.sqrt(2 * (alphabet.length - 1)));
  });

  it('the bound does catch a modulo bias (so the tests above can fail)', () => {
    // `byte % n` draws the first 256 % n characters (76 of 90) half as often again as the rest.
    const alphabet = PASSWORD_CLASSES.map((cls) => CLASS_CHARACTERS[cls]).join('');
    const biased = [...randomBytes(60 * 4096)].map((byte) => alphabet[byte % alphabet.length]).join('');
    expect(chiSquare(biased, alphabet)).toBeGreaterThan(alphabet.length - 1 + 8 * Math.sqrt(2 * (alphabet.length - 1)));
  });

  it('no class owns a position: every position of short passwords has the same mix of classes', () => {
    // Whole-value rejection keeps the positions exchangeable; placing one character of each class
    // at set positions (then filling the rest) would not.
    const draws = 8000;
    const counts = [...Array(8)].map(() => new Map<PasswordClass, number>(PASSWORD_CLASSES.map((cls) => [cls, 0])));
    for (let i = 0; i < draws; i++) {
      [...generateSecretValue(password(8))].forEach((c, position) => counts[position]!.set(classOf(c)!, counts[position]!.get(classOf(c)!)! + 1));
    }
    for (const cls of PASSWORD_CLASSES) {
      const shares = counts.map((byClass) => byClass.get(cls)! / draws);
      const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
      // About 6 standard deviations of a share at these counts.
      for (const share of shares) expect(Math.abs(share - mean)).toBeLessThan(0.03);
    }
  });
});

describe('input schemas name each problem', () => {
  const messages = (result: { success: boolean; error?: { issues: { message: string }[] } }) => result.error?.issues.map((i) => i.message) ?? [];
  const base = { storeId: 'local', name: '/prod/app/key', reason: 'quarterly rotation', requestId: '0b6f5d8e-3c1f-4a6a-9d3e-2a1f0c9b7e41' };

  it('accepts form-style specs', () => {
    expect(generateSpecSchema.parse({ preset: 'password', length: '12', classes: 'digits, lower', noLookAlike: 'on' })).toEqual({
      preset: 'password',
      length: 12,
      classes: ['lower', 'digits'],
      noLookAlike: true,
    });
    expect(generateSpecSchema.parse({ preset: 'password', classes: ['upper', 'upper'], noLookAlike: false })).toEqual({
      preset: 'password',
      length: 32,
      classes: ['upper'],
      noLookAlike: false,
    });
    expect(generateSpecSchema.parse({ preset: 'hex', length: 8 })).toEqual({ preset: 'hex', length: 8 });
    expect(generateSpecSchema.parse({ preset: 'base64url', length: '4096' })).toEqual({ preset: 'base64url', length: 4096 });
    expect(generateSpecSchema.parse({ preset: 'uuid', length: 3 })).toEqual({ preset: 'uuid' });
  });

  it.each([
    [{ preset: 'emoji' }, 'preset must be one of password, hex, base64url, uuid, key-256.'],
    [{}, 'preset must be one of password, hex, base64url, uuid, key-256.'],
    [{ preset: 'password', length: 7 }, 'Length must be from 8 to 4096 (got 7).'],
    [{ preset: 'hex', length: '4097' }, 'Length must be from 8 to 4096 (got 4097).'],
    [{ preset: 'base64url', length: 0 }, 'Length must be from 8 to 4096 (got 0).'],
    [{ preset: 'hex', length: 'long' }, 'Length must be a whole number from 8 to 4096 (got "long").'],
    [{ preset: 'password', classes: [] }, 'Choose at least one character class: lower, upper, digits, symbols.'],
    [{ preset: 'password', classes: 'lower,emoji' }, 'Character classes are lower, upper, digits, symbols (got "emoji").'],
    [{ preset: 'password', noLookAlike: 'perhaps' }, 'noLookAlike must be true or false.'],
  ])('spec %j: %s', (input, message) => {
    expect(messages(generateSpecSchema.safeParse(input))).toEqual([message]);
  });

  it('rotate without a spec gets the default; generate without one is named', () => {
    expect(rotateInputSchema.parse(base)).toEqual({ ...base, spec: DEFAULT_ROTATE_SPEC });
    expect(messages(generateInputSchema.safeParse(base))).toEqual(['preset must be one of password, hex, base64url, uuid, key-256.']);
  });

  it('takes the spec nested or as flat form fields, and the JSON key', () => {
    const nested = generateInputSchema.parse({ ...base, spec: { preset: 'hex', length: 40 }, jsonKey: ' password ' });
    expect(nested).toEqual({ ...base, spec: { preset: 'hex', length: 40 }, jsonKey: 'password' });
    expect(generateInputSchema.parse({ ...base, preset: 'hex', length: '40', jsonKey: '' })).toEqual({ ...base, spec: { preset: 'hex', length: 40 } });
    expect(rotateInputSchema.parse({ ...base, preset: 'uuid' }).spec).toEqual({ preset: 'uuid' });
  });

  it.each([
    [{ reason: undefined }, 'Give a reason (at most 500 characters).'],
    [{ reason: '   ' }, 'Give a reason (at most 500 characters).'],
    [{ reason: 'x'.repeat(501) }, 'The reason is at most 500 characters (got 501).'],
    [{ requestId: 'not-a-uuid' }, 'requestId must be a UUID; reload the page and try again.'],
    [{ requestId: undefined }, 'requestId must be a UUID; reload the page and try again.'],
    [{ jsonKey: 'k'.repeat(257) }, 'The JSON key to replace is 1 to 256 characters (got 257).'],
    [{ preset: 'hex', length: 4097 }, 'Length must be from 8 to 4096 (got 4097).'],
    [{ preset: 'emoji' }, 'preset must be one of password, hex, base64url, uuid, key-256.'],
  ])('rotate and generate with %j', (change, message) => {
    const input = { ...base, ...(change as object), ...('preset' in change ? {} : { preset: 'uuid' }) };
    expect(messages(rotateInputSchema.safeParse(input))).toEqual([message]);
    expect(messages(generateInputSchema.safeParse(input))).toEqual([message]);
  });

  it('a reason of exactly 500 characters is fine, and is trimmed', () => {
    expect(revealInputSchema.parse({ reason: ` ${'r'.repeat(500)} ` })).toEqual({ reason: 'r'.repeat(500) });
  });

  it.each([
    [null, 'Send a JSON body with the reason, e.g. {"reason": "incident 1234"}.'],
    [{}, 'Give a reason (at most 500 characters).'],
    [{ reason: 'y'.repeat(600) }, 'The reason is at most 500 characters (got 600).'],
  ])('reveal input %j', (input, message) => {
    expect(messages(revealInputSchema.safeParse(input))).toEqual([message]);
  });
});
