import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@/scripts/free-port';

// A stand-in AWS endpoint on 127.0.0.1 for tests that go through the real SDK stack (signing,
// retries, JSON protocol, error parsing, timeouts). It records the X-Amz-Target of each request
// and answers with whatever the test scripted. It only listens on loopback and is closed by the test.

export interface ScriptedReply {
  status: number;
  body?: unknown;
  /** Never answer: for timeout tests. */
  hang?: boolean;
}

export interface LoopbackAws {
  url: string;
  targets: string[];
  reply: (target: string) => ScriptedReply;
  close: () => Promise<void>;
}

export async function startLoopbackAws(reply: (target: string) => ScriptedReply): Promise<LoopbackAws> {
  const targets: string[] = [];
  const hanging = new Set<ServerResponse>();
  const state: LoopbackAws = { url: '', targets, reply, close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      targets.push(target);
      const answer = state.reply(target);
      if (answer.hang) {
        hanging.add(res);
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'loopback-req-1' });
      res.end(answer.body === undefined ? '{}' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** A loopback port with nothing listening on it. */
export const closedPort = freePort;
