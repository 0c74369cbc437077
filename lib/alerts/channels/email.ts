import 'server-only';
import { createHash } from 'node:crypto';
import { getSystemErrorName } from 'node:util';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { AlertMessage, ChannelSender, DeliveryResult } from '../types';
import { DEFAULT_TIMEOUT_MS } from './http-post';

// E-mail over SMTP with nodemailer: STARTTLS required by default (a server that does not offer it
// is refused, not written to in clear), plain-text and HTML bodies, and a Message-ID made from the
// dedupKey so the resolve threads under its trigger (In-Reply-To, References). A fresh connection
// per message: alerts are rare and the queue paces them. 4xx replies and lost connections are
// retried; 5xx replies (550 mailbox unavailable, 535 authentication failed) are not.

export type SmtpSecurity = 'starttls' | 'tls' | 'none';
export const DEFAULT_SMTP_PORTS: Record<SmtpSecurity, number> = { starttls: 587, tls: 465, none: 25 };

export interface EmailSenderOptions {
  id: string;
  smtp: {
    host: string;
    port?: number;
    security?: SmtpSecurity;
    user?: string;
    password?: string;
    /** PEM certificate(s) to trust besides the system's (a private CA, a test's self-signed one). */
    ca?: string | Buffer;
  };
  /** "alerts@example.com" or "Secrets Dashboard <alerts@example.com>". */
  from: string;
  to: string[];
  timeoutMs?: number;
}

export interface AlertEmail {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  inReplyTo?: string;
  references?: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const isHttpUrl = (url: string) => /^https?:\/\//i.test(url);
const count = (n: number) => n.toLocaleString('en-US');
const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

/** The domain after the last "@" of the From address, for Message-IDs (RFC 5322 §3.6.4). */
function domainOf(from: string): string {
  const address = /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from;
  const domain = address.slice(address.lastIndexOf('@') + 1).trim();
  return /^[A-Za-z0-9.-]+$/.test(domain) ? domain : 'secrets-dashboard.invalid';
}

/** The trigger's Message-ID: the same for every retry and replica, and what a resolve replies to. */
export function triggerMessageId(dedupKey: string, from: string): string {
  return `<alert.${hash(dedupKey)}@${domainOf(from)}>`;
}

export function alertEmailOf(message: AlertMessage, from: string): AlertEmail {
  const rootId = triggerMessageId(message.dedupKey, from);
  const resolved = message.action === 'resolve';
  const subject =
    message.action === 'resolve' ? (/^resolved\b/i.test(message.title) ? message.title : `Resolved: ${message.title}`) : message.action === 'test' ? `Test: ${message.title}` : message.title;
  const more = Math.max(0, message.totalItems - message.subjects.length);
  const rule = message.rule.description ? `${message.rule.id} (${message.rule.description})` : message.rule.id;
  const footer = `Rule ${rule} · ${message.event} · ${message.severity} · ${resolved ? 'cleared' : 'seen'} ${message.at}`;
  const detailsOf = (s: AlertMessage['subjects'][number]) => [s.status, s.principal ? `by ${s.principal}` : undefined, s.storeId].filter(Boolean).join(' · ');

  const text = [
    resolved ? `Resolved. ${message.summary}` : message.action === 'test' ? `Test message from the alerts page. ${message.summary}` : message.summary,
    '',
    ...message.subjects.map((s) => `- ${s.name} (${detailsOf(s)})\n  ${s.url}`),
    ...(more > 0 ? [`…and ${count(more)} more: ${message.link}`] : []),
    '',
    `${message.totalItems > 1 ? `See all ${count(message.totalItems)}` : 'Open in the dashboard'}: ${message.link}`,
    '',
    footer,
  ].join('\n');

  const anchor = (url: string, label: string) => (isHttpUrl(url) ? `<a href="${escapeHtml(url)}">${escapeHtml(label)}</a>` : escapeHtml(label));
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif">',
    `<h2>${escapeHtml(subject)}</h2>`,
    `<p>${resolved ? '<strong>Resolved.</strong> ' : message.action === 'test' ? '<strong>Test message</strong> from the alerts page. ' : ''}${escapeHtml(message.summary)}</p>`,
    message.subjects.length ? `<ul>${message.subjects.map((s) => `<li>${anchor(s.url, s.name)} · ${escapeHtml(detailsOf(s))}</li>`).join('')}</ul>` : '',
    more > 0 ? `<p>…and ${count(more)} more: ${anchor(message.link, 'see the full list')}</p>` : '',
    `<p>${anchor(message.link, message.totalItems > 1 ? `See all ${count(message.totalItems)}` : 'Open in the dashboard')}</p>`,
    `<p style="color: #666; font-size: small">${escapeHtml(footer)}</p>`,
    '</body></html>',
  ].join('\n');

  if (message.action === 'trigger') return { subject, text, html, messageId: rootId };
  // A resolve (and a test) has its own id, stable across retries of the same message.
  const ownId = `<alert.${hash(message.dedupKey)}.${message.action}.${hash(message.at).slice(0, 12)}@${domainOf(from)}>`;
  return message.action === 'resolve' ? { subject, text, html, messageId: ownId, inReplyTo: rootId, references: rootId } : { subject, text, html, messageId: ownId };
}

type SmtpError = Error & { code?: string; responseCode?: number; errno?: number };

/** What went wrong, without the server's words (which may echo addresses or a login): the reply code and nodemailer's error code. */
export function failureOfSmtpError(error: unknown, timeoutMs: number): DeliveryResult {
  const { code, responseCode, message, errno } = (error ?? {}) as SmtpError;
  const tag = typeof code === 'string' && /^E[A-Z]{2,20}$/.test(code) ? code : 'error';
  if (typeof responseCode === 'number' && responseCode >= 400 && responseCode < 600)
    return { ok: false, retryable: responseCode < 500, cause: `SMTP server answered ${responseCode} (${tag})` };
  if (tag === 'ETIMEDOUT') return { ok: false, retryable: true, cause: `SMTP connection timed out after ${timeoutMs / 1000} s` };
  if (typeof message === 'string' && /certificate|self[- ]signed|CERT_/i.test(message))
    return { ok: false, retryable: false, cause: `SMTP server's TLS certificate was not trusted (${tag}); set smtp.caFile or fix the certificate` };
  if (tag === 'ETLS') return { ok: false, retryable: false, cause: 'SMTP TLS could not be started (ETLS): the server offers no STARTTLS, or the handshake failed' };
  if (tag === 'EAUTH') return { ok: false, retryable: false, cause: 'SMTP authentication failed (EAUTH)' };
  if (tag === 'EENVELOPE' || tag === 'EMESSAGE' || tag === 'ECONFIG') return { ok: false, retryable: false, cause: `SMTP refused the message (${tag})` };
  // nodemailer relabels a socket error ESOCKET; the system's own name (ECONNREFUSED…) says more.
  const systemName = typeof errno === 'number' && errno < 0 ? safeSystemErrorName(errno) : undefined;
  return { ok: false, retryable: true, cause: `SMTP server could not be reached (${systemName ?? tag})` };
}

function safeSystemErrorName(errno: number): string | undefined {
  try {
    return getSystemErrorName(errno);
  } catch {
    return undefined;
  }
}

export function createEmailSender({ id, smtp, from, to, timeoutMs = DEFAULT_TIMEOUT_MS }: EmailSenderOptions): ChannelSender {
  const security = smtp.security ?? 'starttls';
  const transportOptions: SMTPTransport.Options = {
    host: smtp.host,
    port: smtp.port ?? DEFAULT_SMTP_PORTS[security],
    secure: security === 'tls',
    requireTLS: security === 'starttls',
    ignoreTLS: security === 'none',
    ...(smtp.user !== undefined ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    tls: { minVersion: 'TLSv1.2', ...(smtp.ca ? { ca: smtp.ca } : {}) },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    logger: false,
    debug: false,
  };
  return {
    id,
    kind: 'email',
    async send(message, signal): Promise<DeliveryResult> {
      if (signal.aborted) return { ok: false, retryable: true, cause: 'the delivery by SMTP was cancelled before it finished' };
      const mail = alertEmailOf(message, from);
      const transport = nodemailer.createTransport(transportOptions);
      let onAbort: (() => void) | undefined;
      // nodemailer takes no AbortSignal: a cancelled send closes the transport and answers at once.
      const cancelled = new Promise<DeliveryResult>((resolve) => {
        onAbort = () => {
          transport.close();
          resolve({ ok: false, retryable: true, cause: 'the delivery by SMTP was cancelled before it finished' });
        };
        signal.addEventListener('abort', onAbort, { once: true });
      });
      const sent = transport
        .sendMail({
          from,
          to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo, references: mail.references } : {}),
          date: Number.isNaN(Date.parse(message.at)) ? new Date() : new Date(message.at),
          headers: { 'X-Secrets-Dashboard-Event': message.event, 'Auto-Submitted': 'auto-generated' },
        })
        .then((info): DeliveryResult => {
          const refused = info.rejected.length;
          return refused > 0 ? { ok: true, detail: `${info.accepted.length} of ${to.length} recipients accepted` } : { ok: true };
        })
        .catch((error: unknown) => failureOfSmtpError(error, timeoutMs));
      try {
        return await Promise.race([sent, cancelled]);
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
        transport.close();
      }
    },
  };
}
