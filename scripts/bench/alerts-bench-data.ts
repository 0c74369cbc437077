// The data of npm run bench:alerts (scripts/bench/alerts-bench.ts): the findings benchmark's
// inventory (scripts/bench/findings-bench-data.ts) made calm (nothing overdue, due soon or failing
// rotation), the CONFIG_FILE with the alert channels and rules, the sync's way of writing rows,
// and the walk that turns a number of items overdue at once.
import type { InventoryDb } from '@/lib/inventory/inventory-db';
import type { InventoryRecord, InventoryRow } from '@/lib/inventory/records';
import { PARAMS, REGION, SECRETS, type BenchData } from './findings-bench-data';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The freshness policy of every item: 90 days, warned 14 days before (the default, written out). */
export const MAX_AGE_DAYS = 90;

export interface ChannelTargets {
  /** The signed webhook receiver (immediate rule on overdue + rotation-failing). */
  webhookUrl: string;
  /** The Slack-shaped receiver (digest rule on overdue). */
  slackUrl: string;
  /** A second webhook for the CloudTrail and findings rules, so their messages are counted apart. */
  siemUrl: string;
  smtpPort: number;
  /** Whether the finding-opened rule is configured (the findings were evaluated in the set-up). */
  findings: boolean;
}

/** The environment variables the channels name (values are the receivers' loopback URLs and a throwaway secret). */
export function channelEnv(targets: ChannelTargets): Record<string, string> {
  return {
    BENCH_WEBHOOK_URL: targets.webhookUrl,
    BENCH_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789abcdef0123456789',
    BENCH_SLACK_URL: targets.slackUrl,
    BENCH_SIEM_URL: targets.siemUrl,
  };
}

/** The CONFIG_FILE: the two stores (endpoints never called), one freshness policy, the channels and rules. */
export function alertsConfigYaml(targets: ChannelTargets): string {
  return [
    'stores:',
    `  - { id: ${PARAMS}, kind: ssm, region: ${REGION}, endpoint: "http://127.0.0.1:9" }`,
    `  - { id: ${SECRETS}, kind: secretsmanager, region: ${REGION}, endpoint: "http://127.0.0.1:9" }`,
    'freshness:',
    `  - { path: /, maxAge: ${MAX_AGE_DAYS}d, warnBefore: 14d }`,
    'alerts:',
    '  channels:',
    '    - { id: oncall-hook, kind: webhook, urlEnv: BENCH_WEBHOOK_URL, secretEnv: BENCH_WEBHOOK_SECRET }',
    '    - { id: leads-slack, kind: slack, webhookUrlEnv: BENCH_SLACK_URL }',
    `    - { id: leads-mail, kind: email, smtp: { host: 127.0.0.1, port: ${targets.smtpPort}, security: none }, from: "Secrets Dashboard <alerts@bench.local>", to: [leads@bench.local] }`,
    '    - { id: siem-hook, kind: webhook, urlEnv: BENCH_SIEM_URL, secretEnv: BENCH_WEBHOOK_SECRET }',
    '  rules:',
    '    - { id: oncall-overdue, events: [overdue, rotation-failing], channel: oncall-hook, mode: immediate }',
    '    - { id: leads-overdue-slack, events: [overdue], channel: leads-slack, mode: digest, digestAt: "09:00" }',
    '    - { id: leads-overdue-mail, events: [overdue], channel: leads-mail, mode: digest, digestAt: "09:00" }',
    '    - { id: readers, events: [new-reader, access-denied], channel: siem-hook, newReaderDays: 7, deniedCount: 5, deniedWindowMinutes: 60 }',
    ...(targets.findings ? ['    - { id: high-findings, events: [finding-opened], channel: siem-hook, selector: { minSeverity: high } }'] : []),
    '',
  ].join('\n');
}

/**
 * Every record made calm for `now`: changed (or rotated) within the last 50 days, no SSM
 * expiration or no-change policies, no AWSPENDING left behind: nothing overdue, failing or due soon.
 */
export function calm(data: BenchData, random: () => number): void {
  const now = data.now;
  for (const store of data.stores) {
    store.records = store.records.map((r): InventoryRecord => {
      const changed = now - Math.floor(random() * 50 * DAY) - 60_000;
      if (store.kind === 'ssm') {
        const { policies: _, ...extra } = r.extra;
        return { ...r, lastChangedAt: iso(changed), extra };
      }
      const { pendingVersion: _, ...extra } = r.extra;
      const rotation = extra.rotation!;
      if (!rotation.enabled) return { ...r, lastChangedAt: iso(changed), extra: { ...extra, stagedVersions: 1 } };
      const rotated = now - Math.floor(random() * 20 * DAY) - 60_000;
      return { ...r, lastChangedAt: iso(rotated), extra: { ...extra, stagedVersions: 2, rotation: { ...rotation, lastRotatedAt: iso(rotated), nextRotationAt: iso(rotated + 30 * DAY) } } };
    });
  }
}

/**
 * `count` items (60 % parameters, 40 % secrets without rotation), spread evenly over each store,
 * given a last change 100 to 160 days ago: overdue under the 90-day policy. Returns their names.
 */
export function turnOverdue(data: BenchData, count: number): Set<string> {
  const names = new Set<string>();
  const want = [Math.round(count * 0.6), count - Math.round(count * 0.6)];
  data.stores.forEach((store, s) => {
    const candidates = store.records.flatMap((r, i) => (store.kind === 'ssm' || !r.extra.rotation?.enabled ? [i] : []));
    const n = Math.min(want[s]!, candidates.length);
    const step = candidates.length / n;
    for (let k = 0; k < n; k++) {
      const i = candidates[Math.floor(k * step)]!;
      const r = store.records[i]!;
      store.records[i] = { ...r, lastChangedAt: iso(data.now - (100 + (k % 60)) * DAY) };
      names.add(`${store.storeId}\n${r.name}`);
    }
  });
  return names;
}

/** One walk of both stores as the sync writes it: staged a page at a time, then swapped in. */
export async function walk(db: InventoryDb, data: BenchData, toRow: (storeId: string, record: InventoryRecord, withTags?: boolean) => InventoryRow): Promise<number> {
  const started = performance.now();
  for (const store of data.stores) {
    const page = store.kind === 'ssm' ? 50 : 100;
    const ssm = store.kind === 'ssm';
    await db.beginWalk(store.storeId);
    // Parameter Store lists carry no tags: they are fetched after the walk (fetchTags) and kept by later walks.
    for (let i = 0; i < store.records.length; i += page)
      await db.stage(store.records.slice(i, i + page).map((record) => toRow(store.storeId, ssm ? { ...record, tags: {} } : record, !ssm)));
    await db.applyWalk(store.storeId, { items: store.records.length, pages: Math.ceil(store.records.length / page), durationMs: 0, calls: {}, throttled: 0, unreadableItems: 0 }, ssm);
  }
  return performance.now() - started;
}

/** Parameter Store tags as the sync's tag fetch writes them after a walk: one setTags per parameter. */
export async function fetchTags(db: InventoryDb, data: BenchData): Promise<number> {
  const started = performance.now();
  for (const record of data.stores[0].records) await db.setTags(PARAMS, record.name, record.tags);
  return performance.now() - started;
}
