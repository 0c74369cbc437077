import 'server-only';
import type { AlertMessage, AlertSubject, ChannelSender, DeliveryResult } from '../types';
import { failureOfAnswer, failureWithoutAnswer, postOnce, shortCode } from './http-post';

// Slack incoming webhooks: one POST of a Block Kit message to the webhook URL (itself the secret).
// Slack answers 200 "ok", else a status and a plain-text code (invalid_payload, invalid_token,
// no_service, channel_is_archived…). Block Kit's limits are kept here so a digest of 5,000 items
// is one valid message: text ≤ 3000 characters, a header ≤ 150, at most 50 blocks.

export const SLACK_LIMITS = { blocks: 50, text: 3000, header: 150, buttonText: 75, url: 3000 } as const;
/** Slack's error codes: invalid_payload, no_service, channel_is_archived… */
const SLACK_ERROR_CODE = /^[a-z][a-z_]{0,59}$/;
/** Blocks kept for the header, summary, "and N more", context and button around the subject list. */
const SUBJECT_SECTIONS_MAX = SLACK_LIMITS.blocks - 5;

type PlainText = { type: 'plain_text'; text: string; emoji?: boolean };
type Mrkdwn = { type: 'mrkdwn'; text: string };
export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text: Mrkdwn }
  | { type: 'context'; elements: Mrkdwn[] }
  | { type: 'actions'; elements: { type: 'button'; text: PlainText; url: string; action_id: string }[] };
export interface SlackPayload {
  /** The notification's text (and what clients without blocks show). */
  text: string;
  blocks: SlackBlock[];
}

/** Slack's mrkdwn treats &, < and > as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** "<url|name>" for an http(s) URL, the escaped name alone otherwise. */
function linkTo(url: string, label: string): string {
  const name = escapeMrkdwn(label).replace(/\|/g, '¦');
  if (!/^https?:\/\//i.test(url) || url.length > SLACK_LIMITS.url) return name;
  return `<${url.replace(/\|/g, '%7C').replace(/</g, '%3C').replace(/>/g, '%3E')}|${name}>`;
}

function subjectLine(subject: AlertSubject): string {
  const details = [subject.status, subject.principal ? `by ${subject.principal}` : undefined, subject.storeId]
    .filter((part): part is string => Boolean(part))
    .map(escapeMrkdwn);
  return truncate(`• ${linkTo(subject.url, subject.name)}${details.length ? ` · ${details.join(' · ')}` : ''}`, SLACK_LIMITS.text);
}

/** Lines packed into sections of at most 3000 characters each. */
function packSections(lines: string[], maxSections: number): { sections: string[]; linesUsed: number } {
  const sections: string[] = [];
  let current = '';
  let linesUsed = 0;
  for (const line of lines) {
    const next = current ? `${current}\n${line}` : line;
    if (next.length <= SLACK_LIMITS.text) current = next;
    else {
      if (sections.length + 1 >= maxSections) break;
      sections.push(current);
      current = line;
    }
    linesUsed++;
  }
  if (current) sections.push(current);
  return { sections, linesUsed };
}

const count = (n: number) => n.toLocaleString('en-US');

function headline(message: AlertMessage): string {
  if (message.action === 'resolve') return /^resolved\b/i.test(message.title) ? message.title : `Resolved: ${message.title}`;
  if (message.action === 'test') return `Test: ${message.title}`;
  return message.title;
}

export function slackMessageOf(message: AlertMessage): SlackPayload {
  const title = headline(message);
  const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(title, SLACK_LIMITS.header), emoji: false } }];
  const lead = message.action === 'resolve' ? '*Resolved.* ' : message.action === 'test' ? '*Test message* from the alerts page. ' : '';
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`${lead}${escapeMrkdwn(message.summary)}`, SLACK_LIMITS.text) } });

  const { sections, linesUsed } = packSections(message.subjects.map(subjectLine), SUBJECT_SECTIONS_MAX);
  for (const text of sections) blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  const more = Math.max(0, message.totalItems - linesUsed);
  if (more > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `…and ${count(more)} more: ${linkTo(message.link, 'see the full list')}` } });

  const rule = message.rule.description ? `${message.rule.id} (${message.rule.description})` : message.rule.id;
  const when = message.action === 'resolve' ? 'cleared' : 'seen';
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncate(escapeMrkdwn(`Rule ${rule} · ${message.event} · ${message.severity} · ${when} ${message.at}`), SLACK_LIMITS.text) }],
  });
  if (/^https?:\/\//i.test(message.link) && message.link.length <= SLACK_LIMITS.url) {
    const label = message.totalItems > 1 ? `See all ${count(message.totalItems)}` : 'Open in the dashboard';
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: truncate(label, SLACK_LIMITS.buttonText) }, url: message.link, action_id: 'open-link' }] });
  }
  return { text: truncate(escapeMrkdwn(title), SLACK_LIMITS.text), blocks };
}

export interface SlackSenderOptions {
  id: string;
  /** https://hooks.slack.com/services/…: a secret, never in a result or a log. */
  webhookUrl: string;
  timeoutMs?: number;
}

export function createSlackSender({ id, webhookUrl, timeoutMs }: SlackSenderOptions): ChannelSender {
  return {
    id,
    kind: 'slack',
    async send(message, signal): Promise<DeliveryResult> {
      const outcome = await postOnce({ url: webhookUrl, body: JSON.stringify(slackMessageOf(message)), headers: {}, timeoutMs, signal });
      if (outcome.kind !== 'answered') return failureWithoutAnswer('Slack', outcome);
      if (outcome.status >= 200 && outcome.status < 300) return { ok: true };
      return failureOfAnswer('Slack', outcome.status, outcome.headers, shortCode(outcome.body, SLACK_ERROR_CODE, [webhookUrl]));
    },
  };
}
