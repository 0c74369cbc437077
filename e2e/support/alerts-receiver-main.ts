// The webhook receiver of the 'alerts' browser-test server (a Playwright webServer, started before
// it): every POST is checked against the channel's signature, kept, and answered 404 when it names
// DEAD_ITEM (a receiver that refuses: dead at once) and 200 otherwise. GET /__received lists what
// came, for the spec; GET /__health answers when it listens.
//   node --import tsx e2e/support/alerts-receiver-main.ts
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { ALERTS_HOOK_SECRET, ALERTS_RECEIVER_PORT, DEAD_ITEM, type ReceivedAlert } from './alerts-e2e';

const received: ReceivedAlert[] = [];

function signatureMatches(raw: string, header: string | undefined): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', ALERTS_HOOK_SECRET).update(`${match[1]}.${raw}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}

createServer((req, res) => {
  if (req.method === 'GET') {
    const body = req.url === '/__received' ? JSON.stringify(received) : req.url === '/__health' ? 'ok' : null;
    res.writeHead(body === null ? 404 : 200, { 'content-type': 'application/json' }).end(body ?? '');
    return;
  }
  let raw = '';
  req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  req.on('end', () => {
    let body: ReceivedAlert['body'];
    try {
      body = JSON.parse(raw) as ReceivedAlert['body'];
    } catch {
      res.writeHead(400).end();
      return;
    }
    const status = body.subjects?.some((s) => s.name === DEAD_ITEM) ? 404 : 200;
    received.push({ path: req.url ?? '', signed: signatureMatches(raw, req.headers['x-secrets-dashboard-signature'] as string | undefined), status, body });
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no such hook');
  });
}).listen(ALERTS_RECEIVER_PORT, '127.0.0.1');
