import { z } from 'zod';
import { ROLES } from '@/lib/auth/roles';

export const createUserSchema = z.object({
  email: z.email({ message: 'Enter a valid email address.' }).max(320),
  role: z.enum(ROLES, { message: `Role must be one of ${ROLES.join(', ')}.` }),
  password: z.string().min(12, { message: 'The password needs at least 12 characters.' }).max(1024, { message: 'The password is at most 1024 characters.' }),
});

export const removeUserSchema = z.object({ email: z.email({ message: 'Enter a valid email address.' }) });

export const revokeTokenSchema = z.object({ id: z.string().regex(/^[a-z0-9]{12}$/, { message: 'That is not a token id.' }) });
