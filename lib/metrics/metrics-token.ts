import { createHash, timingSafeEqual } from 'node:crypto';

// /metrics answers only a bearer METRICS_TOKEN. Both sides are hashed first so the comparison takes
// the same time whatever the length or content of what was sent.

const MAX_HEADER = 1024;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Whether an Authorization header carries exactly `Bearer <expected>`. */
export function metricsTokenMatches(header: string | null, expected: string): boolean {
  if (header === null || header.length > MAX_HEADER) return false;
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  const sent = match?.[1] ?? '';
  // Compared even when malformed, against a digest that cannot match, so timing says nothing.
  const same = timingSafeEqual(digest(sent), digest(expected));
  return match !== null && same;
}
