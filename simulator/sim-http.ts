import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';

// What every simulated AWS service shares: listening on loopback, answering in AWS JSON 1.1, and
// holding an answer back for the simulated latency (timers kept, so closing cancels them), reading a
// JSON request body and admitting calls within a quota as AWS does, and
// serving a handler that has no server of its own (each service is one, so a gateway can route to it).

async function listenOn(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** An AWS JSON 1.1 answer (or, with 'application/json', a REST JSON one) as the SDK reads it; errors name their type in x-amzn-errortype too. */
export function sendAwsJson(res: ServerResponse, out: { status: number; body: unknown; type?: string }, contentType = 'application/x-amz-json-1.1'): void {
  if (res.destroyed) return;
  const payload = Buffer.from(JSON.stringify(out.body), 'utf8');
  res.writeHead(out.status, {
    'content-type': contentType,
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

/** A simulator run as a process closes on SIGTERM/SIGINT (or when `stop` is called), and exits within 2 s whatever close does. */
export function closeOnSignals(name: string, close: () => Promise<void>): (why: string) => void {
  let closing = false;
  const stop = (why: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`${name}: ${why}, closing\n`);
    void close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return stop;
}

/** JSON for the control endpoints (plain JSON, not the AWS protocol). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(payload.length) });
  res.end(payload);
}

/** One simulated service without a server: answers a request whose body was already read. */
export type SimRequestHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A loopback server that reads each request's body and hands it to `handle`; for the thin `start*` wrappers and the gateway. */
export async function serveOn(handle: SimRequestHandler, port: number, host: string): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks));
      } catch (error) {
        // A request the simulator cannot take (a malformed path, say) must not end the process.
        process.stderr.write(`simulator: ${req.method ?? ''} ${req.url ?? ''}: ${(error as Error).message}\n`);
        if (!res.headersSent) sendJson(res, 500, { message: `Simulator error: ${(error as Error).message}` });
        else res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  const bound = await listenOn(server, port, host);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A simulator without a server: AWS requests, control requests under /__ (false: no such endpoint), and timers to cancel on close. */
export interface ServableSimulator {
  handle: SimRequestHandler;
  handleControl(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): boolean;
  close(): void;
}

/** A simulator on a loopback server of its own: what it offers besides serving, its URL, and a close that stops the server. */
export type Standalone<S extends ServableSimulator> = Omit<S, keyof ServableSimulator> & { url: string; port: number; close(): Promise<void> };

/** One simulator on a loopback server of its own (the `start*` functions): /__ paths go to its control endpoints. */
export async function serveAlone<S extends ServableSimulator>(sim: S, port = 0, host = '127.0.0.1'): Promise<Standalone<S>> {
  const server = await serveOn(
    (req, res, raw) => {
      const path = pathOf(req);
      if (!path.startsWith('/__')) return sim.handle(req, res, raw);
      if (!sim.handleControl(req, res, path, raw)) sendJson(res, 404, { error: `no control endpoint ${req.method ?? ''} ${path}` });
    },
    port,
    host,
  );
  const { handle: _handle, handleControl: _handleControl, close: _close, ...offered } = sim;
  return {
    ...offered,
    url: server.url,
    port: server.port,
    close: async () => {
      sim.close();
      await server.close();
    },
  };
}

/** What every simulator's control endpoints reach. */
export interface Controllable<C> {
  health(): Record<string, unknown>;
  stats(): unknown;
  resetStats(): void;
  control(cmd: C): object;
}

/** The control endpoints every simulator answers (plain JSON): GET /__health, GET /__stats, POST /__stats/reset, POST /__control. */
export function answerControl<C>(req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer, sim: Controllable<C>): boolean {
  const route = `${req.method ?? ''} ${path}`;
  if (route === 'GET /__health') sendJson(res, 200, { status: 'ok', ...sim.health() });
  else if (route === 'GET /__stats') sendJson(res, 200, sim.stats());
  else if (route === 'POST /__stats/reset') {
    sim.resetStats();
    sendJson(res, 200, { ok: true });
  } else if (route === 'POST /__control') {
    try {
      sendJson(res, 200, { ok: true, ...sim.control(JSON.parse(raw.toString('utf8') || '{}') as C) });
    } catch (error) {
      sendJson(res, 400, { error: error instanceof z.ZodError ? zodMessage(error) : (error as Error).message });
    }
  } else return false;
  return true;
}

/** A zod error as one line naming each field. */
export const zodMessage = (error: z.ZodError): string => error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');

/** An AWS JSON request decided at arrival (so quotas see arrival times) and answered after the latency. */
export function answerJsonAfter(req: IncomingMessage, res: ServerResponse, delayMs: number, pending: Set<NodeJS.Timeout>, decide: () => { status: number; body: unknown; type?: string }): void {
  if (req.method !== 'POST') return sendJson(res, 405, { message: 'AWS JSON 1.1 requests are POSTs' });
  const out = decide();
  afterLatency(delayMs, pending, () => sendAwsJson(res, out));
}

/** Cancels the answers still held back for latency. */
export function cancelAll(pending: Set<NodeJS.Timeout>): void {
  for (const timer of pending) clearTimeout(timer);
  pending.clear();
}

/** The path of a request without its query. */
export const pathOf = (req: IncomingMessage): string => new URL(req.url ?? '/', 'http://sim').pathname;

/** The SigV4 credential scope of a request (`Credential=<key>/<date>/<region>/<service>/aws4_request`), or null when unsigned. */
export function credentialScope(req: IncomingMessage): { accessKeyId: string; region: string; service: string } | null {
  const auth = String(req.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=\S+, ?Signature=[0-9a-f]+$/.exec(auth);
  return m ? { accessKeyId: m[1]!, region: m[2]!, service: m[3]! } : null;
}

/** An AWS JSON request's body: the parsed object, or null when it is not a JSON object (AWS answers SerializationException). */
export function parseJsonObject(raw: Buffer): Record<string, unknown> | null {
  try {
    const parsed: unknown = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** AWS's quotas as the simulators enforce them: a sustained `rate` per second with a burst of as many (or of `burst`: Vault's quotas are a rate per interval). */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private readonly capacity: number;
  constructor(readonly rate: number, burst = rate) {
    // A rate of 0 admits nothing (every call throttled); otherwise at least one call fits.
    this.capacity = rate <= 0 ? 0 : Math.max(1, burst);
    this.tokens = this.capacity;
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Times of calls in the last second; `max` is the most seen in any 1-second window (how a test proves a rate ceiling). */
export class SlidingWindow {
  private times: number[] = [];
  private head = 0;
  max = 0;

  /** How many in (now - 1000, now]. */
  inWindow(now: number): number {
    while (this.head < this.times.length && this.times[this.head]! <= now - 1000) this.head++;
    // Drop the passed times now and then, not on every call.
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  add(now: number): void {
    const n = this.inWindow(now) + 1;
    this.times.push(now);
    if (n > this.max) this.max = n;
  }
}

/** An AWS JSON answer: a result, or an error as AWS words it (`type` is the SDK's exception name). */
export interface JsonAnswer {
  status: number;
  body: unknown;
  type?: string;
}

/** What every simulator reports of one operation's calls. */
export interface OperationStats {
  calls: number;
  ok: number;
  throttled: number;
  /** Error answers other than throttling (validation, not found, access denied, …), and by error type. */
  errors: number;
  errorTypes: Record<string, number>;
  /** Calls that asked for decrypted values (Parameter Store's WithDecryption). */
  withDecryption: number;
  /** Most calls that arrived, and that the quota admitted, in any 1-second window. */
  maxCallsPerSecond: number;
  maxAcceptedPerSecond: number;
  /** Time spent computing answers (not latency or I/O), in ms. */
  computeMs: number;
}

const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException']);

/** One operation's counters. */
export class CallCounter {
  calls = 0;
  ok = 0;
  throttled = 0;
  errors = 0;
  withDecryption = 0;
  computeMs = 0;
  readonly errorTypes: Record<string, number> = {};
  readonly arrivals = new SlidingWindow();
  readonly accepted = new SlidingWindow();

  /** An error answer, counted (throttling apart from the rest). */
  fail(type: string, message: string, status = 400): JsonAnswer {
    if (THROTTLING.has(type)) this.throttled++;
    else {
      this.errors++;
      this.errorTypes[type] = (this.errorTypes[type] ?? 0) + 1;
    }
    return { status, type, body: { __type: type, message } };
  }

  succeed(body: unknown): JsonAnswer {
    this.ok++;
    return { status: 200, body };
  }
}

/** A simulator's per-operation counters since it started or its stats were reset. */
export class CallCounters {
  private byOperation = new Map<string, CallCounter>();
  private since = Date.now();

  /** A call arrives (at performance.now() `now`): its operation's counters. */
  arrive(operation: string, now: number): CallCounter {
    let c = this.byOperation.get(operation);
    if (!c) this.byOperation.set(operation, (c = new CallCounter()));
    c.calls++;
    c.arrivals.add(now);
    return c;
  }

  reset(): void {
    this.byOperation = new Map();
    this.since = Date.now();
  }

  stats(): { since: string; elapsedMs: number; totals: { calls: number; ok: number; throttled: number; errors: number }; operations: Record<string, OperationStats> } {
    const totals = { calls: 0, ok: 0, throttled: 0, errors: 0 };
    const operations: Record<string, OperationStats> = {};
    for (const [operation, c] of [...this.byOperation].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const { calls, ok, throttled, errors, withDecryption } = c;
      operations[operation] = {
        calls,
        ok,
        throttled,
        errors,
        errorTypes: { ...c.errorTypes },
        withDecryption,
        maxCallsPerSecond: c.arrivals.max,
        maxAcceptedPerSecond: c.accepted.max,
        computeMs: Math.round(c.computeMs * 10) / 10,
      };
      totals.calls += calls;
      totals.ok += ok;
      totals.throttled += throttled;
      totals.errors += errors;
    }
    return { since: new Date(this.since).toISOString(), elapsedMs: Date.now() - this.since, totals, operations };
  }
}
