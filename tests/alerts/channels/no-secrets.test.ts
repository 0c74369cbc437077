import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannelSenders } from '@/lib/alerts/channel-config';
import { alertEmailOf } from '@/lib/alerts/channels/email';
import type { AlertMessage, ChannelSender } from '@/lib/alerts/types';
import { alertMessage, digestMessage, never, startReceiver, type HttpReceiver } from './http-receiver';

// What leaves the dashboard on any channel is the message (names, statuses, principals, links) and
// the channel's own fixed words: never a channel's secrets (beyond PagerDuty's routing_key field,
// which the API requires), and never anything else from the environment the senders were made from.

const SLACK_TOKEN = 'slackpathtoken7f3a9c';
const PD_KEY = 'PDKEYfedcba9876543210fedcba98765';
const HOOK_TOKEN = 'hookquerytoken42';
const HOOK_SECRET = 'hook-signing-secret-0123456789abcdef01';
/** Stands in for a secret value that happens to be in the server's environment (e.g. MASTER_KEY). */
const UNRELATED_VALUE = 'value-canary-5b1e0c7d9a';

let receiver: HttpReceiver;
let senders: ChannelSender[];

beforeAll(async () => {
  receiver = await startReceiver((req) => (req.path === '/v2/enqueue' ? { status: 202, body: '{"status":"success"}' } : { status: 200, body: 'ok' }));
  senders = createChannelSenders(
    [
      { id: 'slack', kind: 'slack', webhookUrlEnv: 'T_SLACK_URL' },
      { id: 'pager', kind: 'pagerduty', routingKeyEnv: 'T_PD_KEY', eventsUrl: `${receiver.url}/v2/enqueue` },
      { id: 'hook', kind: 'webhook', urlEnv: 'T_HOOK_URL', secretEnv: 'T_HOOK_SECRET' },
    ],
    {
      T_SLACK_URL: `${receiver.url}/services/T1/B1/${SLACK_TOKEN}`,
      T_PD_KEY: PD_KEY,
      T_HOOK_URL: `${receiver.url}/hook?token=${HOOK_TOKEN}`,
      T_HOOK_SECRET: HOOK_SECRET,
      MASTER_KEY: UNRELATED_VALUE,
    },
  );
});
afterAll(async () => {
  await receiver.close();
});

const messages: AlertMessage[] = [
  alertMessage(),
  alertMessage({ action: 'resolve' }),
  alertMessage({ action: 'test', title: 'Send test' }),
  alertMessage({ event: 'new-reader', subjects: [{ storeId: 'sim-prod-secrets', name: '/prod/db', url: 'https://dashboard.example.com/x', principal: 'arn:aws:iam::111111111111:role/etl' }] }),
  digestMessage(5000),
];

describe('no secret leaves on any channel', () => {
  it('Slack, PagerDuty and webhook bodies and headers hold no channel secret and nothing else from the environment', async () => {
    for (const message of messages) for (const sender of senders) expect((await sender.send(message, never())).ok, `${sender.id} ${message.action}`).toBe(true);
    expect(receiver.requests.length).toBeGreaterThanOrEqual(messages.length * 3);
    for (const request of receiver.requests) {
      const sent = `${JSON.stringify(request.headers)}\n${request.rawBody}`;
      for (const secret of [SLACK_TOKEN, HOOK_TOKEN, HOOK_SECRET, UNRELATED_VALUE]) expect(sent).not.toContain(secret);
      if (request.path === '/v2/enqueue') {
        // The routing key only where the Events API wants it.
        const { routing_key, ...rest } = JSON.parse(request.rawBody) as { routing_key: string };
        expect(routing_key).toBe(PD_KEY);
        expect(JSON.stringify(rest)).not.toContain(PD_KEY);
      } else expect(sent).not.toContain(PD_KEY);
    }
  });

  it('an e-mail holds the message only', () => {
    for (const message of messages) {
      const mail = JSON.stringify(alertEmailOf(message, 'alerts@example.com'));
      expect(mail).toContain(message.summary.slice(0, 20));
      for (const secret of [SLACK_TOKEN, PD_KEY, HOOK_TOKEN, HOOK_SECRET, UNRELATED_VALUE]) expect(mail).not.toContain(secret);
    }
  });
});
