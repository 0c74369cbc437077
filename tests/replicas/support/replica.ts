// One replica of the dashboard for the two-process tests: the real lib modules over DATABASE_URL,
// driven through standard input. Each input line is a JSON call {id, op, args}; each answer is a
// line "@@ {json}" on standard output ({id, ok, result} or {id, ok: false, error}), and so are
// events ({event}); other output (the logger's) is not part of the conversation.
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { appendAudit } from '@/lib/audit/audit-log';
import { runWhileLeader } from '@/lib/background/leader';
import { processHolderId } from '@/lib/background/process-holder';
import { decodeSession, issueSession, revokeSession } from '@/lib/auth/session-cookie';
import { appDb } from '@/lib/db/app-db';
import { oncePerRequest, oneAtATime } from '@/lib/secrets/write-guard';

const name = process.env.REPLICA ?? 'replica';
const say = (message: unknown) => process.stdout.write(`@@ ${JSON.stringify(message)}\n`);
// The tests' own bookkeeping (which work ran when) goes to tables in the public schema, over a
// pool of its own so it never competes with the app's connections.
const testPool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 12 });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Args = Record<string, unknown>;
const ops: Record<string, (args: Args) => Promise<unknown>> = {
  async holder() {
    return processHolderId();
  },
  async lead(args) {
    runWhileLeader(String(args.name), {
      onLead: () => void say({ event: 'lead' }),
      onLoseLead: () => void say({ event: 'lose' }),
    });
    return null;
  },
  async append(args) {
    for (let i = 0; i < Number(args.count); i++) {
      await appendAudit({ actor: `os:${name}`, action: 'replica-append', target: `local:/replicas/${name}/${i}`, outcome: 'success', details: { i } });
    }
    return null;
  },
  async issueSession(args) {
    return issueSession({ uid: String(args.uid), email: String(args.email) });
  },
  async decodeSession(args) {
    const claims = await decodeSession(String(args.value));
    return claims ? { uid: claims.uid, sid: claims.sid, authTime: claims.authTime } : null;
  },
  async revokeSession(args) {
    await revokeSession(String(args.sid), Number(args.authTime));
    return null;
  },
  async oncePerRequest(args) {
    return oncePerRequest(String(args.key), async () => {
      await testPool.query('INSERT INTO public.guard_runs (request, replica) VALUES ($1, $2)', [args.key, name]);
      await pause(Number(args.workMs ?? 0));
      return { ranBy: name, version: randomUUID(), createdAt: new Date().toISOString() };
    });
  },
  async writes(args) {
    // `count` writes to one item, all asked at once.
    const count = Number(args.count);
    await Promise.all(
      Array.from({ length: count }, (_, n) =>
        oneAtATime(String(args.item), async () => {
          await testPool.query('INSERT INTO public.guard_events (replica, n, kind) VALUES ($1, $2, $3)', [name, n, 'start']);
          await pause(Number(args.workMs ?? 0));
          await testPool.query('INSERT INTO public.guard_events (replica, n, kind) VALUES ($1, $2, $3)', [name, n, 'end']);
        }),
      ),
    );
    return null;
  },
};

async function main(): Promise<void> {
  await appDb(); // opened (and migrated) before the tests' first call
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const { id, op, args } = JSON.parse(line) as { id: number; op: string; args?: Args };
    const run = ops[op];
    if (!run) return say({ id, ok: false, error: `unknown op ${op}` });
    run(args ?? {}).then(
      (result) => say({ id, ok: true, result }),
      (error: Error) => say({ id, ok: false, error: error.message }),
    );
  });
  lines.once('close', () => process.exit(0));
  say({ event: 'ready' });
}

main().catch((error: Error) => {
  console.error(`replica ${name} failed to start: ${error.message}`);
  process.exit(1);
});
