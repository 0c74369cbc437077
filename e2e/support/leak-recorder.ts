import type { Page, Response } from '@playwright/test';

export interface RecordedResponse {
  url: string;
  contentType: string;
  body: string;
}

export interface Leak {
  url: string;
  value: string;
}

export interface SettleOptions {
  /**
   * Stop waiting for bodies after this long: a response the browser never finished receiving
   * (e.g. a prefetch the router stopped reading) is then listed in `unfinished` instead of
   * blocking for ever. Without it, settle waits for every body.
   */
  withinMs?: number;
}

/**
 * Records the body of every response the page receives (documents, RSC payloads, JSON, scripts,
 * styles) so a test can search all of them for plaintext values.
 */
export function recordResponses(page: Page) {
  const pending: { url: string; body: Promise<void> }[] = [];
  const responses: RecordedResponse[] = [];
  /** URLs whose body had not arrived when a bounded settle gave up. */
  const unfinished: string[] = [];
  page.on('response', (response: Response) => {
    pending.push({
      url: response.url(),
      body: response
        .body()
        .then((body) => {
          responses.push({ url: response.url(), contentType: response.headers()['content-type'] ?? '', body: body.toString('utf8') });
        })
        // Redirects and aborted requests have no body.
        .catch(() => undefined),
    });
  });
  return {
    responses,
    unfinished,
    async settle(options: SettleOptions = {}): Promise<RecordedResponse[]> {
      const deadline = options.withinMs === undefined ? undefined : Date.now() + options.withinMs;
      while (pending.length) {
        const batch = pending.splice(0);
        const all = Promise.all(batch.map((p) => p.body));
        if (deadline === undefined) {
          await all;
          continue;
        }
        const done = new Set<(typeof batch)[number]>();
        for (const p of batch) void p.body.then(() => done.add(p));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
        clearTimeout(timer);
        // Let bodies that settled in the same tick mark themselves done.
        await new Promise((resolve) => setImmediate(resolve));
        unfinished.push(...batch.filter((p) => !done.has(p)).map((p) => p.url));
      }
      return responses;
    },
    /** Every response holding one of `values`: a string found as it is, or a pattern's first match in the body. */
    async findLeaks(values: readonly (string | RegExp)[], options: SettleOptions = {}): Promise<Leak[]> {
      await this.settle(options);
      const leaks: Leak[] = [];
      for (const response of responses) leaks.push(...leaksIn(response.url, response.body, values));
      return leaks;
    },
  };
}

/** The leaks in one body: each string value it holds, and each pattern's first match in it. */
export function leaksIn(url: string, body: string, values: readonly (string | RegExp)[]): Leak[] {
  const leaks: Leak[] = [];
  for (const value of values) {
    if (typeof value === 'string') {
      if (body.includes(value)) leaks.push({ url, value });
    } else {
      const match = value.exec(body);
      if (match) leaks.push({ url, value: match[0] });
    }
  }
  return leaks;
}
