import 'server-only';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '@/lib/config/env';
import { STORE_ID_PATTERN } from '@/lib/config/stores';
import { lineOf, type ConfigDocument } from '@/lib/config/yaml-file';
import { createEmailSender, DEFAULT_SMTP_PORTS } from './channels/email';
import { DEFAULT_TIMEOUT_MS } from './channels/http-post';
import { createPagerDutySender, DEFAULT_PAGERDUTY_EVENTS_URL } from './channels/pagerduty';
import { createSlackSender } from './channels/slack';
import { createWebhookSender } from './channels/webhook';
import { CHANNEL_KINDS, type ChannelSender } from './types';

// One entry of CONFIG_FILE's `alerts.channels:` list, and the senders made from them at start-up.
// The file names environment variables; URLs, keys and passwords are read from those, never from
// the file (a config file is shared and committed; a Slack webhook URL alone lets anyone post).
// Every problem stops start-up naming the entry: "alerts.channels[2] (pager): environment variable
// PD_ROUTING_KEY is not set". No message ever repeats a variable's value.

export const CHANNEL_ID_PATTERN = STORE_ID_PATTERN;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** HMAC-SHA-256 keys shorter than this are guessable in practice; `openssl rand -hex 32` gives 64. */
export const MIN_WEBHOOK_SECRET_LENGTH = 32;

/** Keys someone may write instead of naming an environment variable: the message says what to write. */
const SECRET_KEY_HINTS: Record<string, string> = {
  url: 'urlEnv',
  webhookUrl: 'webhookUrlEnv',
  routingKey: 'routingKeyEnv',
  integrationKey: 'routingKeyEnv',
  secret: 'secretEnv',
  user: 'userEnv',
  password: 'passwordEnv',
};

const unknownKeys = (where: string, known: readonly string[]) => (issue: { code?: string; keys?: string[] }) => {
  if (issue.code !== 'unrecognized_keys') return undefined;
  const keys = issue.keys ?? [];
  const hints = keys.filter((k) => SECRET_KEY_HINTS[k]).map((k) => `write ${SECRET_KEY_HINTS[k]}: with the NAME of an environment variable instead of ${k}`);
  return `unknown ${where} ${keys.map((k) => `"${k}"`).join(', ')}; expected ${known.join(', ')}${hints.length ? ` (${hints.join('; ')})` : ''}`;
};

const envName = (field: string, holds: string, example: string) =>
  z
    .string({ error: `${field} is required: the name of the environment variable that holds ${holds}, e.g. ${example}` })
    .regex(ENV_NAME_PATTERN, { message: `${field} must be the name of an environment variable (letters, digits and _, e.g. ${example}), not its value` });

const common = {
  id: z.string({ error: 'id is required: a short URL-safe name such as oncall-slack' }).regex(CHANNEL_ID_PATTERN, {
    message: 'id must be 1-63 lowercase letters, digits or "-", starting with a letter or digit (rules name channels by it)',
  }),
  label: z.string().trim().min(1, { message: 'label must not be empty' }).max(100, { message: 'label is at most 100 characters' }).optional(),
  timeoutSeconds: z
    .number({ message: 'timeoutSeconds must be a number of seconds' })
    .positive({ message: 'timeoutSeconds must be above 0' })
    .max(60, { message: 'timeoutSeconds must be at most 60 (the queue retries; one attempt should not hold it)' })
    .optional(),
};
const keysOf = (fields: object) => ['id', 'kind', ...Object.keys(fields).filter((k) => k !== 'id')];

const slackFields = { ...common, webhookUrlEnv: envName('webhookUrlEnv', 'the Slack incoming webhook URL', 'SLACK_ALERTS_WEBHOOK_URL') };
const slackSchema = z.strictObject({ ...slackFields, kind: z.literal('slack') }, { error: unknownKeys('key', keysOf(slackFields)) });

const pagerDutyFields = {
  ...common,
  routingKeyEnv: envName('routingKeyEnv', 'the Events API v2 integration (routing) key', 'PD_ROUTING_KEY'),
  eventsUrl: z
    .url({ protocol: /^https?$/, message: `eventsUrl must be an http(s) URL: ${DEFAULT_PAGERDUTY_EVENTS_URL} (the default) or https://events.eu.pagerduty.com/v2/enqueue` })
    .optional(),
};
const pagerDutySchema = z.strictObject({ ...pagerDutyFields, kind: z.literal('pagerduty') }, { error: unknownKeys('key', keysOf(pagerDutyFields)) });

const webhookFields = {
  ...common,
  urlEnv: envName('urlEnv', "the receiver's URL", 'ALERTS_WEBHOOK_URL'),
  secretEnv: envName('secretEnv', 'the HMAC signing secret', 'ALERTS_WEBHOOK_SECRET'),
};
const webhookSchema = z.strictObject({ ...webhookFields, kind: z.literal('webhook') }, { error: unknownKeys('key', keysOf(webhookFields)) });

const SMTP_SECURITY = ['starttls', 'tls', 'none'] as const;
const smtpFields = {
  host: z
    .string({ error: 'smtp.host is required, e.g. smtp.example.com' })
    .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$|^\[[0-9A-Fa-f:.]+\]$/, { message: 'smtp.host must be a host name or an IP address, e.g. smtp.example.com' }),
  port: z.number({ message: 'smtp.port must be a port number' }).int({ message: 'smtp.port must be a whole number' }).min(1).max(65535, { message: 'smtp.port must be 1-65535' }).optional(),
  security: z.enum(SMTP_SECURITY, { message: 'smtp.security must be starttls (the default: port 587, TLS required), tls (port 465) or none' }).optional(),
  userEnv: envName('smtp.userEnv', 'the SMTP user name', 'SMTP_USER').optional(),
  passwordEnv: envName('smtp.passwordEnv', 'the SMTP password', 'SMTP_PASSWORD').optional(),
  caFile: z.string().trim().min(1, { message: 'smtp.caFile must be the path of a PEM certificate file' }).max(4096).optional(),
};
const smtpSchema = z
  .strictObject(smtpFields, { error: unknownKeys('key in smtp', Object.keys(smtpFields)) })
  .refine((s) => (s.userEnv === undefined) === (s.passwordEnv === undefined), { message: 'smtp.userEnv and smtp.passwordEnv go together: name both or neither' })
  .refine((s) => s.security !== 'none' || s.userEnv === undefined, {
    message: 'smtp.security none would send the password in clear: use starttls or tls with userEnv and passwordEnv',
  });
/** "alerts@example.com" or "Secrets Dashboard <alerts@example.com>". */
const FROM_PATTERN = /^(?:[^<>\r\n@]{1,100}<[^<>\s@]+@[A-Za-z0-9.-]+>|[^<>\s@]+@[A-Za-z0-9.-]+)$/;
const emailFields = {
  ...common,
  smtp: smtpSchema,
  from: z.string({ error: 'from is required: the sender, e.g. "Secrets Dashboard <alerts@example.com>"' }).trim().regex(FROM_PATTERN, {
    message: 'from must be an address, e.g. alerts@example.com or "Secrets Dashboard <alerts@example.com>"',
  }),
  to: z
    .array(z.email({ message: 'each address in to must be an e-mail address such as oncall@example.com' }), {
      error: 'to is required: a list of recipients, e.g. [oncall@example.com]',
    })
    .min(1, { message: 'to must name at least one recipient' })
    .max(50, { message: 'to is at most 50 recipients (use a mailing list)' }),
};
const emailSchema = z.strictObject({ ...emailFields, kind: z.literal('email') }, { error: unknownKeys('key', keysOf(emailFields)) });

export const alertChannelSchema = z.discriminatedUnion('kind', [slackSchema, pagerDutySchema, emailSchema, webhookSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? `kind must be one of ${CHANNEL_KINDS.join(', ')}` : undefined),
});
export type AlertChannelConfig = z.infer<typeof alertChannelSchema>;

export type ChannelEnv = Record<string, string | undefined>;

export interface CreateChannelSendersOptions {
  /** The parsed CONFIG_FILE: messages then name its file and line, and a relative caFile is read from its folder. */
  config?: Pick<ConfigDocument, 'source' | 'doc' | 'counter'>;
  /** Where the list sits in the file; ['alerts', 'channels'] unless told. */
  path?: (string | number)[];
}

class EntryProblem extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

function required(env: ChannelEnv, name: string, field: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new EntryProblem(`environment variable ${name} is not set`, field);
  return value.trim();
}

function httpUrl(env: ChannelEnv, name: string, field: string, example: string): string {
  const value = required(env, name, field);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EntryProblem(`environment variable ${name} is not a URL; it must hold an http(s) URL such as ${example}`, field);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new EntryProblem(`environment variable ${name} must hold an http(s) URL such as ${example}`, field);
  return value;
}

/** The sender for one valid entry; throws EntryProblem naming the field. */
function senderOf(entry: AlertChannelConfig, env: ChannelEnv, baseDir: string): ChannelSender {
  const timeoutMs = entry.timeoutSeconds !== undefined ? Math.round(entry.timeoutSeconds * 1000) : DEFAULT_TIMEOUT_MS;
  switch (entry.kind) {
    case 'slack':
      return createSlackSender({ id: entry.id, webhookUrl: httpUrl(env, entry.webhookUrlEnv, 'webhookUrlEnv', 'https://hooks.slack.com/services/T…/B…/…'), timeoutMs });
    case 'pagerduty': {
      const routingKey = required(env, entry.routingKeyEnv, 'routingKeyEnv');
      if (!/^[A-Za-z0-9+_-]{32}$/.test(routingKey))
        throw new EntryProblem(`environment variable ${entry.routingKeyEnv} must hold a 32-character Events API v2 integration key (Integration Key on the service's Integrations tab)`, 'routingKeyEnv');
      return createPagerDutySender({ id: entry.id, routingKey, eventsUrl: entry.eventsUrl ?? DEFAULT_PAGERDUTY_EVENTS_URL, timeoutMs });
    }
    case 'webhook': {
      const url = httpUrl(env, entry.urlEnv, 'urlEnv', 'https://alerts.example.com/hooks/secrets-dashboard');
      const secret = required(env, entry.secretEnv, 'secretEnv');
      if (secret.length < MIN_WEBHOOK_SECRET_LENGTH)
        throw new EntryProblem(`environment variable ${entry.secretEnv} is shorter than ${MIN_WEBHOOK_SECRET_LENGTH} characters; make one with openssl rand -hex 32`, 'secretEnv');
      return createWebhookSender({ id: entry.id, url, secret, timeoutMs });
    }
    case 'email': {
      const { smtp } = entry;
      const security = smtp.security ?? 'starttls';
      const user = smtp.userEnv !== undefined ? required(env, smtp.userEnv, 'smtp.userEnv') : undefined;
      const password = smtp.passwordEnv !== undefined ? required(env, smtp.passwordEnv, 'smtp.passwordEnv') : undefined;
      let ca: string | undefined;
      if (smtp.caFile !== undefined) {
        const file = path.resolve(baseDir, smtp.caFile);
        try {
          ca = readFileSync(file, 'utf8');
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          throw new EntryProblem(`smtp.caFile ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}`, 'smtp.caFile');
        }
        if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new EntryProblem(`smtp.caFile ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, 'smtp.caFile');
      }
      return createEmailSender({
        id: entry.id,
        smtp: { host: smtp.host, port: smtp.port ?? DEFAULT_SMTP_PORTS[security], security, user, password, ca },
        from: entry.from,
        to: entry.to,
        timeoutMs,
      });
    }
  }
}

/**
 * The senders of CONFIG_FILE's `alerts.channels:` list (undefined: none), secrets read from `env`.
 * Throws one ConfigError listing every problem of every entry.
 */
export function createChannelSenders(entries: unknown, env: ChannelEnv = process.env, options: CreateChannelSendersOptions = {}): ChannelSender[] {
  const listPath = options.path ?? ['alerts', 'channels'];
  const listName = listPath.map(String).join('.');
  const where = (issuePath: (string | number)[]) => {
    const line = options.config ? lineOf(options.config, [...listPath, ...issuePath]) : null;
    return options.config ? `${options.config.source}${line ? `:${line}` : ''}: ` : '';
  };
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) throw new ConfigError(`${where([])}${listName} must be a list of channels, each with id and kind (${CHANNEL_KINDS.join(', ')})`);

  const baseDir = options.config ? path.dirname(path.resolve(options.config.source)) : process.cwd();
  const problems: string[] = [];
  const senders: ChannelSender[] = [];
  const seen = new Map<string, number>();
  entries.forEach((raw, index) => {
    const rawId = raw && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
    const name = `${listName}[${index}]${typeof rawId === 'string' && CHANNEL_ID_PATTERN.test(rawId) ? ` (${rawId})` : ''}`;
    const parsed = alertChannelSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const issuePath = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
        const field = issuePath.map(String).join('.');
        const prefix = field && !issue.message.startsWith(field) && !issue.message.startsWith(`smtp.${field}`) ? `${field}: ` : '';
        problems.push(`${where([index, ...issuePath])}${name}: ${prefix}${issue.message}`);
      }
      return;
    }
    const first = seen.get(parsed.data.id);
    if (first !== undefined) {
      problems.push(`${where([index, 'id'])}${name}: id "${parsed.data.id}" is already used by ${listName}[${first}]; ids must be unique`);
      return;
    }
    seen.set(parsed.data.id, index);
    try {
      senders.push(senderOf(parsed.data, env, baseDir));
    } catch (error) {
      if (!(error instanceof EntryProblem)) throw error;
      problems.push(`${where([index, ...error.field.split('.')])}${name}: ${error.message}`);
    }
  });
  if (problems.length > 0) throw new ConfigError(`The alert channels in the configuration have problems:\n  ${problems.join('\n  ')}`);
  return senders;
}
