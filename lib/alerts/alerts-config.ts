import 'server-only';
import type { z } from 'zod';
import { ConfigError, readEnv } from '@/lib/config/env';
import { storesFromConfig } from '@/lib/config/stores';
import { at, readConfigFile, type ConfigDocument } from '@/lib/config/yaml-file';
import { alertRuleSchema, alertsSectionSchema, type AlertRuleEntry } from '@/lib/validations/alerts';
import { createChannelSenders, type ChannelEnv } from './channel-config';
import type { ChannelSender } from './types';

// CONFIG_FILE's `alerts:` section: the channels (validated by lib/alerts/channel-config.ts, their
// secrets named as environment variables) and the rules that route events to them. Read once per
// process like the grants; every problem stops start-up naming the entry and line:
//
//   alerts:
//     channels:
//       - { id: oncall, kind: slack, webhookUrlEnv: SLACK_ONCALL_URL }
//     rules:
//       - id: prod-overdue
//         events: [overdue, rotation-failing]
//         channel: oncall
//         mode: digest            # immediate (default) or digest
//         digestAt: "08:30"       # UTC, digest only (default 09:00)
//         selector: { stores: [prod-secrets], paths: [/prod/**], owners: [payments] }

export type AlertRule = AlertRuleEntry;

export interface AlertsConfig {
  /** The configured channels, ready to send (their secrets read from the environment). */
  senders: ChannelSender[];
  rules: AlertRule[];
}

function fail(title: string, lines: string[]): never {
  throw new ConfigError(`${title}:\n  ${lines.join('\n  ')}`);
}

/** "alerts.rules[1] (prod-overdue)" or "alerts.rules[1]". */
function entryName(list: 'rules', index: number, raw: unknown): string {
  const entryId = raw && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
  return `alerts.${list}[${index}]${typeof entryId === 'string' ? ` (${entryId.slice(0, 63)})` : ''}`;
}

function issueLine(config: ConfigDocument, list: 'rules', index: number, raw: unknown, issue: z.ZodError['issues'][number]): string {
  const field = issue.path.map(String).join('.');
  const prefix = field && !issue.message.startsWith(field) && !issue.message.startsWith(`"`) ? `${field}: ` : field && issue.message.startsWith('"') ? `${field} ` : '';
  return `${at(config, ['alerts', list, index, ...issue.path])}: ${entryName(list, index, raw)}: ${prefix}${issue.message}`;
}

/**
 * The validated `alerts:` section of a parsed config file (nothing without one): the channels'
 * senders (lib/alerts/channel-config.ts, secrets from `env`) and the rules, each checked against
 * the channels and the configured stores (`knownStores`, read from the same file when not given).
 * Every problem of both lists is reported at once.
 */
export function alertsFromConfig(config: ConfigDocument, options: { knownStores?: readonly string[]; env?: ChannelEnv } = {}): AlertsConfig {
  const raw = (config.raw as { alerts?: unknown } | null)?.alerts;
  if (raw === undefined || raw === null) return { senders: [], rules: [] };
  const section = alertsSectionSchema.safeParse(raw);
  if (!section.success)
    fail(
      'The alerts section of the configuration file has problems',
      section.error.issues.map((issue) => `${at(config, ['alerts', ...issue.path])}: alerts${issue.path.length ? `.${issue.path.map(String).join('.')}` : ''}: ${issue.message}`),
    );
  const rawChannels = section.data.channels ?? [];
  const rawRules = section.data.rules ?? [];

  const problems: string[] = [];
  let senders: ChannelSender[] = [];
  try {
    senders = createChannelSenders(rawChannels, options.env ?? process.env, { config });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.message.split('\n').slice(1).map((line) => line.trim()));
  }
  // Rules are checked against every channel id written, so a channel with a problem of its own is not also "not configured".
  const channelIds = [...new Set(rawChannels.flatMap((c) => (c && typeof c === 'object' && typeof (c as { id?: unknown }).id === 'string' ? [(c as { id: string }).id] : [])))];

  const rules: AlertRule[] = [];
  const ruleIndex = new Map<string, number>();
  const stores = options.knownStores ?? storesFromConfig(config).map((s) => s.id);
  rawRules.forEach((entry, index) => {
    const parsed = alertRuleSchema.safeParse(entry);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((issue) => issueLine(config, 'rules', index, entry, issue)));
      return;
    }
    const rule = parsed.data;
    const name = entryName('rules', index, entry);
    const first = ruleIndex.get(rule.id);
    if (first !== undefined) problems.push(`${at(config, ['alerts', 'rules', index, 'id'])}: ${name}: id "${rule.id}" is already used by alerts.rules[${first}]; ids must be unique`);
    else ruleIndex.set(rule.id, index);
    if (!channelIds.includes(rule.channel)) {
      const known = channelIds;
      problems.push(
        `${at(config, ['alerts', 'rules', index, 'channel'])}: ${name}: channel "${rule.channel}" is not configured (${known.length ? `known: ${known.join(', ')}` : 'alerts.channels lists none'})`,
      );
    }
    for (const store of rule.selector?.stores ?? [])
      if (!stores.includes(store))
        problems.push(`${at(config, ['alerts', 'rules', index, 'selector', 'stores'])}: ${name}: store "${store}" is not configured (known: ${stores.join(', ')})`);
    rules.push(rule);
  });
  if (problems.length) fail('The alerts in the configuration file have problems', problems);
  return { senders, rules };
}

const g = globalThis as unknown as { __alertsConfig?: AlertsConfig };

/** The process's alerts configuration, read from CONFIG_FILE once (start-up calls it, so a bad one stops there). */
export function alertsConfig(): AlertsConfig {
  if (!g.__alertsConfig) {
    const file = readEnv().CONFIG_FILE;
    g.__alertsConfig = file ? alertsFromConfig(readConfigFile(file)) : { senders: [], rules: [] };
  }
  return g.__alertsConfig;
}

/** Forgets the loaded configuration (tests change CONFIG_FILE between cases). */
export function resetAlertsConfig(): void {
  g.__alertsConfig = undefined;
}
