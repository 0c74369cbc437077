import { z } from 'zod';
import { ALPHABETS, type AlphabetName } from '@/lib/secrets/generate-value';
import { storeIdSchema } from './browse';
import { itemNameSchema } from './item-name';

const alphabetNames = Object.keys(ALPHABETS) as [AlphabetName, ...AlphabetName[]];

export const itemAddressSchema = z.object({ storeId: storeIdSchema, name: itemNameSchema });

export const generateValueSchema = itemAddressSchema.extend({
  length: z.coerce
    .number({ message: 'Length must be a number.' })
    .int({ message: 'Length must be a whole number.' })
    .min(16, { message: 'Generated values are at least 16 characters long.' })
    .max(256, { message: 'Generated values are at most 256 characters long.' })
    .default(32),
  alphabet: z.enum(alphabetNames, { message: `Alphabet must be one of ${alphabetNames.join(', ')}.` }).default('alphanumeric'),
});
