import { z } from 'zod';
import {
  DEFAULT_GENERATED_LENGTH,
  DEFAULT_ROTATE_SPEC,
  GENERATE_PRESETS,
  MAX_GENERATED_LENGTH,
  MIN_GENERATED_LENGTH,
  PASSWORD_CLASSES,
  type GenerateSpec,
} from '@/lib/secrets/generate-presets';
import { MAX_REASON_LENGTH } from '@/lib/secrets/reason-limit';
import { storeIdSchema } from './browse';
import { nameToWriteSchema } from './item-name';

// Inputs of rotate, generate and reveal. They come from forms as often as from JSON, so numbers may
// arrive as strings, classes as a comma list and checkboxes as "on"; each failure names the field.

/** The item a write changes; its name must be one a write may create (no "." or ".." level). */
export const itemAddressSchema = z.object({ storeId: storeIdSchema, name: nameToWriteSchema });

export { MAX_REASON_LENGTH };
const REASON_REQUIRED = `Give a reason (at most ${MAX_REASON_LENGTH} characters).`;

/** Why a write or a reveal is done; it goes into the audit log as given (trimmed). */
export const reasonSchema = z
  .string({ error: REASON_REQUIRED })
  .trim()
  .min(1, { error: REASON_REQUIRED })
  .max(MAX_REASON_LENGTH, {
    error: (issue) => `The reason is at most ${MAX_REASON_LENGTH} characters (got ${(issue.input as string).length}).`,
  });

/** The idempotency key the dialog makes once per confirmation, so a retry never writes twice. */
export const requestIdSchema = z.uuid({ error: 'requestId must be a UUID; reload the page and try again.' });

export const MAX_JSON_KEY_LENGTH = 256;
const jsonKeyMessage = (got: unknown) =>
  `The JSON key to replace is 1 to ${MAX_JSON_KEY_LENGTH} characters (got ${typeof got === 'string' ? got.length : typeof got}).`;

/** A top-level key of a JSON secret whose value alone is replaced; an empty form field means none. */
export const jsonKeySchema = z.preprocess(
  (value) => (value === '' || value === null ? undefined : value),
  z
    .string({ error: (issue) => jsonKeyMessage(issue.input) })
    .trim()
    .min(1, { error: (issue) => jsonKeyMessage(issue.input) })
    .max(MAX_JSON_KEY_LENGTH, { error: (issue) => jsonKeyMessage(issue.input) })
    .optional(),
);

const show = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));

const lengthSchema = z.preprocess(
  (value) => {
    if (value === undefined) return DEFAULT_GENERATED_LENGTH;
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
    return value;
  },
  z
    .number({ error: (issue) => `Length must be a whole number from ${MIN_GENERATED_LENGTH} to ${MAX_GENERATED_LENGTH} (got ${show(issue.input)}).` })
    .int({ error: (issue) => `Length must be a whole number from ${MIN_GENERATED_LENGTH} to ${MAX_GENERATED_LENGTH} (got ${show(issue.input)}).` })
    .min(MIN_GENERATED_LENGTH, { error: (issue) => `Length must be from ${MIN_GENERATED_LENGTH} to ${MAX_GENERATED_LENGTH} (got ${show(issue.input)}).` })
    .max(MAX_GENERATED_LENGTH, { error: (issue) => `Length must be from ${MIN_GENERATED_LENGTH} to ${MAX_GENERATED_LENGTH} (got ${show(issue.input)}).` }),
);

const CLASS_LIST = PASSWORD_CLASSES.join(', ');

const classesSchema = z.preprocess(
  (value) => {
    if (value === undefined) return [...PASSWORD_CLASSES];
    if (typeof value === 'string') return value.split(',').map((c) => c.trim()).filter(Boolean);
    return value;
  },
  z
    .array(z.enum(PASSWORD_CLASSES, { error: (issue) => `Character classes are ${CLASS_LIST} (got ${show(issue.input)}).` }), {
      error: `Character classes are a list of ${CLASS_LIST}.`,
    })
    .min(1, { error: `Choose at least one character class: ${CLASS_LIST}.` })
    // One order whatever the input's, each class once.
    .transform((classes) => PASSWORD_CLASSES.filter((c) => classes.includes(c))),
);

const flagSchema = z.preprocess(
  (value) => {
    if (value === undefined || value === '' || value === 'off' || value === 'false') return false;
    if (value === 'on' || value === 'true') return true;
    return value;
  },
  z.boolean({ error: 'noLookAlike must be true or false.' }),
);

const PRESET_MESSAGE = `preset must be one of ${GENERATE_PRESETS.join(', ')}.`;

export const generateSpecSchema = z.discriminatedUnion(
  'preset',
  [
    z.object({ preset: z.literal('password'), length: lengthSchema, classes: classesSchema, noLookAlike: flagSchema }),
    z.object({ preset: z.literal('hex'), length: lengthSchema }),
    z.object({ preset: z.literal('base64url'), length: lengthSchema }),
    z.object({ preset: z.literal('uuid') }),
    z.object({ preset: z.literal('key-256') }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? PRESET_MESSAGE : 'Give the value to generate as an object with a preset.') },
) satisfies z.ZodType<GenerateSpec, unknown>;

const SPEC_FIELDS = ['preset', 'length', 'classes', 'noLookAlike'] as const;

/** Forms send the spec as flat fields next to the address; JSON may nest it as `spec`. Both become `spec`. */
function liftSpec(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || 'spec' in input) return input;
  const fields = input as Record<string, unknown>;
  if (!SPEC_FIELDS.some((f) => fields[f] !== undefined)) return input;
  const spec = Object.fromEntries(SPEC_FIELDS.filter((f) => fields[f] !== undefined).map((f) => [f, fields[f]]));
  return { ...fields, spec };
}

/** The version the page showed when the dialog opened (Vault: the write's check-and-set version). */
export const basedOnVersionSchema = z
  .string({ error: 'basedOnVersion is the version number the page showed, e.g. "3".' })
  .regex(/^[1-9]\d{0,9}$/, { error: 'basedOnVersion is the version number the page showed, e.g. "3".' })
  .optional();

const writeShape = { ...itemAddressSchema.shape, reason: reasonSchema, requestId: requestIdSchema, jsonKey: jsonKeySchema, basedOnVersion: basedOnVersionSchema };

/** Rotate now: without a spec the default (a 32-character password of every class) applies where the dashboard draws the value. */
export const rotateInputSchema = z.preprocess(
  liftSpec,
  z.object({
    ...writeShape,
    spec: generateSpecSchema.optional().transform((spec): GenerateSpec => spec ?? { ...DEFAULT_ROTATE_SPEC, classes: [...DEFAULT_ROTATE_SPEC.classes] }),
  }),
);

/** Generate new value: the spec is required (a missing one is named as a missing preset). */
export const generateInputSchema = z.preprocess(
  liftSpec,
  z.object({
    ...writeShape,
    spec: z.preprocess((spec) => spec ?? {}, generateSpecSchema),
  }),
);

export const revealInputSchema = z.object(
  { reason: reasonSchema },
  { error: 'Send a JSON body with the reason, e.g. {"reason": "incident 1234"}.' },
);

export type GenerateSpecInput = z.infer<typeof generateSpecSchema>;
export type RotateInput = z.infer<typeof rotateInputSchema>;
export type GenerateInput = z.infer<typeof generateInputSchema>;
export type RevealInput = z.infer<typeof revealInputSchema>;
