import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { AlertsDb, ALERTS_SCHEMA, type AlertsDatabase } from '@/lib/alerts/alerts-db';
import type { AlertRule } from '@/lib/alerts/alerts-config';
import type { ConditionSubject } from '@/lib/alerts/messages';
import type { AlertMessage, ChannelKind, ChannelSender, DeliveryResult } from '@/lib/alerts/types';
import { alertRuleSchema } from '@/lib/validations/alerts';
import { useDatabase, type DatabaseKind } from '../../support/databases';
import { makeTempDir } from '../../support/temp-dir';

// What the alerts suites share: an alerts store on either dialect (reopened as a restarted
// process would, or opened a second time as another replica), rules as the config parses them,
// subjects, a clock the tests move, and a local HTTP receiver with a ChannelSender posting to it.

export interface AlertsStoreFixture {
  db: AlertsDb;
  /** Closes the store and opens it again (a restart); on PostgreSQL with a pool of its own. */
  reopen(): Promise<AlertsDb>;
  /** Another store on the same data: a second replica (PostgreSQL: its own pool; SQLite: its own connection). */
  another(): Promise<AlertsDb>;
  cleanup(): Promise<void>;
}

/** Its own pg pool (replicas do not share connections), search_path the alerts schema, as postgresDb makes it. */
function ownPool(url: string): AlertsDb {
  const pool = new pg.Pool({ connectionString: url, max: 4, options: `-c search_path=${ALERTS_SCHEMA},public` });
  pool.on('error', () => undefined);
  const db = new Kysely<AlertsDatabase>({ dialect: new PostgresDialect({ pool }) });
  return new AlertsDb(db, () => db.destroy());
}

export async function openAlertsStore(kind: DatabaseKind): Promise<AlertsStoreFixture> {
  const temp = makeTempDir('alerts-store-');
  const database = await useDatabase(kind);
  const opened: AlertsDb[] = [];
  const open = async (): Promise<AlertsDb> => {
    let db: AlertsDb;
    if (kind === 'sqlite') db = await AlertsDb.open(path.join(temp.dir, 'data'));
    else {
      // The first open migrates (the schema's tables); later ones are other processes' pools.
      if (opened.length === 0) await AlertsDb.openPostgres(database.url!);
      db = ownPool(database.url!);
    }
    opened.push(db);
    return db;
  };
  const fixture: AlertsStoreFixture = {
    db: await open(),
    async reopen() {
      await fixture.db.close();
      fixture.db = await open();
      return fixture.db;
    },
    another: open,
    async cleanup() {
      for (const db of opened) await db.close().catch(() => undefined);
      await database.cleanup();
      temp.cleanup();
    },
  };
  return fixture;
}

/** A rule as the config would give it. */
export function rule(over: Record<string, unknown> = {}): AlertRule {
  return alertRuleSchema.parse({ id: 'prod-overdue', events: ['overdue'], channel: 'oncall', ...over });
}

export function subject(name: string, over: Partial<ConditionSubject> = {}): ConditionSubject {
  return { storeId: 'prod', name, url: `https://dash.example.com/items/prod${name}`, status: 'overdue', ...over };
}

export const subjects = (n: number, prefix = '/prod/app/secret-') => Array.from({ length: n }, (_, i) => subject(`${prefix}${String(i).padStart(5, '0')}`));

/** A clock the test moves. */
export function testClock(start = '2026-12-05T08:00:00.000Z') {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
    set(iso: string) {
      t = Date.parse(iso);
    },
  };
}

export interface ReceivedMessage {
  channel: string;
  message: AlertMessage;
  status: number;
}

/** How the receiver answers: a status (and headers), or a promise that never settles (a hang). */
export type Responder = (message: AlertMessage, channel: string, attempt: number) => { status: number; headers?: Record<string, string> } | 'hang';

/**
 * A local HTTP receiver (127.0.0.1, a free port): every POST /<channel> is parsed as the
 * AlertMessage a channel posts, answered as `respond` says, and kept. `delivered(key)` counts the
 * 2xx answers per dedup key and action.
 */
export async function startReceiver(respond: Responder = () => ({ status: 200 })): Promise<{
  url: string;
  received: ReceivedMessage[];
  delivered(): Map<string, number>;
  setResponder(r: Responder): void;
  /** Forgets what was received and the attempts counted (a new test, the same receiver). */
  reset(): void;
  close(): Promise<void>;
}> {
  const received: ReceivedMessage[] = [];
  const attempts = new Map<string, number>();
  let responder = respond;
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => resolve(body));
      req.on('error', reject);
    });
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const channel = (req.url ?? '/').slice(1);
      const message = JSON.parse(body) as AlertMessage;
      const key = `${channel}\n${message.dedupKey}\n${message.action}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      const answer = responder(message, channel, attempt);
      if (answer === 'hang') return;
      received.push({ channel, message, status: answer.status });
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      res.end(answer.status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    delivered() {
      const out = new Map<string, number>();
      for (const r of received) if (r.status < 300) out.set(`${r.message.dedupKey}|${r.message.action}`, (out.get(`${r.message.dedupKey}|${r.message.action}`) ?? 0) + 1);
      return out;
    },
    setResponder(r) {
      responder = r;
    },
    reset() {
      received.length = 0;
      attempts.clear();
      responder = respond;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A ChannelSender posting the message as JSON to the receiver (what the webhook channel does, minus the signature). */
export function httpSender(id: string, baseUrl: string, kind: ChannelKind = 'webhook'): ChannelSender {
  return {
    id,
    kind,
    async send(message, signal): Promise<DeliveryResult> {
      let response: Response;
      try {
        response = await fetch(`${baseUrl}/${id}`, { method: 'POST', body: JSON.stringify(message), headers: { 'content-type': 'application/json' }, signal });
      } catch (error) {
        return { ok: false, retryable: true, cause: `webhook unreachable (${error instanceof Error ? error.name : 'error'})` };
      }
      await response.text();
      if (response.ok) return { ok: true };
      const retryAfter = response.headers.get('retry-after');
      const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
      return { ok: false, retryable, cause: `webhook answered ${response.status}`, ...(retryAfter ? { retryAfterMs: Number(retryAfter) * 1000 } : {}) };
    },
  };
}
