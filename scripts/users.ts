// npm run users -- add EMAIL --role ROLE [--password-stdin] | remove EMAIL | list
// Manages local accounts in DATA_DIR's app database (the same DATA_DIR/app.db the server uses).
// Passwords are read from standard input (--password-stdin) or generated and printed once. Adding
// and removing are recorded in the audit log with the operating-system user as the actor.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { appendAudit, type AuditEntryInput } from '@/lib/audit/audit-log';
import { cliActor } from '@/lib/audit/cli-actor';
import { ROLES } from '@/lib/auth/roles';
import { createLocalUser, findUserByEmail, listUsers, removeUser, UserError } from '@/lib/auth/users';
import { flushAnchors } from '@/lib/audit/anchors';

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

/** Once the command is known: what it tried, so a failure past that point is audited too. */
let attempted: Pick<AuditEntryInput, 'action' | 'target' | 'details'> | null = null;

async function audit(outcome: 'success' | 'failure', extra: AuditEntryInput['details'] = {}): Promise<void> {
  if (!attempted) return;
  const entry = { ...attempted, actor: cliActor(), outcome, details: { ...attempted.details, ...extra, via: 'cli' } };
  attempted = null; // one entry per command, even if writing it fails and the error handler runs
  await appendAudit(entry);
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
    attempted = { action: 'create-user', target: args.data.email, details: { role: args.data.role } };
    const fromStdin = parsed.values['password-stdin'] ? await readStdin() : null;
    if (fromStdin !== null && fromStdin.length < 12) {
      await audit('failure', { reason: 'password too short' });
      console.error('The password must be at least 12 characters.');
      return 2;
    }
    const password = fromStdin ?? randomBytes(15).toString('base64url');
    await createLocalUser({ ...args.data, password });
    await audit('success', { passwordSource: fromStdin ? 'stdin' : 'generated' });
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
    attempted = { action: 'remove-user', target: args.data, details: {} };
    const existing = await findUserByEmail(args.data);
    if (!existing || !(await removeUser(args.data))) {
      await audit('failure', { reason: 'no such user' });
      console.error(`No user ${args.data}.`);
      return 1;
    }
    await audit('success', { role: existing.role, provider: existing.provider });
    console.log(`Removed ${args.data}; their API tokens no longer work.`);
    return 0;
  }
  console.error(usage);
  return 2;
}

// An anchor due from this run's audit entries is written before the process ends.
const exitAfterAnchors = (code: number) => flushAnchors().finally(() => process.exit(code));

main().then(
  (code) => exitAfterAnchors(code),
  async (error: Error) => {
    console.error(error instanceof UserError ? error.message : `Failed: ${error.message}`);
    try {
      // Error messages name accounts and causes, never a password.
      await audit('failure', { reason: error.message.slice(0, 200) });
    } catch (auditError) {
      console.error(`Could not write the audit entry: ${(auditError as Error).message}`);
    }
    await exitAfterAnchors(1);
  },
);
