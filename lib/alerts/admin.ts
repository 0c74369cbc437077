import 'server-only';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { appendAudit } from '@/lib/audit/audit-log';
import { authorize } from '@/lib/auth/authorize';
import { actorOf, type Principal } from '@/lib/auth/principal';
import { loadStoreConfigs } from '@/lib/config/stores';
import { ConflictError } from '@/lib/conflict-error';
import { RequestError } from '@/lib/request-error';
import { liftSilenceSchema, sendTestSchema, silenceInputSchema } from '@/lib/validations/alerts';
import { alertsConfig } from './alerts-config';
import { alertRule, alertsDb } from './alerts';
import type { StoredSilence } from './alerts-db';
import { dashboardUrl, testMessage } from './messages';

// What admins do to alerts: silence a rule or an item (a reason, an expiry within 90 days), lift a
// silence, and send a channel a test message. Each is audited in the audit chain as suppressions
// are (who, what, the reason's first characters), and a refusal is audited by authorize().
// Admins only: 'manage-alerts' (lib/auth/roles.ts), which no other role holds; an admin held to some
// stores or paths does not hold it either (silences and tests are about every store's paging).

export const SILENCE_ACTION = 'alert.silence';
export const LIFT_SILENCE_ACTION = 'alert.lift-silence';
export const SEND_TEST_ACTION = 'alert.send-test';
/** The audit entry keeps this many characters of the reason (the whole reason stays in the alerts store). */
export const AUDITED_REASON_CHARS = 200;
const MAX_SILENCES_LISTED = 500;

export type SilenceState = 'active' | 'expired' | 'lifted';

export interface SilenceListItem extends StoredSilence {
  state: SilenceState;
}

const describeIssues = (error: z.ZodError) => error.issues.map((i) => i.message).join('; ');

function stateOf(silence: StoredSilence, now: Date): SilenceState {
  if (silence.liftedAt) return 'lifted';
  return Date.parse(silence.expiresAt) > now.getTime() ? 'active' : 'expired';
}

const requireAdmin = (principal: Principal | null) => authorize(principal, 'manage-alerts');

/** Silences a rule, an item, or a rule on one item until the expiry; audited. 400 for bad input or an unknown rule or store. */
export async function createSilence(principal: Principal | null, raw: unknown, now: Date = new Date()): Promise<SilenceListItem> {
  await requireAdmin(principal);
  const parsed = silenceInputSchema(now).safeParse(raw);
  if (!parsed.success) throw new RequestError(400, describeIssues(parsed.error));
  const input = parsed.data;
  if (input.ruleId !== undefined && !alertRule(input.ruleId)) throw new RequestError(400, `ruleId: no alert rule "${input.ruleId}" is configured`);
  if (input.storeId !== undefined && !loadStoreConfigs().some((s) => s.id === input.storeId)) throw new RequestError(400, `storeId: no store "${input.storeId}" is configured`);
  const db = await alertsDb();
  const id = await db.addSilence({
    ruleId: input.ruleId ?? null,
    storeId: input.storeId ?? null,
    itemName: input.itemName ?? null,
    reason: input.reason,
    expiresAt: input.expiresAt,
    createdBy: actorOf(principal),
    createdAt: now.toISOString(),
  });
  await appendAudit({
    actor: actorOf(principal),
    action: SILENCE_ACTION,
    target: input.storeId !== undefined ? `${input.storeId}:${input.itemName}` : `rule:${input.ruleId}`,
    outcome: 'success',
    details: { silence: id, ...(input.ruleId ? { rule: input.ruleId } : {}), expiresAt: input.expiresAt, reason: input.reason.slice(0, AUDITED_REASON_CHARS) },
  });
  const stored = (await db.silence(id))!;
  return { ...stored, state: stateOf(stored, now) };
}

/** Lifts a silence; audited. 404 when there is none, 409 when it was lifted already. */
export async function liftSilence(principal: Principal | null, raw: unknown, now: Date = new Date()): Promise<SilenceListItem> {
  await requireAdmin(principal);
  const parsed = liftSilenceSchema.safeParse(raw);
  if (!parsed.success) throw new RequestError(400, describeIssues(parsed.error));
  const db = await alertsDb();
  const found = await db.silence(parsed.data.id);
  if (!found) throw new RequestError(404, `There is no silence ${parsed.data.id}.`);
  if (!(await db.liftSilence(found.id, actorOf(principal), now.toISOString()))) throw new ConflictError(`Silence ${found.id} was lifted already.`);
  await appendAudit({
    actor: actorOf(principal),
    action: LIFT_SILENCE_ACTION,
    target: found.storeId !== null ? `${found.storeId}:${found.itemName}` : `rule:${found.ruleId}`,
    outcome: 'success',
    details: { silence: found.id, ...(found.ruleId ? { rule: found.ruleId } : {}) },
  });
  const stored = (await db.silence(found.id))!;
  return { ...stored, state: stateOf(stored, now) };
}

/** Silences, newest first, each active, expired or lifted. */
export async function listSilences(principal: Principal | null, now: Date = new Date()): Promise<SilenceListItem[]> {
  await requireAdmin(principal);
  return (await (await alertsDb()).silences(MAX_SILENCES_LISTED)).map((s) => ({ ...s, state: stateOf(s, now) }));
}

/**
 * Queues a test message to a configured channel (the worker sends it like any other); audited.
 * Returns the delivery's id, to follow it in the log. The caller has checked the actor is an admin
 * (sendTestAlert does both).
 */
export async function sendTest(channelId: string, actor: string, now: Date = new Date()): Promise<number> {
  if (!alertsConfig().senders.some((s) => s.id === channelId)) throw new RequestError(404, `There is no alert channel "${channelId}".`);
  const db = await alertsDb();
  const dedupKey = `test:${channelId}:${randomUUID()}`;
  const id = await db.queueTest(channelId, testMessage(channelId, actor, now.toISOString(), dedupKey, dashboardUrl('/alerts')), now);
  await appendAudit({ actor, action: SEND_TEST_ACTION, target: `channel:${channelId}`, outcome: 'success', details: { delivery: id } });
  return id;
}

/** "Send test" as the page calls it: admins only, input validated. */
export async function sendTestAlert(principal: Principal | null, raw: unknown, now: Date = new Date()): Promise<number> {
  await requireAdmin(principal);
  const parsed = sendTestSchema.safeParse(raw);
  if (!parsed.success) throw new RequestError(400, describeIssues(parsed.error));
  return sendTest(parsed.data.channelId, actorOf(principal), now);
}
