import 'server-only';
import { createHmac, timingSafeEqual } from 'node:crypto';

// The generic webhook's body is signed as Stripe signs its events: an HMAC-SHA-256 of
// "<unix seconds>.<raw body>" under the shared secret, sent with the timestamp in one header. The
// timestamp inside the MAC lets a receiver refuse a replay; the MAC over the raw bytes refuses an
// altered body. The README shows a receiver doing the same with node:crypto alone.

export const SIGNATURE_HEADER = 'X-Secrets-Dashboard-Signature';
export const EVENT_HEADER = 'X-Secrets-Dashboard-Event';
/** How old (or how far ahead) a signature's timestamp may be: Stripe's default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function macOf(secret: string, timestamp: number, rawBody: string | Buffer): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
}

/** The header value for a body sent at `timestamp` (unix seconds): "t=1733389200,v1=<64 hex>". */
export function signWebhookBody(rawBody: string | Buffer, secret: string, timestamp: number): string {
  return `t=${timestamp},v1=${macOf(secret, timestamp, rawBody).toString('hex')}`;
}

export type SignatureVerdict =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'malformed' | 'too-old' | 'in-the-future' | 'mismatch' };

/**
 * Checks a received body against its signature header. Several v1 entries are accepted (a sender
 * may sign with an old and a new secret while the secret is changed); unknown schemes are ignored.
 */
export function verifyWebhookSignature(
  rawBody: string | Buffer,
  header: string | null | undefined,
  secret: string,
  { toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now = new Date() }: { toleranceSeconds?: number; now?: Date } = {},
): SignatureVerdict {
  if (typeof header !== 'string' || header.length > 2048) return { ok: false, reason: 'malformed' };
  let timestamp: number | undefined;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, reason: 'malformed' };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return { ok: false, reason: 'malformed' };
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return { ok: false, reason: 'malformed' };
      candidates.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamp === undefined || candidates.length === 0) return { ok: false, reason: 'malformed' };
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (nowSeconds - timestamp > toleranceSeconds) return { ok: false, reason: 'too-old' };
  if (timestamp - nowSeconds > toleranceSeconds) return { ok: false, reason: 'in-the-future' };
  const expected = macOf(secret, timestamp, rawBody);
  // Every candidate is compared (no early exit), in constant time for its length.
  let matched = false;
  for (const candidate of candidates) if (timingSafeEqual(candidate, expected)) matched = true;
  return matched ? { ok: true, timestamp } : { ok: false, reason: 'mismatch' };
}
