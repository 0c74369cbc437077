// npm run users -- add EMAIL --role ROLE [--password-stdin] | remove EMAIL | list
// Manages local accounts in DATA_DIR's app database. Passwords are read from standard input
// (--password-stdin) or generated and printed once.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ROLES } from '@/lib/auth/roles';
import { createLocalUser, listUsers, removeUser, UserError } from '@/lib/auth/users';

const usage = `usage:
  npm run users -- add EMAIL --role ${ROLES.join('|')} [--password-stdin] [--name NAME]
  npm run users -- remove EMAIL
  npm run users -- list`;

const email = z.email({ message: 'give a valid email address' });
const addSchema = z.object({
  email,
  role: z.enum(ROLES, { message: `--role must be one of ${ROLES.join(', ')}` }),
  name: z.string().max(200).optional(),
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { role: { type: 'string' }, name: { type: 'string' }, 'password-stdin': { type: 'boolean' } } });
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const [command, target] = parsed.positionals;
  if (command === 'list') {
    const users = await listUsers();
    if (users.length === 0) console.log('No users yet.');
    for (const u of users) console.log(`${u.email}\t${u.role ?? '(grants only)'}\t${u.provider}\t${u.lastSignInAt ?? 'never signed in'}`);
    return 0;
  }
  if (command === 'add') {
    const args = addSchema.safeParse({ email: target, role: parsed.values.role, name: parsed.values.name });
    if (!args.success) {
      console.error(`${args.error.issues.map((i) => i.message).join('\n')}\n${usage}`);
      return 2;
    }
    const fromStdin = parsed.values['password-stdin'] ? await readStdin() : null;
    if (fromStdin !== null && fromStdin.length < 12) {
      console.error('The password must be at least 12 characters.');
      return 2;
    }
    const password = fromStdin ?? randomBytes(15).toString('base64url');
    await createLocalUser({ ...args.data, password });
    console.log(`Added ${args.data.email} as ${args.data.role}.`);
    if (!fromStdin) console.log(`Password (shown only this once): ${password}`);
    return 0;
  }
  if (command === 'remove') {
    const args = email.safeParse(target);
    if (!args.success) {
      console.error(`${args.error.issues[0]!.message}\n${usage}`);
      return 2;
    }
    if (!(await removeUser(args.data))) {
      console.error(`No user ${args.data}.`);
      return 1;
    }
    console.log(`Removed ${args.data}; their API tokens no longer work.`);
    return 0;
  }
  console.error(usage);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error instanceof UserError ? error.message : `Failed: ${error.message}`);
    process.exit(1);
  },
);
