// What a new random value can look like: the presets, their limits and character classes. No
// randomness and no Node imports here, so the write dialog (a client component) shares these
// definitions with the server that does the drawing (generate-value.ts).

export const GENERATE_PRESETS = ['password', 'hex', 'base64url', 'uuid', 'key-256'] as const;
export type GeneratePreset = (typeof GENERATE_PRESETS)[number];

/** Presets whose length the caller chooses (in characters). */
export const SIZED_PRESETS = ['password', 'hex', 'base64url'] as const satisfies readonly GeneratePreset[];
export type SizedPreset = (typeof SIZED_PRESETS)[number];

export const MIN_GENERATED_LENGTH = 8;
export const MAX_GENERATED_LENGTH = 4096;
export const DEFAULT_GENERATED_LENGTH = 32;

export const PASSWORD_CLASSES = ['lower', 'upper', 'digits', 'symbols'] as const;
export type PasswordClass = (typeof PASSWORD_CLASSES)[number];

/**
 * Symbols leave out the space, backslash and quotes (' " `) so a value survives shells, .env files
 * and JSON without escaping.
 */
export const CLASS_CHARACTERS: Record<PasswordClass, string> = {
  lower: 'abcdefghijklmnopqrstuvwxyz',
  upper: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  symbols: '!#$%&()*+,-./:;<=>?@[]^_{|}~',
};

/** Characters easily mistaken for another when read or typed: 0/O/o, 1/l/I/i/|/!, quotes, and specks of punctuation. */
export const LOOK_ALIKE_CHARACTERS = '0Oo1lIi|!`\'".,:;';

export const HEX_ALPHABET = '0123456789abcdef';
export const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export type GenerateSpec =
  | { preset: 'password'; length: number; classes: PasswordClass[]; noLookAlike: boolean }
  | { preset: 'hex'; length: number }
  | { preset: 'base64url'; length: number }
  | { preset: 'uuid' }
  | { preset: 'key-256' };

/** What Rotate writes in stores the dashboard rotates itself: a 32-character password of every class. */
export const DEFAULT_ROTATE_SPEC: Readonly<Extract<GenerateSpec, { preset: 'password' }>> = Object.freeze({
  preset: 'password',
  length: DEFAULT_GENERATED_LENGTH,
  classes: [...PASSWORD_CLASSES],
  noLookAlike: false,
});

export function isSizedPreset(preset: GeneratePreset): preset is SizedPreset {
  return (SIZED_PRESETS as readonly string[]).includes(preset);
}

/** A class's characters, less the look-alikes when asked. */
export function classCharacters(cls: PasswordClass, noLookAlike: boolean): string {
  const chars = CLASS_CHARACTERS[cls];
  return noLookAlike ? [...chars].filter((c) => !LOOK_ALIKE_CHARACTERS.includes(c)).join('') : chars;
}

/** Plain words for a spec, for the dialog and for messages: "a random 32-character password (lower, upper, digits, symbols)". */
export function describeGenerateSpec(spec: GenerateSpec): string {
  switch (spec.preset) {
    case 'password':
      return `a random ${spec.length}-character password (${spec.classes.join(', ')}${spec.noLookAlike ? '; no look-alike characters' : ''})`;
    case 'hex':
      return `${spec.length} random hex digits`;
    case 'base64url':
      return `${spec.length} random base64url characters`;
    case 'uuid':
      return 'a random UUID (version 4)';
    case 'key-256':
      return 'a random 256-bit key (32 bytes, base64)';
  }
}

/** The spec as audit details: its shape only, never anything drawn. */
export function generateSpecDetails(spec: GenerateSpec): Record<string, string | number | boolean> {
  switch (spec.preset) {
    case 'password':
      return { preset: spec.preset, length: spec.length, classes: spec.classes.join(','), noLookAlike: spec.noLookAlike };
    case 'hex':
    case 'base64url':
      return { preset: spec.preset, length: spec.length };
    default:
      return { preset: spec.preset };
  }
}
