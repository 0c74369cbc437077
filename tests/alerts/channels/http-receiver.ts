import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertMessage } from '@/lib/alerts/types';

// A local HTTP server standing in for Slack, PagerDuty or a webhook receiver: it records every
// request (raw body and headers) and answers as the test tells it to.

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (a slow service). */
  delayMs?: number;
}

export interface HttpReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** What the next requests are answered with (default 200 "ok"). */
  answer: (request: ReceivedRequest) => Answer;
  close: () => Promise<void>;
}

export async function startReceiver(answer: HttpReceiver['answer'] = () => ({ status: 200, body: 'ok' })): Promise<HttpReceiver> {
  const receiver = { requests: [] as ReceivedRequest[], answer } as HttpReceiver;
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') };
      receiver.requests.push(request);
      const { status, body = '', headers = {}, delayMs = 0 } = receiver.answer(request);
      const reply = () => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'text/plain', ...headers });
        res.end(body);
      };
      if (delayMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          reply();
        }, delayMs);
        timers.add(timer);
      } else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}`;
  receiver.close = async () => {
    for (const timer of timers) clearTimeout(timer);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

/** A port nothing listens on: bound, noted and released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const never = () => new AbortController().signal;

export function alertMessage(overrides: Partial<AlertMessage> = {}): AlertMessage {
  return {
    dedupKey: 'rule:overdue-prod|overdue|sim-prod-secrets|/prod/payments/db-password',
    action: 'trigger',
    event: 'overdue',
    severity: 'high',
    rule: { id: 'overdue-prod', description: 'Production secrets past their rotation policy' },
    title: 'Overdue: /prod/payments/db-password (sim-prod-secrets)',
    summary: '/prod/payments/db-password was last rotated 97 days ago; its policy is 90 days.',
    subjects: [
      {
        storeId: 'sim-prod-secrets',
        name: '/prod/payments/db-password',
        url: 'https://dashboard.example.com/stores/sim-prod-secrets/items/%2Fprod%2Fpayments%2Fdb-password',
        status: 'overdue',
      },
    ],
    totalItems: 1,
    link: 'https://dashboard.example.com/stores/sim-prod-secrets/items/%2Fprod%2Fpayments%2Fdb-password',
    at: '2026-12-05T07:30:00.000Z',
    ...overrides,
  };
}

/** A daily digest: `total` items overdue, the first 50 listed. */
export function digestMessage(total: number, nameLength = 40): AlertMessage {
  const subjects = Array.from({ length: Math.min(50, total) }, (_, i) => {
    const name = `/prod/team-${i}/${'x'.repeat(Math.max(1, nameLength - 16))}-${i}`;
    return { storeId: 'sim-prod-ssm', name, url: `https://dashboard.example.com/stores/sim-prod-ssm/items/${encodeURIComponent(name)}`, status: 'overdue' };
  });
  return alertMessage({
    dedupKey: 'rule:daily-overdue|overdue|digest|2026-12-05',
    title: `Daily digest: ${total.toLocaleString('en-US')} items overdue`,
    summary: `${total.toLocaleString('en-US')} items are past their rotation policy.`,
    subjects,
    totalItems: total,
    link: 'https://dashboard.example.com/freshness?status=overdue',
  });
}
