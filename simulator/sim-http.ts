import { randomUUID } from 'node:crypto';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// What every simulated AWS service shares: listening on loopback, answering in AWS JSON 1.1, and
// holding an answer back for the simulated latency (timers kept, so closing cancels them).

export async function listenOn(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** An AWS JSON 1.1 answer as the SDK reads it; errors name their type in x-amzn-errortype too. */
export function sendAwsJson(res: ServerResponse, out: { status: number; body: unknown; type?: string }): void {
  if (res.destroyed) return;
  const payload = Buffer.from(JSON.stringify(out.body), 'utf8');
  res.writeHead(out.status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': String(payload.length),
    'x-amzn-requestid': randomUUID(),
    ...(out.type ? { 'x-amzn-errortype': out.type } : {}),
  });
  res.end(payload);
}

/** Runs `fn` after `delayMs` (at once when it is 0 or less), tracking the timer in `pending`. */
export function afterLatency(delayMs: number, pending: Set<NodeJS.Timeout>, fn: () => void): void {
  if (delayMs <= 0) return fn();
  const timer = setTimeout(() => {
    pending.delete(timer);
    fn();
  }, delayMs);
  pending.add(timer);
}

/** A simulator run as a process closes on SIGTERM/SIGINT, and exits within 2 s whatever close does. */
export function closeOnSignals(name: string, close: () => Promise<void>): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`${name}: ${signal}, closing\n`);
    void close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
