// npm run bench:alerts [-- --items 100000 --events 1000000 --overdue 5000 --receiver-ms 0 --no-findings --json --keep]
// Issue 21's targets, in one process, in one run (data: scripts/bench/alerts-bench-data.ts on top of
// the findings benchmark's findings-bench-data.ts):
//  1. set-up: a temp DATA_DIR whose CONFIG_FILE names one Parameter Store and one Secrets Manager
//     store (endpoints never called), one 90-day freshness policy, four channels whose receivers run
//     in this process on 127.0.0.1 and count what they get (a signed webhook, a Slack-shaped
//     receiver answering "ok", a real SMTP server (smtp-server, messages parsed back with mailparser),
//     and a second webhook for the CloudTrail and findings rules) and five rules: oncall-overdue
//     (overdue + rotation-failing, immediate, webhook), leads-overdue-slack and leads-overdue-mail
//     (overdue, daily digest at 09:00 UTC), readers (new-reader + access-denied) and
//     high-findings (finding-opened, minSeverity high; left out with --no-findings). N items
//     (default 100,000, 60/40) written as the sync writes them, made calm (nothing overdue), E
//     CloudTrail events (default 1,000,000) through the index, and the findings evaluated once;
//  2. baseline: the rules evaluated once (nothing overdue), what that queues delivered, then after a
//     GC the process's RSS and heap;
//  3. a walk (as the sync writes it) that turns --overdue items (default 5,000) overdue at once, then
//     evaluateAlertRules(rules, now) timed, total and per rule and event, with the RSS high-water mark
//     and the heap's peak above the baseline; the same evaluation without recording (conditions alone);
//  4. delivery: a DeliveryWorker until the queue is empty (messages per channel, how long the 5,000
//     immediate webhook messages took), then sendDueDigests at the next 09:00 UTC and the worker
//     again: ONE message per digest channel, with its item count and the link to the full list;
//  5. the naive way: every item read (eachItem over each store) and overdue filtered in JS, against the
//     overdue condition alone (the status index), time and RSS each.
// Progress on stderr; tables on stdout; with --json one JSON line last.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { seededRandom } from '../../lib/random/seeded-random';
import { alertsConfigYaml, calm, channelEnv, fetchTags, turnOverdue, walk } from './alerts-bench-data';
import { ACCOUNT, EVENTS_FROM, EventGenerator, generateInventory, LOCATORS, REGION } from './findings-bench-data';
import { argNumber, machineDescription, round } from './measure';

const args = process.argv.slice(2);
const json = args.includes('--json');
const keep = args.includes('--keep');
const ITEMS = Math.floor(argNumber(args, '--items', 100_000));
const EVENTS = Math.floor(argNumber(args, '--events', 1_000_000, { zero: true }));
const OVERDUE = Math.floor(argNumber(args, '--overdue', 5000, { zero: true }));
/** How long each HTTP receiver takes to answer (0: at once). */
const RECEIVER_MS = argNumber(args, '--receiver-ms', 0, { zero: true });
const FINDINGS = !args.includes('--no-findings');
const INGEST_BATCH = 5000;
const EVAL_TARGET_MS = 5000;
const MEMORY_TARGET_MB = 100;
const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (n: number) => n.toLocaleString('en-US');
const seconds = (ms: number) => round(ms / 1000, 1);

// ---- receivers (loopback only) ----

interface HttpReceiver {
  url: (route: string) => string;
  /** Requests per route. */
  counts: Map<string, number>;
  /** The webhook messages' ids and actions seen, and how many came again. */
  hookIds: Set<string>;
  hookDuplicates: number;
  /** The bodies of the Slack route (few: digests). */
  slackBodies: string[];
  firstAt: Map<string, number>;
  lastAt: Map<string, number>;
  reset: () => void;
  server: Server;
}

async function startHttpReceiver(): Promise<HttpReceiver> {
  const state = { hookIds: new Set<string>(), hookDuplicates: 0, counts: new Map<string, number>(), slackBodies: [] as string[], firstAt: new Map<string, number>(), lastAt: new Map<string, number>() };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const route = (req.url ?? '/').split('?')[0]!;
      const t = performance.now();
      state.counts.set(route, (state.counts.get(route) ?? 0) + 1);
      if (!state.firstAt.has(route)) state.firstAt.set(route, t);
      state.lastAt.set(route, t);
      if (route === '/slack') state.slackBodies.push(Buffer.concat(chunks).toString('utf8'));
      if (route === '/hook') {
        const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: string; action?: string }) ?? {};
        const key = `${id.id}:${id.action}`;
        if (state.hookIds.has(key)) state.hookDuplicates++;
        state.hookIds.add(key);
      }
      const answer = () => {
        if (route === '/slack') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        else res.writeHead(204).end();
      };
      if (RECEIVER_MS > 0) setTimeout(answer, RECEIVER_MS);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    get hookIds() {
      return state.hookIds;
    },
    get hookDuplicates() {
      return state.hookDuplicates;
    },
    counts: state.counts,
    slackBodies: state.slackBodies,
    firstAt: state.firstAt,
    lastAt: state.lastAt,
    server,
    url: (route) => `http://127.0.0.1:${port}${route}`,
    reset: () => {
      state.counts.clear();
      state.slackBodies.length = 0;
      state.firstAt.clear();
      state.lastAt.clear();
      state.hookIds.clear();
      state.hookDuplicates = 0;
    },
  };
}

interface SmtpReceiver {
  port: number;
  messages: { subject: string; text: string }[];
  server: SMTPServer;
}

/** A real SMTP server without TLS or login (the channel's security: none), every message parsed back. */
async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const messages: SmtpReceiver['messages'] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push({ subject: mail.subject ?? '', text: mail.text ?? '' });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, messages, server };
}

// ---- memory ----

const gc = (globalThis as { gc?: () => void }).gc;

function statusMb(field: 'VmRSS' | 'VmHWM'): number {
  try {
    return round(Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024, 1);
  } catch {
    return 0;
  }
}
const heapMb = () => round(process.memoryUsage().heapUsed / 2 ** 20, 1);

interface Phase<T> {
  result: T;
  ms: number;
  /** RSS after a GC, before fn. */
  startRssMb: number;
  /** The kernel's RSS high-water mark while fn ran (reset first with clear_refs 5). */
  peakRssMb: number;
  startHeapMb: number;
  /** The heap's largest used size seen (sampled every 5 ms, and at the end). */
  peakHeapMb: number;
}

async function phase<T>(fn: () => Promise<T>): Promise<Phase<T>> {
  gc?.();
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not Linux, or not allowed: the peak is the process's so far.
  }
  const startRssMb = statusMb('VmRSS');
  const startHeapMb = heapMb();
  let peakHeapMb = startHeapMb;
  const sampler = setInterval(() => {
    peakHeapMb = Math.max(peakHeapMb, heapMb());
  }, 5);
  const started = performance.now();
  try {
    const result = await fn();
    const ms = performance.now() - started;
    peakHeapMb = Math.max(peakHeapMb, heapMb());
    return { result, ms, startRssMb, peakRssMb: statusMb('VmHWM'), startHeapMb, peakHeapMb };
  } finally {
    clearInterval(sampler);
  }
}

// ---- the run ----

async function main() {
  const root = mkdtempSync(path.join(tmpdir(), 'bench-alerts-'));
  const DATA_DIR = path.join(root, 'data');
  mkdirSync(DATA_DIR, { recursive: true });
  const CONFIG_FILE = path.join(root, 'dashboard.yaml');
  const http = await startHttpReceiver();
  const smtp = await startSmtpReceiver();
  const targets = { webhookUrl: http.url('/hook'), slackUrl: http.url('/slack'), siemUrl: http.url('/siem'), smtpPort: smtp.port, findings: FINDINGS };
  writeFileSync(CONFIG_FILE, alertsConfigYaml(targets));
  Object.assign(process.env, {
    LOG_LEVEL: 'warn',
    DEMO_DATA: '0',
    CONFIG_FILE,
    DATA_DIR,
    SYNC_INTERVAL_MINUTES: '1440',
    AUDIT_RETENTION_DAYS: '400',
    NEXTAUTH_URL: 'https://dashboard.bench.example',
    ...channelEnv(targets),
  });

  const [inventory, records, audit, findings, evaluateRules, alerts, delivery, alertsConfigModule, conditions] = await Promise.all([
    import('@/lib/inventory/inventory'),
    import('@/lib/inventory/records'),
    import('@/lib/cloudtrail/audit-events'),
    import('@/lib/findings/findings'),
    import('@/lib/alerts/evaluate-rules'),
    import('@/lib/alerts/alerts'),
    import('@/lib/alerts/delivery'),
    import('@/lib/alerts/alerts-config'),
    import('@/lib/alerts/conditions'),
  ]);
  const { rules, senders } = alertsConfigModule.alertsConfig();
  const db = await inventory.inventoryDb();

  // ---- 1. set-up ----
  const data = generateInventory(ITEMS, Date.now());
  calm(data, seededRandom(31337));
  log(`[1] writing ${fmt(ITEMS)} calm items through the sync's path (stage, applyWalk; Parameter Store tags after it)`);
  const inventoryMs = (await walk(db, data, records.toInventoryRow)) + (await fetchTags(db, data));
  log(`[1] inventory in ${seconds(inventoryMs)} s; ingesting ${fmt(EVENTS)} CloudTrail events over 180 days`);
  const index = await audit.auditEventIndex();
  const gen = new EventGenerator(data);
  const from = EVENTS_FROM(data.now);
  const to = data.now - 10 * 60_000;
  let started = performance.now();
  for (let k = 0; k < EVENTS; k += INGEST_BATCH) {
    const batch = gen.batch('bench', k, Math.min(EVENTS, k + INGEST_BATCH), EVENTS, from, to);
    await index.ingest('bench-trail', 'cloudtrail-s3', { account: ACCOUNT, region: REGION }, batch, { cursor: { k }, lastEventTime: batch.at(-1)!.eventTime!, lastSuccessAt: new Date().toISOString() }, LOCATORS);
    if ((k / INGEST_BATCH) % 40 === 39) log(`  ${fmt(k + batch.length)} events, ${seconds(performance.now() - started)} s`);
  }
  if (EVENTS > 0) await index.optimize();
  const eventsMs = performance.now() - started;
  let findingsMs = 0;
  if (FINDINGS) {
    log('[1] evaluating the findings once (evaluateFindings({ force: true }))');
    started = performance.now();
    await findings.evaluateFindings({ force: true });
    findingsMs = performance.now() - started;
  }
  log(`[1] events in ${seconds(eventsMs)} s, findings in ${seconds(findingsMs)} s`);

  const alertsDb = await alerts.alertsDb();
  /** A worker run until nothing is due; returns its counts and how long it took. */
  const drain = async (now?: () => Date) => {
    const worker = new delivery.DeliveryWorker(alertsDb, senders, { maxAttempts: 3, ...(now ? { now } : {}) });
    const t = performance.now();
    const total = { delivered: 0, retrying: 0, dead: 0, lost: 0 };
    for (;;) {
      const counts = await worker.runOnce();
      total.delivered += counts.delivered;
      total.retrying += counts.retrying;
      total.dead += counts.dead;
      total.lost += counts.lost;
      if (counts.delivered + counts.retrying + counts.dead + counts.lost === 0) break;
    }
    await worker.stop();
    return { ...total, ms: performance.now() - t };
  };
  const routeCounts = () => ({ hook: http.counts.get('/hook') ?? 0, slack: http.counts.get('/slack') ?? 0, siem: http.counts.get('/siem') ?? 0, email: smtp.messages.length });

  // ---- 2. baseline ----
  log('[2] baseline: the rules evaluated once (nothing overdue), its queue delivered');
  const baseline = await phase(() => evaluateRules.evaluateAlertRules(rules, new Date()));
  const baselineDelivery = await drain();
  const baselineSent = routeCounts();
  const baselineSubjects = Object.fromEntries(baseline.result.map((o) => [`${o.ruleId}/${o.event}`, o.subjects?.length ?? -1]));
  const baselineErrors = baseline.result.filter((o) => o.error).map((o) => `${o.ruleId}/${o.event}: ${o.error}`);
  http.reset();
  smtp.messages.length = 0;
  gc?.();
  const baselineRssMb = statusMb('VmRSS');
  const baselineHeapMb = heapMb();
  log(`[2] ${round(baseline.ms, 0)} ms; subjects ${JSON.stringify(baselineSubjects)}; sent ${JSON.stringify(baselineSent)}; RSS ${baselineRssMb} MB, heap ${baselineHeapMb} MB`);

  // ---- 3. a sync turns items overdue, then one evaluation ----
  const overdueNames = turnOverdue(data, OVERDUE);
  log(`[3] a walk writes ${fmt(overdueNames.size)} items with a last change 100-160 days ago`);
  const syncWalkMs = await walk(db, data, records.toInventoryRow);
  const evalNow = new Date();
  const evaluation = await phase(() => evaluateRules.evaluateAlertRules(rules, evalNow));
  const evalErrors = evaluation.result.filter((o) => o.error).map((o) => `${o.ruleId}/${o.event}: ${o.error}`);
  log(`[3] walk ${seconds(syncWalkMs)} s; evaluation ${round(evaluation.ms, 0)} ms; RSS peak ${evaluation.peakRssMb} MB (baseline ${baselineRssMb}), heap peak ${evaluation.peakHeapMb} MB`);
  // The conditions alone (nothing recorded), for where the time goes.
  const dry = await evaluateRules.evaluateAlertRules(rules, evalNow, { record: false });

  // ---- 4. delivery ----
  log('[4] delivering the queue (immediate rule), then the digests at the next 09:00 UTC');
  const immediate = await drain();
  const immediateSent = routeCounts();
  // Why a first attempt failed: read before the retry clears the cause (it names no URL or secret).
  const retriedCauses = [...new Set((await alertsDb.deliveries({ limit: 100_000, status: 'failed' })).map((d) => `${d.channelId}: ${d.lastCause ?? 'no cause kept'}`))].slice(0, 5);
  const hookSpanMs = (http.lastAt.get('/hook') ?? 0) - (http.firstAt.get('/hook') ?? 0);
  const digestDay = new Date(Date.UTC(evalNow.getUTCFullYear(), evalNow.getUTCMonth(), evalNow.getUTCDate() + 1, 9, 0, 0));
  const digestStarted = Date.now();
  const digestClock = () => new Date(digestDay.getTime() + (Date.now() - digestStarted));
  const digests = await alerts.sendDueDigests(digestDay, { db: alertsDb });
  const digestDelivery = await drain(digestClock);
  const afterDigest = routeCounts();
  const digestSent = { slack: afterDigest.slack - immediateSent.slack, email: afterDigest.email - immediateSent.email, hook: afterDigest.hook - immediateSent.hook, siem: afterDigest.siem - immediateSent.siem };
  const slackLink = alerts.digestLink('leads-overdue-slack');
  const mailLink = alerts.digestLink('leads-overdue-mail');
  const stored = await alertsDb.deliveries({ limit: 20, status: 'delivered' });
  const digestRows = stored.filter((d) => d.action === 'digest');
  const digestOf = (ruleId: string) => digestRows.find((d) => d.ruleId === ruleId)?.message;
  const slackDigest = digestOf('leads-overdue-slack');
  const mailDigest = digestOf('leads-overdue-mail');
  const slackBodyLinks = http.slackBodies.length === 1 && http.slackBodies[0]!.includes(slackLink);
  const mailBodyLinks = smtp.messages.length === 1 && smtp.messages[0]!.text.includes(mailLink);
  const digestOk =
    digestSent.slack === 1 &&
    digestSent.email === 1 &&
    slackDigest?.totalItems === overdueNames.size &&
    mailDigest?.totalItems === overdueNames.size &&
    slackDigest.link === slackLink &&
    mailDigest.link === mailLink &&
    slackBodyLinks &&
    mailBodyLinks;

  // Messages that needed more than one attempt (or were not delivered).
  const retried = (await alertsDb.deliveries({ limit: 100_000 })).filter((d) => d.attempts > 1 || d.status !== 'delivered');

  // ---- 5. the naive way against the overdue condition alone ----
  log('[5] the naive way: every item read, overdue filtered in JS');
  const overdueRule = rules.find((r) => r.id === 'oncall-overdue')!;
  const ours = await phase(() => conditions.CONDITIONS.overdue(overdueRule, { now: evalNow }));
  const naive = await phase(async () => {
    const found: { storeId: string; name: string; status: string }[] = [];
    let read = 0;
    for (const store of data.stores)
      for await (const batch of db.index.eachItem(store.storeId, evalNow)) {
        read += batch.length;
        for (const item of batch) if (item.freshness.status === 'overdue' || item.freshness.status === 'never-rotated') found.push({ storeId: store.storeId, name: item.name, status: item.freshness.status });
      }
    return { found: found.length, read };
  });

  // ---- report ----
  const totalSubjects = (o: (typeof evaluation.result)[number]) => o.subjects?.length ?? -1;
  // Above the lower of the two baselines (after the baseline evaluation, and after the walk, each after a GC): the larger figure.
  const rssAboveMb = round(evaluation.peakRssMb - Math.min(baselineRssMb, evaluation.startRssMb), 1);
  const heapAboveMb = round(evaluation.peakHeapMb - Math.min(baselineHeapMb, evaluation.startHeapMb), 1);
  const dryMs = (ruleId: string, event: string) => dry.find((d) => d.ruleId === ruleId && d.event === event)?.durationMs ?? NaN;
  const targetsMet = {
    evaluationUnder5s: evaluation.ms < EVAL_TARGET_MS && evalErrors.length === 0,
    memoryUnder100MbAboveBaseline: rssAboveMb < MEMORY_TARGET_MB,
    digestOneMessagePerChannel: digestOk,
  };

  const lines: string[] = [];
  lines.push(`# bench:alerts — ${fmt(ITEMS)} items, ${fmt(EVENTS)} CloudTrail events, ${fmt(overdueNames.size)} turned overdue; ${machineDescription()}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end`);
  lines.push('');
  lines.push(`set-up: inventory ${seconds(inventoryMs)} s, events ${seconds(eventsMs)} s, findings ${FINDINGS ? `${seconds(findingsMs)} s` : 'left out (--no-findings)'}; baseline evaluation ${round(baseline.ms, 0)} ms`);
  lines.push(`baseline subjects: ${Object.entries(baselineSubjects).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}; its queue sent: hook ${baselineSent.hook}, siem ${baselineSent.siem}, slack ${baselineSent.slack}, e-mail ${baselineSent.email}`);
  if (baselineErrors.length) lines.push(`baseline errors: ${baselineErrors.join('; ')}`);
  lines.push('');
  lines.push('| after a sync that turns items overdue | figure | target |');
  lines.push('| --- | ---: | --- |');
  lines.push(`| the walk (sync) writing ${fmt(ITEMS)} rows, ${fmt(overdueNames.size)} of them now overdue | ${seconds(syncWalkMs)} s | — |`);
  lines.push(`| **evaluateAlertRules**, every rule and event, recorded | **${round(evaluation.ms / 1000, 2)} s** | < 5 s: **${targetsMet.evaluationUnder5s ? 'met' : 'missed'}** |`);
  lines.push(`| RSS high-water mark above the baseline (${Math.min(baselineRssMb, evaluation.startRssMb)} MB after a GC) | **${rssAboveMb} MB** | < 100 MB: **${targetsMet.memoryUnder100MbAboveBaseline ? 'met' : 'missed'}** |`);
  lines.push(`| heap peak above the baseline (${Math.min(baselineHeapMb, evaluation.startHeapMb)} MB) | ${heapAboveMb} MB | — |`);
  lines.push(`| immediate rule: webhook messages delivered (DeliveryWorker until empty) | ${fmt(immediateSent.hook)} in ${seconds(immediate.ms)} s (${fmt(Math.round(immediateSent.hook / Math.max(immediate.ms / 1000, 0.001)))}/s; receiver answers in ${RECEIVER_MS} ms; first to last at the receiver ${seconds(hookSpanMs)} s) | ${fmt(overdueNames.size)} |`);
  lines.push(`| digest rules after sendDueDigests at 09:00 UTC: Slack messages / e-mails | **${digestSent.slack} / ${digestSent.email}** (items ${slackDigest?.totalItems ?? '—'} / ${mailDigest?.totalItems ?? '—'}; link to the full list in the body: ${slackBodyLinks ? 'yes' : 'no'} / ${mailBodyLinks ? 'yes' : 'no'}) | 1 / 1: **${digestOk ? 'met' : 'missed'}** |`);
  lines.push(`| overdue: the condition alone (status index) | ${round(ours.ms, 0)} ms, RSS +${round(ours.peakRssMb - ours.startRssMb, 1)} MB, ${fmt(ours.result.length)} found | — |`);
  lines.push(`| overdue, naive: every item read (eachItem), filtered in JS | ${round(naive.ms, 0)} ms (${round(naive.ms / Math.max(ours.ms, 0.001), 1)}× ours), RSS +${round(naive.peakRssMb - naive.startRssMb, 1)} MB, ${fmt(naive.result.found)} found of ${fmt(naive.result.read)} read | — |`);
  lines.push('');
  lines.push('| rule / event | subjects | opened | queued | recorded ms | condition alone ms |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const o of evaluation.result)
    lines.push(`| ${o.ruleId} / ${o.event} | ${o.error ? `error: ${o.error}` : fmt(totalSubjects(o))} | ${fmt(o.counts?.opened ?? 0)} | ${fmt(o.counts?.queued ?? 0)} | ${round(o.durationMs, 0)} | ${round(dryMs(o.ruleId, o.event), 0)} |`);
  lines.push('');
  lines.push(
    `delivery: immediate pass ${JSON.stringify({ delivered: immediate.delivered, retrying: immediate.retrying, dead: immediate.dead, lost: immediate.lost })}; digest pass ${JSON.stringify({ delivered: digestDelivery.delivered, dead: digestDelivery.dead })}; sendDueDigests ${JSON.stringify(Object.fromEntries(digests))}; messages per route after the sync: hook ${afterDigest.hook}, siem ${afterDigest.siem}, slack ${afterDigest.slack}, e-mail ${afterDigest.email}`,
  );
  lines.push(`webhook receiver: ${fmt(http.hookIds.size)} distinct messages, ${fmt(http.hookDuplicates)} received twice; messages that took more than one attempt: ${fmt(retried.length)}${retriedCauses.length ? ` (${retriedCauses.join('; ')})` : ''}`);
  if (evalErrors.length) lines.push(`evaluation errors: ${evalErrors.join('; ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);

  if (json)
    process.stdout.write(
      `${JSON.stringify({
        items: ITEMS,
        events: EVENTS,
        overdue: overdueNames.size,
        findings: FINDINGS,
        setupInventoryS: seconds(inventoryMs),
        setupEventsS: seconds(eventsMs),
        setupFindingsS: seconds(findingsMs),
        baselineEvalMs: round(baseline.ms, 0),
        baselineRssMb,
        baselineHeapMb,
        syncWalkMs: round(syncWalkMs, 0),
        evalMs: round(evaluation.ms, 0),
        evalPerRuleMs: Object.fromEntries(evaluation.result.map((o) => [`${o.ruleId}/${o.event}`, round(o.durationMs, 0)])),
        conditionAloneMs: Object.fromEntries(dry.map((o) => [`${o.ruleId}/${o.event}`, round(o.durationMs, 0)])),
        rssAboveBaselineMb: rssAboveMb,
        heapAboveBaselineMb: heapAboveMb,
        webhookMessages: immediateSent.hook,
        webhookDistinct: http.hookIds.size,
        webhookDuplicates: http.hookDuplicates,
        retriedMessages: retried.length,
        webhookDeliveryS: seconds(immediate.ms),
        receiverMs: RECEIVER_MS,
        slackDigestMessages: digestSent.slack,
        emailDigestMessages: digestSent.email,
        digestItems: { slack: slackDigest?.totalItems ?? null, email: mailDigest?.totalItems ?? null },
        digestLinked: slackBodyLinks && mailBodyLinks,
        overdueConditionMs: round(ours.ms, 0),
        naiveMs: round(naive.ms, 0),
        naiveRssAboveMb: round(naive.peakRssMb - naive.startRssMb, 1),
        oursRssAboveMb: round(ours.peakRssMb - ours.startRssMb, 1),
        targets: targetsMet,
      })}\n`,
    );

  await alerts.closeAlertsDb();
  await new Promise<void>((resolve) => http.server.close(() => resolve()));
  await new Promise<void>((resolve) => smtp.server.close(() => resolve()));
  if (!keep) rmSync(root, { recursive: true, force: true });
  else log(`kept ${root}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
