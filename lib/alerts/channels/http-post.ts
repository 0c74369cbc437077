import 'server-only';
import type { DeliveryResult } from '../types';

// One HTTP POST for the Slack, PagerDuty and webhook channels: a per-attempt timeout, no retries
// (the delivery queue retries), no redirects followed (a signed body or a routing key must not be
// sent on to another host), and only the first few KB of an answer read, for its short error code.
// Nothing here puts the URL in a result: Slack's webhook URL is itself the secret.

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Enough for Slack's "invalid_token" or PagerDuty's small JSON error; the rest is not read. */
const MAX_ANSWER_BYTES = 4096;

export type PostOutcome =
  | { kind: 'answered'; status: number; headers: Headers; body: string }
  | { kind: 'timed-out'; afterMs: number }
  | { kind: 'cancelled' }
  | { kind: 'unreachable'; code: string };

export interface PostRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Per attempt; 10 s unless the channel's config says otherwise. */
  timeoutMs?: number;
  /** The queue's: aborted when the server shuts down or the lease is lost. */
  signal: AbortSignal;
}

/**
 * Resets of a connection before any answer: most often a kept-alive socket the receiver closed as
 * it was reused. Sent once more at once, on a new connection (receivers drop repeats by the
 * message's id, so a request that did arrive is not acted on twice); anything else waits for the queue.
 */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

export async function postOnce(request: PostRequest): Promise<PostOutcome> {
  const outcome = await post(request);
  return outcome.kind === 'unreachable' && RESET_CODES.has(outcome.code) ? post(request) : outcome;
}

async function post({ url, body, headers, timeoutMs = DEFAULT_TIMEOUT_MS, signal }: PostRequest): Promise<PostOutcome> {
  if (signal.aborted) return { kind: 'cancelled' };
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'secrets-dashboard-alerts', ...headers },
      redirect: 'manual',
      signal: controller.signal,
    });
    return { kind: 'answered', status: response.status, headers: response.headers, body: await readStart(response) };
  } catch (error) {
    if (timedOut) return { kind: 'timed-out', afterMs: timeoutMs };
    if (signal.aborted) return { kind: 'cancelled' };
    return { kind: 'unreachable', code: networkCode(error) };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** The first MAX_ANSWER_BYTES of the answer as text; the rest is cancelled, not read. */
async function readStart(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < MAX_ANSWER_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  if (size >= MAX_ANSWER_BYTES) await reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}

/** ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED…: undici puts the system's code on the error's cause. */
function networkCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return 'network error';
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMsOf(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d{1,9}$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** 408, 429 and 5xx may pass on their own; other answers need someone to change something. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * A service's own short error code, if the text is one ("invalid_token", "invalid event"), else
 * nothing: an answer is never quoted beyond that, nor when it is (part of) one of the channel's secrets.
 */
export function shortCode(text: string | undefined, pattern: RegExp, secrets: readonly string[] = []): string | undefined {
  const trimmed = text?.trim();
  if (!trimmed || trimmed.length > 60 || !pattern.test(trimmed)) return undefined;
  // Dropped when it is part of a secret (a receiver echoing a URL's token) or holds one.
  const lower = trimmed.toLowerCase();
  const leaks = secrets.some((secret) => secret && (secret.toLowerCase().includes(lower) || lower.includes(secret.toLowerCase())));
  return leaks ? undefined : trimmed;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** The DeliveryResult of an attempt that got no answer. */
export function failureWithoutAnswer(service: string, outcome: Exclude<PostOutcome, { kind: 'answered' }>): DeliveryResult {
  switch (outcome.kind) {
    case 'timed-out':
      return { ok: false, retryable: true, cause: `${service} did not answer within ${seconds(outcome.afterMs)}` };
    case 'cancelled':
      return { ok: false, retryable: true, cause: `the delivery to ${service} was cancelled before it finished` };
    case 'unreachable':
      return { ok: false, retryable: true, cause: `${service} could not be reached (${outcome.code})` };
  }
}

/** The DeliveryResult of a non-2xx answer: "Slack answered 404 (no_service)". */
export function failureOfAnswer(service: string, status: number, headers: Headers, code: string | undefined): DeliveryResult {
  const cause = `${service} answered ${status}${code ? ` (${code})` : ''}${status >= 300 && status < 400 ? ': a redirect, not followed; configure the final URL' : ''}`;
  const retryAfterMs = status === 429 || status === 503 ? retryAfterMsOf(headers) : undefined;
  return { ok: false, retryable: isRetryableStatus(status), cause, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}
