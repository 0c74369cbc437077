import 'server-only';
import { randomBytes } from 'node:crypto';
import { readEnv } from '@/lib/config/env';
import { countUsers, createLocalUser } from './users';

export const DEFAULT_ADMIN_EMAIL = 'admin@dashboard.local';

/**
 * On the first start with no users, creates the first admin from ADMIN_EMAIL and ADMIN_PASSWORD,
 * or with a random password that is printed once (and never logged again).
 */
export async function ensureFirstAdmin(print: (line: string) => void = console.log): Promise<void> {
  if ((await countUsers()) > 0) return;
  const env = readEnv();
  const email = env.ADMIN_EMAIL ?? DEFAULT_ADMIN_EMAIL;
  const password = env.ADMIN_PASSWORD ?? randomBytes(15).toString('base64url');
  await createLocalUser({ email, role: 'admin', password, name: 'Administrator' });
  if (env.ADMIN_PASSWORD) print(`Created the first admin, ${email}, with the password from ADMIN_PASSWORD.`);
  else
    print(
      `\n  Created the first admin account. It is shown only this once:\n    email:    ${email}\n    password: ${password}\n  Sign in and add users with: npm run users -- add EMAIL --role ROLE\n`,
    );
}
