import { randomInt } from 'node:crypto';

// New secret values, drawn uniformly (crypto.randomInt has no modulo bias) from a named alphabet.
export const ALPHABETS = {
  alphanumeric: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  'ascii-printable': 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~',
  hex: '0123456789abcdef',
  base64url: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
} as const;
export type AlphabetName = keyof typeof ALPHABETS;

export function generateSecretValue(length: number, alphabet: AlphabetName = 'alphanumeric'): string {
  const chars = ALPHABETS[alphabet];
  let value = '';
  for (let i = 0; i < length; i++) value += chars[randomInt(chars.length)];
  return value;
}
