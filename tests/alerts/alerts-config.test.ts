import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alertsConfig, alertsFromConfig, resetAlertsConfig } from '@/lib/alerts/alerts-config';
import { ConfigError } from '@/lib/config/env';
import { storesFromConfig } from '@/lib/config/stores';
import { parseConfigYaml } from '@/lib/config/yaml-file';
import { makeTempDir } from '../support/temp-dir';

// CONFIG_FILE's alerts: section. A good one gives the channels' senders and the rules (defaults
// filled in); each bad entry stops start-up with a ConfigError naming the file, line and entry
// ("alerts.rules[1] (prod-overdue): channel "pager" is not configured"), and the rest of the file
// still parses with the section in it.

const ENV = { SLACK_ONCALL_URL: 'https://hooks.slack.com/services/T000/B000/XXXX', ALERTS_HOOK_URL: 'https://hooks.example.com/in', ALERTS_HOOK_SECRET: 'x'.repeat(40) };

const HEAD = `stores:
  - id: prod
    kind: local
alerts:
  channels:
    - { id: oncall, kind: slack, webhookUrlEnv: SLACK_ONCALL_URL }
    - { id: hook, kind: webhook, urlEnv: ALERTS_HOOK_URL, secretEnv: ALERTS_HOOK_SECRET }
  rules:
    - id: fine
      events: [overdue]
      channel: oncall
`;

const parse = (rulesYaml: string, env: Record<string, string | undefined> = ENV, head = HEAD) => {
  const config = parseConfigYaml(`${head}${rulesYaml}`, 'config.yaml');
  return alertsFromConfig(config, { env });
};

const problem = (rulesYaml: string, env?: Record<string, string | undefined>, head?: string): string => {
  try {
    parse(rulesYaml, env, head);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
};

describe('alerts: in CONFIG_FILE', () => {
  it('parses a good section: senders for the channels, rules with their defaults', () => {
    const parsed = parse(`    - id: prod-overdue
      description: Overdue production secrets
      events: [overdue, rotation-failing]
      channel: hook
      mode: digest
      selector: { stores: [prod], paths: ['/prod/**', '/shared/{db,cache}/*'], owners: [payments], teams: [core] }
    - id: readers
      events: [new-reader, access-denied, finding-opened]
      channel: oncall
      severity: critical
      newReaderDays: 30
      deniedCount: 5
      deniedWindowMinutes: 15
      selector: { minSeverity: high }
    - id: syncs
      events: [sync-failing, audit-chain]
      channel: oncall
      syncFailingMinutes: 60
`);
    expect(parsed.senders.map((s) => [s.id, s.kind])).toEqual([['oncall', 'slack'], ['hook', 'webhook']]);
    expect(parsed.rules.map((r) => r.id)).toEqual(['fine', 'prod-overdue', 'readers', 'syncs']);
    expect(parsed.rules[0]).toEqual({ id: 'fine', events: ['overdue'], channel: 'oncall', mode: 'immediate', digestAt: undefined });
    expect(parsed.rules[1]).toMatchObject({ mode: 'digest', digestAt: '09:00', selector: { stores: ['prod'], paths: ['/prod/**', '/shared/{db,cache}/*'] } });
    expect(parsed.rules[2]).toMatchObject({ severity: 'critical', newReaderDays: 30, deniedCount: 5, deniedWindowMinutes: 15, selector: { minSeverity: 'high' } });
    // The stores: section still parses with an alerts: section beside it.
    expect(storesFromConfig(parseConfigYaml(HEAD, 'config.yaml')).map((s) => s.id)).toEqual(['prod']);
  });

  it('has nothing to do without a section', () => {
    expect(alertsFromConfig(parseConfigYaml('stores:\n  - { id: prod, kind: local }\n', 'c.yaml'), { env: {} })).toEqual({ senders: [], rules: [] });
  });

  const BAD: [string, string, RegExp][] = [
    ['an unknown channel', '    - { id: prod-overdue, events: [overdue], channel: pager }\n', /config\.yaml:12: alerts\.rules\[1\] \(prod-overdue\): channel "pager" is not configured \(known: oncall, hook\)/],
    ['an unknown store', '    - { id: r, events: [overdue], channel: oncall, selector: { stores: [staging] } }\n', /config\.yaml:12: alerts\.rules\[1\] \(r\): store "staging" is not configured \(known: prod\)/],
    ['an invalid glob (empty level)', "    - { id: r, events: [overdue], channel: oncall, selector: { paths: ['/prod//x'] } }\n", /alerts\.rules\[1\] \(r\): selector\.paths\.0 "\/prod\/\/x": "\/prod\/\/x" has an empty level/],
    ['an invalid glob (no leading slash)', "    - { id: r, events: [overdue], channel: oncall, selector: { paths: ['prod/**'] } }\n", /alerts\.rules\[1\] \(r\): selector\.paths\.0 "prod\/\*\*": a path glob starts with "\/"/],
    ['an invalid glob (unclosed brace)', "    - { id: r, events: [overdue], channel: oncall, selector: { paths: ['/prod/{a,b'] } }\n", /unclosed \{/],
    ['a bad digest time', '    - { id: r, events: [overdue], channel: oncall, mode: digest, digestAt: "25:00" }\n', /alerts\.rules\[1\] \(r\): digestAt must be a time of day "HH:MM"/],
    ['a digest time on an immediate rule', '    - { id: r, events: [overdue], channel: oncall, digestAt: "08:00" }\n', /alerts\.rules\[1\] \(r\): digestAt is for mode: digest/],
    ['a zero interval', '    - { id: r, events: [sync-failing], channel: oncall, syncFailingMinutes: 0 }\n', /alerts\.rules\[1\] \(r\): syncFailingMinutes must be at least 1 minutes/],
    ['a fractional interval', '    - { id: r, events: [access-denied], channel: oncall, deniedWindowMinutes: 1.5 }\n', /deniedWindowMinutes must be a whole number of minutes/],
    ['an interval that is text', '    - { id: r, events: [new-reader], channel: oncall, newReaderDays: "a week" }\n', /newReaderDays must be a whole number of days/],
    ['an interval for an event the rule does not list', '    - { id: r, events: [overdue], channel: oncall, syncFailingMinutes: 30 }\n', /syncFailingMinutes applies to the sync-failing event/],
    ['an unknown event', '    - { id: r, events: [on-fire], channel: oncall }\n', /alerts\.rules\[1\] \(r\): events\.0: events must be among due-soon, overdue/],
    ['no events', '    - { id: r, events: [], channel: oncall }\n', /events must list at least one event/],
    ['an unknown mode', '    - { id: r, events: [overdue], channel: oncall, mode: weekly }\n', /mode must be immediate or digest/],
    ['an unknown key', '    - { id: r, events: [overdue], channel: oncall, channels: [x] }\n', /unknown key "channels"; expected id, description/],
    ['a repeated id', '    - { id: fine, events: [overdue], channel: oncall }\n', /alerts\.rules\[1\] \(fine\): id "fine" is already used by alerts\.rules\[0\]/],
    ['a bad id', '    - { id: Prod_Overdue, events: [overdue], channel: oncall }\n', /id must be 1-63 lowercase letters/],
    ['minSeverity without finding-opened', '    - { id: r, events: [overdue], channel: oncall, selector: { minSeverity: high } }\n', /selector\.minSeverity applies to the finding-opened event/],
    ['paths on a rule about stores only', "    - { id: r, events: [sync-failing], channel: oncall, selector: { paths: ['/prod/**'] } }\n", /none of this rule's events is about an item/],
  ];

  it.each(BAD)('stops on %s, naming the entry and line', (_name, yaml, message) => {
    expect(problem(yaml)).toMatch(message);
  });

  it('stops on a channel whose environment variable is not set, and on a rule naming an unknown channel, both at once', () => {
    const message = problem('    - { id: paged, events: [overdue], channel: pager }\n', { ...ENV, SLACK_ONCALL_URL: undefined });
    expect(message).toMatch(/config\.yaml:6: alerts\.channels\[0\] \(oncall\): environment variable SLACK_ONCALL_URL is not set/);
    expect(message).toMatch(/alerts\.rules\[1\] \(paged\): channel "pager" is not configured/);
    // A channel with a problem of its own is not also "not configured" for its rules.
    expect(message).not.toMatch(/channel "oncall" is not configured/);
    // No secret in any message.
    expect(message).not.toContain(ENV.ALERTS_HOOK_SECRET);
  });

  it('stops on a section that is not a mapping of channels and rules', () => {
    expect(problem('', ENV, 'alerts:\n  - oops\n')).toMatch(/config\.yaml:2: alerts: /);
    expect(problem('', ENV, 'alerts:\n  route: everything\n')).toMatch(/alerts: unknown key "route"; expected channels, rules/);
  });

  describe('read once for the process from CONFIG_FILE', () => {
    const temp = makeTempDir('alerts-config-');
    const saved = { CONFIG_FILE: process.env.CONFIG_FILE, ...Object.fromEntries(Object.keys(ENV).map((k) => [k, process.env[k]])) };
    afterAll(() => {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
      resetAlertsConfig();
      temp.cleanup();
    });

    it('gives the file’s rules, and a bad file stops with the entry named', () => {
      Object.assign(process.env, ENV);
      const file = path.join(temp.dir, 'config.yaml');
      writeFileSync(file, HEAD);
      process.env.CONFIG_FILE = file;
      resetAlertsConfig();
      expect(alertsConfig().rules.map((r) => r.id)).toEqual(['fine']);
      writeFileSync(file, `${HEAD}    - { id: prod-overdue, events: [overdue], channel: pager }\n`);
      // Kept for the process until reset (like the grants and freshness policies).
      expect(alertsConfig().rules).toHaveLength(1);
      resetAlertsConfig();
      expect(() => alertsConfig()).toThrow(/alerts\.rules\[1\] \(prod-overdue\): channel "pager" is not configured/);
    });
  });
});
