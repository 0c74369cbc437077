import 'server-only';
import { z } from 'zod';
import { runWhileLeader, type LeaderHandle } from '@/lib/background/leader';
import { ConfigError } from '@/lib/config/env';
import { logger } from '@/lib/logger';
import { alertsConfig, type AlertRule } from './alerts-config';
import { evaluateAlertRules } from './evaluate-rules';

// The configured rules evaluated in the background, by the replica holding the 'alerts-evaluation'
// lease, every ALERTS_EVALUATE_SECONDS (60): each condition reads what the syncs, the CloudTrail
// index and the findings evaluation last wrote, so an alert follows them within a minute. (Recording
// dedupes, so a second replica evaluating by mistake would queue nothing twice; the lease saves the work.)

const LEASE = 'alerts-evaluation';

const intervalSchema = z.coerce
  .number({ message: 'ALERTS_EVALUATE_SECONDS must be a number of seconds' })
  .min(5, { message: 'ALERTS_EVALUATE_SECONDS must be at least 5' })
  .max(3600, { message: 'ALERTS_EVALUATE_SECONDS must be at most 3600 (an hour)' })
  .default(60);

/** ALERTS_EVALUATE_SECONDS in milliseconds; a bad value stops start-up naming it. */
export function evaluateEveryMs(source: Record<string, string | undefined> = process.env): number {
  const raw = source.ALERTS_EVALUATE_SECONDS;
  const parsed = intervalSchema.safeParse(raw === '' ? undefined : raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues[0]!.message);
  return parsed.data * 1000;
}

interface Slot {
  leader: LeaderHandle;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
}

const g = globalThis as unknown as { __alertEvaluation?: Slot };

/** Starts evaluating the rules in the background (once per process; nothing without rules). `rules` for tests: the configured ones otherwise. */
export function startAlertEvaluation(options: { rules?: readonly AlertRule[]; everyMs?: number; holder?: string } = {}): void {
  if (g.__alertEvaluation) return;
  const rules = options.rules ?? alertsConfig().rules;
  if (rules.length === 0) return;
  const everyMs = options.everyMs ?? evaluateEveryMs();
  const tick = () => {
    const current = g.__alertEvaluation;
    if (!current || current.running) return;
    current.running = evaluateAlertRules(rules, new Date())
      .then((outcomes) => {
        const failed = outcomes.filter((o) => o.error !== undefined).length;
        logger.debug({ evaluated: outcomes.length, failed }, 'alert rules evaluated');
      })
      .catch((error) => logger.error({ err: error instanceof Error ? error.message : 'unknown' }, 'alert evaluation failed'))
      .finally(() => {
        current.running = null;
      });
  };
  const slot: Slot = {
    timer: null,
    running: null,
    leader: runWhileLeader(LEASE, {
      ...(options.holder ? { holder: options.holder } : {}),
      onLead: () => {
        tick();
        slot.timer = setInterval(tick, everyMs);
        slot.timer.unref();
      },
      onLoseLead: async () => {
        if (slot.timer) clearInterval(slot.timer);
        slot.timer = null;
        await slot.running;
      },
    }),
  };
  g.__alertEvaluation = slot;
}

/** Stops the evaluation (tests, shutdown). */
export async function stopAlertEvaluation(): Promise<void> {
  const current = g.__alertEvaluation;
  if (!current) return;
  g.__alertEvaluation = undefined;
  await current.leader.stop();
  await current.running;
}
