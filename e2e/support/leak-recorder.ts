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
    async findLeaks(values: string[], options: SettleOptions = {}): Promise<Leak[]> {
      await this.settle(options);
      const leaks: Leak[] = [];
      for (const response of responses) {
        for (const value of values) if (response.body.includes(value)) leaks.push({ url: response.url, value });
      }
      return leaks;
    },
  };
}
