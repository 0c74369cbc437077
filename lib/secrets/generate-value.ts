import { randomBytes, randomUUID } from 'node:crypto';
import {
  BASE64URL_ALPHABET,
  classCharacters,
  HEX_ALPHABET,
  MAX_GENERATED_LENGTH,
  MIN_GENERATED_LENGTH,
  PASSWORD_CLASSES,
  type GenerateSpec,
  type PasswordClass,
} from './generate-presets';

// New secret values, drawn on the server from the operating system's CSPRNG. Every character is a
// uniform draw from its alphabet (rejection sampling over random bytes: no modulo bias).

export {
  DEFAULT_ROTATE_SPEC,
  GENERATE_PRESETS,
  PASSWORD_CLASSES,
  describeGenerateSpec,
  generateSpecDetails,
  type GeneratePreset,
  type GenerateSpec,
  type PasswordClass,
} from './generate-presets';

/** A password that misses a chosen class is drawn again whole; this many misses in a row cannot happen by chance. */
const MAX_PASSWORD_DRAWS = 10_000;

export function generateSecretValue(spec: GenerateSpec): string {
  switch (spec.preset) {
    case 'password':
      return drawPassword(checkedLength(spec.length), checkedClasses(spec.classes), spec.noLookAlike);
    case 'hex':
      return drawCharacters(HEX_ALPHABET, checkedLength(spec.length));
    case 'base64url':
      return drawCharacters(BASE64URL_ALPHABET, checkedLength(spec.length));
    case 'uuid':
      return randomUUID();
    case 'key-256':
      return randomBytes(32).toString('base64');
    default:
      throw new RangeError(`Unknown preset ${JSON.stringify((spec as { preset: unknown }).preset)}.`);
  }
}

/**
 * Every chosen class at least once, without bias: the whole value is drawn uniformly from the union
 * of the classes and drawn again if a class is missing. (Placing one character of each class and
 * filling the rest would make the positions of rare classes predictable.)
 */
function drawPassword(length: number, classes: PasswordClass[], noLookAlike: boolean): string {
  const sets = classes.map((cls) => classCharacters(cls, noLookAlike));
  const alphabet = sets.join('');
  for (let attempt = 0; attempt < MAX_PASSWORD_DRAWS; attempt++) {
    const value = drawCharacters(alphabet, length);
    if (sets.every((set) => hasAnyOf(value, set))) return value;
  }
  throw new Error('Could not draw a password holding every chosen class.');
}

function hasAnyOf(value: string, set: string): boolean {
  for (const c of value) if (set.includes(c)) return true;
  return false;
}

/** `count` characters, each uniform over `alphabet` (at most 256 characters). */
function drawCharacters(alphabet: string, count: number): string {
  const size = alphabet.length;
  if (size < 1 || size > 256) throw new RangeError('An alphabet holds 1 to 256 characters.');
  // Bytes at or above `limit` would favour the alphabet's first characters; they are dropped.
  const limit = 256 - (256 % size);
  const out: string[] = [];
  while (out.length < count) {
    const needed = count - out.length;
    const bytes = randomBytes(Math.ceil((needed * 256) / limit) + 8);
    for (const byte of bytes) {
      if (byte >= limit) continue;
      out.push(alphabet[byte % size]!);
      if (out.length === count) break;
    }
  }
  return out.join('');
}

function checkedLength(length: number): number {
  if (!Number.isInteger(length) || length < MIN_GENERATED_LENGTH || length > MAX_GENERATED_LENGTH)
    throw new RangeError(`Length must be from ${MIN_GENERATED_LENGTH} to ${MAX_GENERATED_LENGTH} (got ${length}).`);
  return length;
}

function checkedClasses(classes: PasswordClass[]): PasswordClass[] {
  const unique = [...new Set(classes)];
  if (unique.length === 0) throw new RangeError('Choose at least one character class.');
  const unknown = unique.filter((c) => !PASSWORD_CLASSES.includes(c));
  if (unknown.length > 0) throw new RangeError(`Unknown character class ${JSON.stringify(unknown[0])}.`);
  return unique;
}
