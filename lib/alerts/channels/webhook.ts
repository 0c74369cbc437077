import 'server-only';
import type { AlertMessage, ChannelSender, DeliveryResult } from '../types';
import { EVENT_HEADER, SIGNATURE_HEADER, signWebhookBody } from '../webhook-signature';
import { failureOfAnswer, failureWithoutAnswer, postOnce } from './http-post';

// The generic webhook: the AlertMessage as JSON (with `id`, the dedupKey, so a receiver can drop a
// repeat), signed with the shared secret over the timestamp and the exact bytes sent. 2xx is
// delivered; 408, 429 and 5xx are retried; any other answer needs the receiver fixed. A receiver's
// body is never quoted back: its status is the whole cause.

export type WebhookBody = AlertMessage & { id: string };

export function webhookBodyOf(message: AlertMessage): WebhookBody {
  return { id: message.dedupKey, ...message };
}

export interface WebhookSenderOptions {
  id: string;
  /** The receiver's URL (it may carry a token in its path or query): never in a result. */
  url: string;
  /** The HMAC secret the receiver shares. */
  secret: string;
  timeoutMs?: number;
  /** For tests: the clock that stamps the signature. */
  now?: () => Date;
}

export function createWebhookSender({ id, url, secret, timeoutMs, now = () => new Date() }: WebhookSenderOptions): ChannelSender {
  return {
    id,
    kind: 'webhook',
    async send(message, signal): Promise<DeliveryResult> {
      const body = JSON.stringify(webhookBodyOf(message));
      const timestamp = Math.floor(now().getTime() / 1000);
      const outcome = await postOnce({
        url,
        body,
        headers: { [SIGNATURE_HEADER]: signWebhookBody(body, secret, timestamp), [EVENT_HEADER]: message.event },
        timeoutMs,
        signal,
      });
      if (outcome.kind !== 'answered') return failureWithoutAnswer('The webhook', outcome);
      if (outcome.status >= 200 && outcome.status < 300) return { ok: true };
      return failureOfAnswer('The webhook', outcome.status, outcome.headers, undefined);
    },
  };
}
