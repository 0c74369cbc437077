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

/**
 * Records the body of every response the page receives (documents, RSC payloads, JSON, scripts,
 * styles) so a test can search all of them for plaintext values.
 */
export function recordResponses(page: Page) {
  const pending: Promise<void>[] = [];
  const responses: RecordedResponse[] = [];
  page.on('response', (response: Response) => {
    pending.push(
      response
        .body()
        .then((body) => {
          responses.push({ url: response.url(), contentType: response.headers()['content-type'] ?? '', body: body.toString('utf8') });
        })
        // Redirects and aborted requests have no body.
        .catch(() => undefined),
    );
  });
  return {
    responses,
    async settle(): Promise<RecordedResponse[]> {
      while (pending.length) await Promise.all(pending.splice(0));
      return responses;
    },
    async findLeaks(values: string[]): Promise<Leak[]> {
      await this.settle();
      const leaks: Leak[] = [];
      for (const response of responses) {
        for (const value of values) if (response.body.includes(value)) leaks.push({ url: response.url, value });
      }
      return leaks;
    },
  };
}
