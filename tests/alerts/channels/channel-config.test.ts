import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alertChannelSchema, createChannelSenders, type ChannelEnv } from '@/lib/alerts/channel-config';
import { ConfigError } from '@/lib/config/env';
import { parseConfigYaml } from '@/lib/config/yaml-file';
import { makeTempDir } from '../../support/temp-dir';
import { alertMessage, never, startReceiver } from './http-receiver';

const tmp = makeTempDir('alerts-config-');
afterAll(() => tmp.cleanup());

const SLACK_URL = 'https://hooks.slack.com/services/T0001/B0001/SLACKSECRETTOKENVALUE';
const PD_KEY = 'PDKEY0123456789abcdef0123456789A';
const HOOK_SECRET = 'hook-secret-0123456789abcdef0123456789';
const SMTP_PASSWORD = 'smtp-password-value';
const env: ChannelEnv = {
  SLACK_URL,
  PD_ROUTING_KEY: PD_KEY,
  HOOK_URL: 'https://alerts.example.com/hooks/dashboard?token=hooktokenvalue',
  HOOK_SECRET,
  SMTP_USER: 'smtp-login-value',
  SMTP_PASSWORD,
};
const VALUES = Object.values(env) as string[];

const good = [
  { id: 'oncall-slack', kind: 'slack', webhookUrlEnv: 'SLACK_URL' },
  { id: 'team-mail', kind: 'email', smtp: { host: 'smtp.example.com', userEnv: 'SMTP_USER', passwordEnv: 'SMTP_PASSWORD' }, from: 'alerts@example.com', to: ['oncall@example.com'] },
  { id: 'pager', kind: 'pagerduty', routingKeyEnv: 'PD_ROUTING_KEY' },
  { id: 'siem', kind: 'webhook', urlEnv: 'HOOK_URL', secretEnv: 'HOOK_SECRET', timeoutSeconds: 5 },
];

/** The ConfigError's message for these entries (fails the test if none is thrown). */
function problemsOf(entries: unknown, environment: ChannelEnv = env, options?: Parameters<typeof createChannelSenders>[2]): string {
  try {
    createChannelSenders(entries, environment, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const value of VALUES) expect(message, 'a ConfigError never repeats a value').not.toContain(value);
    return message;
  }
  throw new Error('expected a ConfigError');
}

const withEntry = (index: number, entry: object) => good.map((e, i) => (i === index ? entry : e));

describe('alerts.channels', () => {
  it('a good config gives one sender per entry, of its kind, in order', () => {
    const senders = createChannelSenders(good, env);
    expect(senders.map((s) => [s.id, s.kind])).toEqual([
      ['oncall-slack', 'slack'],
      ['team-mail', 'email'],
      ['pager', 'pagerduty'],
      ['siem', 'webhook'],
    ]);
    // The senders carry their secrets, but nothing that shows them.
    expect(JSON.stringify(senders)).not.toMatch(/SLACKSECRET|PDKEY|hook-secret|smtp-password/);
    expect(createChannelSenders(undefined, env)).toEqual([]);
    expect(createChannelSenders([], env)).toEqual([]);
  });

  it('an environment variable that is not set (or empty) names the entry and the variable', () => {
    const { PD_ROUTING_KEY: _unset, ...withoutKey } = env;
    expect(problemsOf(withEntry(2, { id: 'pager', kind: 'pagerduty', routingKeyEnv: 'PD_ROUTING_KEY' }), withoutKey)).toContain(
      'alerts.channels[2] (pager): environment variable PD_ROUTING_KEY is not set',
    );
    expect(problemsOf(good, { ...env, SLACK_URL: '  ' })).toContain('alerts.channels[0] (oncall-slack): environment variable SLACK_URL is not set');
    expect(problemsOf(good, { ...env, SMTP_PASSWORD: undefined })).toContain('alerts.channels[1] (team-mail): environment variable SMTP_PASSWORD is not set');
    expect(problemsOf(good, { ...env, HOOK_SECRET: '' })).toContain('alerts.channels[3] (siem): environment variable HOOK_SECRET is not set');
  });

  it('a variable that does not hold a URL, or not an http(s) one, is refused without repeating it', () => {
    expect(problemsOf(good, { ...env, SLACK_URL: 'hooks.slack.com/services/T0001/B0001/SLACKSECRETTOKENVALUE' })).toContain(
      'alerts.channels[0] (oncall-slack): environment variable SLACK_URL is not a URL; it must hold an http(s) URL such as https://hooks.slack.com/services/T…/B…/…',
    );
    expect(problemsOf(good, { ...env, HOOK_URL: 'ftp://alerts.example.com/hooktokenvalue' })).toContain(
      'alerts.channels[3] (siem): environment variable HOOK_URL must hold an http(s) URL',
    );
  });

  it('a routing key of the wrong length and a short webhook secret are refused', () => {
    expect(problemsOf(good, { ...env, PD_ROUTING_KEY: 'PDKEY-short' })).toContain(
      'alerts.channels[2] (pager): environment variable PD_ROUTING_KEY must hold a 32-character Events API v2 integration key',
    );
    expect(problemsOf(good, { ...env, HOOK_SECRET: 'hook-secret-short' })).toContain(
      'alerts.channels[3] (siem): environment variable HOOK_SECRET is shorter than 32 characters; make one with openssl rand -hex 32',
    );
  });

  it('an unknown kind names the kinds', () => {
    expect(problemsOf(withEntry(1, { id: 'teams', kind: 'msteams', url: 'x' }))).toContain('alerts.channels[1] (teams): kind must be one of slack, pagerduty, email, webhook');
    expect(problemsOf([{ id: 'x' }])).toContain('alerts.channels[0] (x): kind must be one of slack, pagerduty, email, webhook');
  });

  it('an unknown key names the known ones, and a secret written in the file is told to move to the environment', () => {
    const message = problemsOf(withEntry(0, { id: 'oncall-slack', kind: 'slack', webhookUrl: SLACK_URL }));
    expect(message).toContain('alerts.channels[0] (oncall-slack): unknown key "webhookUrl"; expected id, kind, label, timeoutSeconds, webhookUrlEnv');
    expect(message).toContain('write webhookUrlEnv: with the NAME of an environment variable instead of webhookUrl');
    expect(message).toContain('alerts.channels[0] (oncall-slack): webhookUrlEnv is required: the name of the environment variable that holds the Slack incoming webhook URL');
    expect(problemsOf(withEntry(1, { ...good[1], smtp: { host: 'smtp.example.com', password: SMTP_PASSWORD } }))).toContain(
      'unknown key in smtp "password"; expected host, port, security, userEnv, passwordEnv, caFile (write passwordEnv: with the NAME',
    );
    // A value pasted where a name belongs is refused without being repeated.
    expect(problemsOf(withEntry(0, { id: 'oncall-slack', kind: 'slack', webhookUrlEnv: SLACK_URL }))).toContain(
      'alerts.channels[0] (oncall-slack): webhookUrlEnv must be the name of an environment variable',
    );
  });

  it('an e-mail channel without `to`, with a bad address, or with a login over security: none is refused', () => {
    const { to: _to, ...withoutTo } = good[1] as { to: string[] };
    expect(problemsOf(withEntry(1, withoutTo))).toContain('alerts.channels[1] (team-mail): to is required: a list of recipients, e.g. [oncall@example.com]');
    expect(problemsOf(withEntry(1, { ...withoutTo, to: [] }))).toContain('alerts.channels[1] (team-mail): to must name at least one recipient');
    expect(problemsOf(withEntry(1, { ...withoutTo, to: ['not an address'] }))).toContain('to.0: each address in to must be an e-mail address');
    expect(problemsOf(withEntry(1, { ...good[1], from: 'nobody' }))).toContain('alerts.channels[1] (team-mail): from must be an address');
    expect(problemsOf(withEntry(1, { ...good[1], smtp: { host: 'smtp.example.com', security: 'none', userEnv: 'SMTP_USER', passwordEnv: 'SMTP_PASSWORD' } }))).toContain(
      'alerts.channels[1] (team-mail): smtp.security none would send the password in clear',
    );
    expect(problemsOf(withEntry(1, { ...good[1], smtp: { host: 'smtp.example.com', userEnv: 'SMTP_USER' } }))).toContain('smtp.userEnv and smtp.passwordEnv go together');
    expect(problemsOf(withEntry(1, { ...good[1], smtp: { host: 'smtp.example.com', security: 'ssl' } }))).toContain('smtp.security must be starttls');
    expect(problemsOf(withEntry(1, { ...good[1], smtp: { host: 'smtp.example.com', caFile: 'missing-ca.pem' } }))).toMatch(/alerts\.channels\[1\] \(team-mail\): smtp\.caFile .*missing-ca\.pem does not exist/);
  });

  it('bad ids, duplicate ids, a bad eventsUrl and a bad timeout are refused', () => {
    expect(problemsOf(withEntry(0, { ...good[0], id: 'On Call' }))).toContain('alerts.channels[0]: id must be 1-63 lowercase letters');
    expect(problemsOf([...good, { ...good[0] }])).toContain('alerts.channels[4] (oncall-slack): id "oncall-slack" is already used by alerts.channels[0]; ids must be unique');
    expect(problemsOf(withEntry(2, { ...good[2], eventsUrl: 'events.pagerduty.com' }))).toContain('alerts.channels[2] (pager): eventsUrl must be an http(s) URL');
    expect(problemsOf(withEntry(3, { ...good[3], timeoutSeconds: 600 }))).toContain('timeoutSeconds must be at most 60');
    expect(problemsOf({ id: 'x' })).toContain('alerts.channels must be a list of channels');
  });

  it('lists every problem at once, each with the file and line when the document is given', () => {
    const source = path.join(tmp.dir, 'config.yaml');
    const yaml = [
      'alerts:',
      '  channels:',
      '    - id: oncall-slack',
      '      kind: slack',
      '      webhookUrlEnv: NOT_SET_SLACK',
      '    - id: pager',
      '      kind: pagerduty',
      '      routingKeyEnv: PD_ROUTING_KEY',
      '      severity: high',
    ].join('\n');
    const config = parseConfigYaml(yaml, source);
    const raw = (config.raw as { alerts: { channels: unknown } }).alerts.channels;
    const message = problemsOf(raw, env, { config });
    expect(message).toContain(`${source}:5: alerts.channels[0] (oncall-slack): environment variable NOT_SET_SLACK is not set`);
    expect(message).toContain(`${source}:6: alerts.channels[1] (pager): unknown key "severity"`);
  });

  it('reads a relative caFile from the config file’s folder', () => {
    writeFileSync(path.join(tmp.dir, 'not-a-cert.pem'), 'hello');
    const config = parseConfigYaml('alerts: {}\n', path.join(tmp.dir, 'config.yaml'));
    const entry = { ...good[1], smtp: { host: 'smtp.example.com', caFile: 'not-a-cert.pem' } };
    expect(problemsOf([entry], env, { config })).toContain(`smtp.caFile ${path.join(tmp.dir, 'not-a-cert.pem')} holds no PEM certificate`);
  });

  it('the schema of one entry is exported for the alerts section, and a sender posts to the configured eventsUrl', async () => {
    expect(alertChannelSchema.safeParse(good[2]).success).toBe(true);
    expect(alertChannelSchema.safeParse({ ...good[2], kind: 'pager' }).success).toBe(false);
    const pd = await startReceiver(() => ({ status: 202, body: '{"status":"success"}' }));
    try {
      const [pager] = createChannelSenders([{ ...good[2], eventsUrl: `${pd.url}/v2/enqueue` }], env);
      expect(await pager!.send(alertMessage(), never())).toMatchObject({ ok: true });
      expect(pd.requests.map((r) => [r.path, (JSON.parse(r.rawBody) as { routing_key: string }).routing_key])).toEqual([['/v2/enqueue', PD_KEY]]);
    } finally {
      await pd.close();
    }
  });
});
