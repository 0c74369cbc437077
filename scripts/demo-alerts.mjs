// The demo's alerts, for `DEMO_DATA=1 npm start`: a receiver on loopback standing in for the team's
// chat or paging tool, and the CONFIG_FILE `alerts:` section that routes the demo's failing rotations,
// new readers, repeated refusals and a daily digest of overdue items to it as a signed webhook (the
// real channel, exactly as it would post to a real endpoint). The receiver checks each signature as
// the README shows a receiver should, and prints one line per message: what /alerts shows as delivered.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

export const DEMO_ALERTS_URL_ENV = 'DEMO_ALERTS_WEBHOOK_URL';
export const DEMO_ALERTS_SECRET_ENV = 'DEMO_ALERTS_WEBHOOK_SECRET';
export const DEMO_ALERTS_CHANNEL = 'demo-webhook';

/** The `alerts:` section the demo adds when the user's CONFIG_FILE has none. */
export function demoAlertsSection() {
  return {
    channels: [{ id: DEMO_ALERTS_CHANNEL, kind: 'webhook', urlEnv: DEMO_ALERTS_URL_ENV, secretEnv: DEMO_ALERTS_SECRET_ENV }],
    rules: [
      {
        id: 'demo-on-call',
        description: 'Rotations failing or failed, syncs failing, the audit chain (demo: to the loopback receiver)',
        events: ['rotation-failing', 'rotation-failed', 'sync-failing', 'audit-chain'],
        channel: DEMO_ALERTS_CHANNEL,
        mode: 'immediate',
      },
      {
        id: 'demo-reviewers',
        description: 'New readers of secrets and repeated refusals (demo)',
        events: ['new-reader', 'access-denied'],
        channel: DEMO_ALERTS_CHANNEL,
        mode: 'immediate',
        // Secrets Manager only: deploy roles reading new feature flags would drown the one reader that matters.
        selector: { stores: ['sim-prod-secrets', 'sim-staging-secrets'] },
        // The demo's CI role is refused about six times a day, not five times an hour.
        deniedCount: 3,
        deniedWindowMinutes: 1440,
      },
      {
        id: 'demo-daily-overdue',
        description: 'Overdue secrets, once a day (demo)',
        events: ['overdue'],
        channel: DEMO_ALERTS_CHANNEL,
        mode: 'digest',
        digestAt: '08:00',
        selector: { stores: ['sim-prod-secrets', 'sim-staging-secrets'] },
      },
    ],
  };
}

/** Stripe-style `t=<seconds>,v1=<hex HMAC-SHA-256 of "t.body">`, checked within five minutes. */
export function signatureValid(rawBody, header, secret, nowSeconds = Math.floor(Date.now() / 1000)) {
  const parts = Object.fromEntries(String(header ?? '').split(',').map((p) => p.split('=', 2)));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > 300 || typeof parts.v1 !== 'string') return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Starts the receiver on a free loopback port. Answers 204 to a correctly signed POST, 401 to
 * anything else; keeps the last 200 messages' titles for `received`. Unref'd: it never keeps
 * `npm start` alive on its own.
 */
export async function startDemoAlertReceiver({ log = console.error } = {}) {
  const secret = randomBytes(32).toString('hex');
  const received = [];
  const server = createServer((req, res) => {
    if (req.method !== 'POST') return res.writeHead(405).end();
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= 1_000_000) chunks.push(chunk);
    });
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (size > 1_000_000 || !signatureValid(raw, req.headers['x-secrets-dashboard-signature'], secret)) return res.writeHead(401).end();
      let message = {};
      try {
        message = JSON.parse(raw);
      } catch {
        return res.writeHead(400).end();
      }
      received.push({ id: message.id, action: message.action, title: message.title });
      if (received.length > 200) received.shift();
      log(`Demo alert received (${message.action}): ${message.title}`);
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  server.unref();
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    secret,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
