import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createChannelSenders } from '@/lib/alerts/channel-config';
import { alertEmailOf, createEmailSender, triggerMessageId, type EmailSenderOptions } from '@/lib/alerts/channels/email';
import type { DeliveryResult } from '@/lib/alerts/types';
import { parseConfigYaml } from '@/lib/config/yaml-file';
import { makeTempDir } from '../../support/temp-dir';
import { alertMessage, closedPort, digestMessage, never } from './http-receiver';

// A real SMTP server (smtp-server) on 127.0.0.1 offering STARTTLS with a throwaway self-signed
// certificate and requiring AUTH after it; what it receives is parsed back with mailparser.

const USER = 'alerts';
const PASSWORD = 'smtp-pa55word-for-tests';
const FROM = 'Secrets Dashboard <alerts@dashboard.example.com>';

interface Received {
  mail: ParsedMail;
  secure: boolean;
  user: unknown;
  envelopeTo: string[];
}

interface TestSmtp {
  port: number;
  received: Received[];
  authAttempts: { username?: string; ok: boolean }[];
  close: () => Promise<void>;
}

const tmp = makeTempDir('alerts-email-');
const certFile = path.join(tmp.dir, 'cert.pem');
const keyFile = path.join(tmp.dir, 'key.pem');

async function startSmtp(options: Partial<SMTPServerOptions> = {}): Promise<TestSmtp> {
  const state: TestSmtp = { port: 0, received: [], authAttempts: [], close: async () => undefined };
  const server = new SMTPServer({
    key: readFileSync(keyFile),
    cert: readFileSync(certFile),
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      const ok = auth.username === USER && auth.password === PASSWORD;
      state.authAttempts.push({ username: auth.username, ok });
      if (ok) return callback(null, { user: USER });
      return callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('nobody@')) return callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
      if (address.address.startsWith('greylisted@')) return callback(Object.assign(new Error('Greylisted, try again later'), { responseCode: 451 }));
      return callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          state.received.push({ mail, secure: session.secure, user: session.user, envelopeTo: session.envelope.rcptTo.map((r) => r.address) });
          callback();
        })
        .catch(callback);
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.server.address() as { port: number }).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

let smtp: TestSmtp;
let ca: string;

beforeAll(async () => {
  // A throwaway certificate for 127.0.0.1 and localhost, trusted by the sender through `ca` (caFile in the config).
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-keyout', keyFile, '-out', certFile, '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  ca = readFileSync(certFile, 'utf8');
  smtp = await startSmtp();
});
afterAll(async () => {
  await smtp.close();
  tmp.cleanup();
});
beforeEach(() => {
  smtp.received.length = 0;
  smtp.authAttempts.length = 0;
});

function sender(overrides: Partial<EmailSenderOptions> & { port?: number } = {}) {
  const { port = smtp.port, ...rest } = overrides;
  return createEmailSender({
    id: 'team-mail',
    smtp: { host: '127.0.0.1', port, security: 'starttls', user: USER, password: PASSWORD, ca },
    from: FROM,
    to: ['oncall@example.com', 'leads@example.com'],
    timeoutMs: 5000,
    ...rest,
  });
}

const references = (mail: ParsedMail) => (Array.isArray(mail.references) ? mail.references : mail.references ? [mail.references] : []);

function expectNoSecretIn(result: DeliveryResult) {
  expect(JSON.stringify(result)).not.toContain(PASSWORD);
  expect(JSON.stringify(result)).not.toContain(USER);
  expect(JSON.stringify(result)).not.toContain('@example.com');
}

describe('E-mail channel: the message', () => {
  it('delivers over STARTTLS after AUTH: subject, plain text and HTML, the Message-ID from the dedup key', async () => {
    const message = alertMessage();
    expect(await sender().send(message, never())).toEqual({ ok: true });
    expect(smtp.authAttempts).toEqual([{ username: USER, ok: true }]);
    expect(smtp.received).toHaveLength(1);
    const { mail, secure, user, envelopeTo } = smtp.received[0]!;
    expect(secure).toBe(true);
    expect(user).toBe(USER);
    expect(envelopeTo).toEqual(['oncall@example.com', 'leads@example.com']);
    expect(mail.subject).toBe(message.title);
    expect(mail.from?.value).toEqual([{ name: 'Secrets Dashboard', address: 'alerts@dashboard.example.com' }]);
    expect(mail.messageId).toBe(triggerMessageId(message.dedupKey, FROM));
    expect(mail.messageId).toMatch(/^<alert\.[0-9a-f]{32}@dashboard\.example\.com>$/);
    expect(mail.inReplyTo).toBeUndefined();
    expect(mail.date?.toISOString()).toBe(message.at);
    expect(mail.headers.get('x-secrets-dashboard-event')).toBe('overdue');
    expect(mail.text).toContain(message.summary);
    expect(mail.text).toContain(`- /prod/payments/db-password (overdue · sim-prod-secrets)\n  ${message.subjects[0]!.url}`);
    expect(mail.text).toContain('Rule overdue-prod (Production secrets past their rotation policy) · overdue · high · seen 2026-12-05T07:30:00.000Z');
    expect(mail.html).toContain(`<a href="${message.subjects[0]!.url}">/prod/payments/db-password</a>`);
    expect(mail.html).toContain(`<h2>${message.title}</h2>`);
  });

  it('the same alert gets the same Message-ID on a retry; another alert another one', () => {
    const a = alertEmailOf(alertMessage(), FROM);
    expect(alertEmailOf(alertMessage(), FROM).messageId).toBe(a.messageId);
    expect(alertEmailOf(alertMessage({ dedupKey: 'other' }), FROM).messageId).not.toBe(a.messageId);
  });

  it('a resolve threads under its trigger (In-Reply-To and References) and says resolved', async () => {
    const trigger = alertMessage();
    const resolve = alertMessage({ action: 'resolve', at: '2026-12-06T09:00:00.000Z' });
    await sender().send(trigger, never());
    await sender().send(resolve, never());
    const [first, second] = smtp.received.map((r) => r.mail);
    expect(second!.subject).toBe(`Resolved: ${trigger.title}`);
    expect(second!.messageId).not.toBe(first!.messageId);
    expect(second!.inReplyTo).toBe(first!.messageId);
    expect(references(second!)).toEqual([first!.messageId]);
    expect(second!.text).toMatch(/^Resolved\. /);
    expect(second!.text).toContain('cleared 2026-12-06T09:00:00.000Z');
  });

  it('escapes HTML in names and summaries', async () => {
    const message = alertMessage({
      title: 'Overdue: <img src=x onerror=alert(1)>',
      summary: 'A "quoted" <b>bold</b> & summary',
      subjects: [{ storeId: 'local', name: '<script>alert(1)</script>', url: 'https://dashboard.example.com/items/a"b', status: 'overdue' }],
    });
    await sender().send(message, never());
    const { mail } = smtp.received[0]!;
    const html = mail.html as string;
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('A &quot;quoted&quot; &lt;b&gt;bold&lt;/b&gt; &amp; summary');
    expect(html).toContain('href="https://dashboard.example.com/items/a&quot;b"');
    // The plain-text part is the text itself.
    expect(mail.text).toContain('A "quoted" <b>bold</b> & summary');
  });

  it('a digest is one e-mail listing the first items, "and 4,950 more" and the full list', async () => {
    const message = digestMessage(5000);
    await sender().send(message, never());
    expect(smtp.received).toHaveLength(1);
    const { mail } = smtp.received[0]!;
    expect(mail.subject).toBe('Daily digest: 5,000 items overdue');
    expect(mail.text).toContain(`…and 4,950 more: ${message.link}`);
    expect(mail.text).toContain(`See all 5,000: ${message.link}`);
    expect((mail.html as string).match(/<li>/g)).toHaveLength(50);
  });
});

describe('E-mail channel: how a delivery went', () => {
  it('a wrong password is 535, not retryable, and the cause holds neither user nor password', async () => {
    const result = await sender({ smtp: { host: '127.0.0.1', port: smtp.port, user: USER, password: 'wrong', ca } }).send(alertMessage(), never());
    expect(result).toEqual({ ok: false, retryable: false, cause: 'SMTP server answered 535 (EAUTH)' });
    expect(smtp.received).toHaveLength(0);
    expectNoSecretIn(result);
  });

  it('a refused mailbox is 550, not retryable; a greylisting 451 is retryable', async () => {
    const refused = await sender({ to: ['nobody@example.com'] }).send(alertMessage(), never());
    expect(refused).toEqual({ ok: false, retryable: false, cause: 'SMTP server answered 550 (EENVELOPE)' });
    expectNoSecretIn(refused);
    const greylisted = await sender({ to: ['greylisted@example.com'] }).send(alertMessage(), never());
    expect(greylisted).toEqual({ ok: false, retryable: true, cause: 'SMTP server answered 451 (EENVELOPE)' });
    expect(smtp.received).toHaveLength(0);
  });

  it('delivers to the accepted recipients when one is refused, and says how many', async () => {
    const result = await sender({ to: ['oncall@example.com', 'nobody@example.com'] }).send(alertMessage(), never());
    expect(result).toEqual({ ok: true, detail: '1 of 2 recipients accepted' });
    expect(smtp.received.map((r) => r.envelopeTo)).toEqual([['oncall@example.com']]);
  });

  it('a closed port is retryable', async () => {
    const result = await sender({ port: await closedPort() }).send(alertMessage(), never());
    expect(result).toEqual({ ok: false, retryable: true, cause: 'SMTP server could not be reached (ECONNREFUSED)' });
  });

  it('a server that never greets times out at the configured time, retryable', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const started = performance.now();
      const result = await sender({ port: (silent.address() as { port: number }).port, timeoutMs: 600 }).send(alertMessage(), never());
      const took = performance.now() - started;
      expect(result).toEqual({ ok: false, retryable: true, cause: 'SMTP connection timed out after 0.6 s' });
      expect(took).toBeGreaterThanOrEqual(550);
      expect(took).toBeLessThan(3000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('STARTTLS is required by default: a server that does not offer it is refused before any login, not retried', async () => {
    const plain = await startSmtp({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
    try {
      const result = await sender({ port: plain.port }).send(alertMessage(), never());
      expect(result).toMatchObject({ ok: false, retryable: false, cause: expect.stringContaining('ETLS') });
      expect(plain.authAttempts).toEqual([]);
      expect(plain.received).toEqual([]);
      // security: none is a choice made in the config, without a login.
      const none = await sender({ port: plain.port, smtp: { host: '127.0.0.1', port: plain.port, security: 'none' } }).send(alertMessage(), never());
      expect(none).toEqual({ ok: false, retryable: false, cause: 'SMTP server answered 530 (EENVELOPE)' });
    } finally {
      await plain.close();
    }
  });

  it('a certificate that is not trusted is refused, not retried', async () => {
    const result = await sender({ smtp: { host: '127.0.0.1', port: smtp.port, user: USER, password: PASSWORD } }).send(alertMessage(), never());
    expect(result).toMatchObject({ ok: false, retryable: false, cause: expect.stringContaining('not trusted') });
    expect(smtp.authAttempts).toEqual([]);
  });

  it("stops when the queue's signal aborts", async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const started = performance.now();
      const result = await sender({ port: (silent.address() as { port: number }).port }).send(alertMessage(), controller.signal);
      expect(result).toEqual({ ok: false, retryable: true, cause: 'the delivery by SMTP was cancelled before it finished' });
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('E-mail channel from the config', () => {
  it('an alerts.channels entry with caFile and the login from the environment delivers', async () => {
    const configFile = path.join(tmp.dir, 'config.yaml');
    writeFileSync(path.join(tmp.dir, 'smtp-ca.pem'), ca);
    const [mail] = createChannelSenders(
      [{ id: 'team-mail', kind: 'email', smtp: { host: '127.0.0.1', port: smtp.port, userEnv: 'T_SMTP_USER', passwordEnv: 'T_SMTP_PASSWORD', caFile: 'smtp-ca.pem' }, from: FROM, to: ['oncall@example.com'] }],
      { T_SMTP_USER: USER, T_SMTP_PASSWORD: PASSWORD },
      { config: parseConfigYaml('alerts: {}\n', configFile) },
    );
    expect(mail?.kind).toBe('email');
    expect(await mail!.send(alertMessage(), never())).toEqual({ ok: true });
    expect(smtp.received[0]?.secure).toBe(true);
    expect(smtp.authAttempts).toEqual([{ username: USER, ok: true }]);
  });
});
