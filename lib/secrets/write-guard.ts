import 'server-only';

// Two guarantees for writes, within this process: writes to one item run one at a time (so a JSON
// secret is read and merged against the value the previous write left, never half-merged), and a
// request id is carried out once (a double click, a retried POST) and its first answer is given to
// every repeat. Next.js bundles server code more than once, so the maps live on globalThis.

const REMEMBER_MS = 15 * 60_000;

interface GuardState {
  tails: Map<string, Promise<unknown>>;
  requests: Map<string, { at: number; result: Promise<unknown> }>;
}

const g = globalThis as unknown as { __writeGuard?: GuardState };
const state = (g.__writeGuard ??= { tails: new Map(), requests: new Map() });

/** Runs `work` after every earlier call for the same key has settled. */
export function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = state.tails.get(key) ?? Promise.resolve();
  const run = previous.then(work, work);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  state.tails.set(key, tail);
  void tail.then(() => {
    if (state.tails.get(key) === tail) state.tails.delete(key);
  });
  return run;
}

/**
 * Runs `work` once per request key; a repeat while it runs or within 15 minutes gets the same
 * answer. A failed request is forgotten, so trying again really tries again.
 */
export function oncePerRequest<T>(key: string, work: () => Promise<T>): Promise<T> {
  const now = Date.now();
  for (const [k, entry] of state.requests) if (now - entry.at > REMEMBER_MS) state.requests.delete(k);
  const seen = state.requests.get(key);
  if (seen) return seen.result as Promise<T>;
  const result = work();
  state.requests.set(key, { at: now, result });
  result.catch(() => {
    if (state.requests.get(key)?.result === result) state.requests.delete(key);
  });
  return result;
}
