import 'server-only';
import { z } from 'zod';
import { appendAudit } from '@/lib/audit/audit-log';
import { AuthorizationError, authorize, can, canEverywhere } from '@/lib/auth/authorize';
import { actorOf, type Principal } from '@/lib/auth/principal';
import { auditScopes } from './audit-scopes';
import { controlOf, CONTROLS } from '@/lib/findings/controls';
import { findingsDb } from '@/lib/findings/findings';
import type { FindingPosition, FindingScope, FindingsWhere, StoredFinding, StoredSuppression } from '@/lib/findings/findings-db';
import type { FindingDto, FindingFilters, FindingPage, FindingQuery, FindingSummary, SuppressionListItem } from '@/lib/findings/queries';
import { AUDITED_REASON_CHARS, LIFT_ACTION, SUPPRESS_ACTION } from '@/lib/findings/suppression-audit';
import { SEVERITIES, WORKLOAD_STORE_ID, type ControlId, type FindingStatus, type Severity } from '@/lib/findings/types';
import { CursorError } from '@/lib/inventory/inventory-index';
import { ConflictError } from '@/lib/conflict-error';
import { itemHref } from '@/lib/links';
import { RequestError } from '@/lib/request-error';
import { getStores } from '@/lib/stores/registry';
import { liftSuppressionSchema, MAX_FINDINGS_LIMIT as LIMIT, suppressionInputSchema } from '@/lib/validations/finding';

// The data access layer for findings: every list, count, export and suppression cut to the
// caller's view-audit grants (findings carry CloudTrail evidence), by the same name patterns the
// audit timeline uses. Callers: the /findings page, item pages, the overview, /api/v1/findings and
// /metrics (the last with lib/auth/operator-principal.ts). Findings about workloads (secrets in
// plain sight in Lambda and ECS) name no item: like the audit timeline's unmapped events, only
// callers who may audit every path of every store see (and suppress) them.

export const MAX_FINDINGS_LIMIT = LIMIT;
/** AWS list prices a month: a Secrets Manager secret, an advanced-tier parameter. */
const SECRET_MONTHLY_USD = 0.4;
const ADVANCED_PARAMETER_MONTHLY_USD = 0.05;
const MAX_SUPPRESSIONS_LISTED = 500;

/** The stores (optionally only some) and names the principal may see findings of; workloads too for auditors of everything, unless stores are named. */
async function scopesOf(principal: Principal, storeIds?: string[]): Promise<FindingScope[]> {
  const scopes: FindingScope[] = await auditScopes(principal, storeIds);
  if ((!storeIds || storeIds.includes(WORKLOAD_STORE_ID)) && canEverywhere(principal, 'view-audit')) scopes.push({ storeId: WORKLOAD_STORE_ID, namePattern: null });
  return scopes;
}

/** Whether the principal may see a finding's evidence: its item's audit trail, or (a workload finding) every one. */
function mayAudit(principal: Principal, storeId: string, name: string): boolean {
  return storeId === WORKLOAD_STORE_ID ? canEverywhere(principal, 'view-audit') : can(principal, 'view-audit', { storeId, name });
}

/** Whether the principal may suppress (and lift) findings on this item, or (storeId WORKLOAD_STORE_ID) on workloads. */
export function maySuppressFinding(principal: Principal, storeId: string, name: string): boolean {
  return storeId === WORKLOAD_STORE_ID ? canEverywhere(principal, 'suppress-finding') : can(principal, 'suppress-finding', { storeId, name });
}

/** authorize() for a workload finding, which names no item: 404 outside the caller's reach, 403 without the role; audited. */
async function authorizeWorkload(principal: Principal, action: 'suppress-finding', itemName: string): Promise<void> {
  if (canEverywhere(principal, action)) return;
  const status = canEverywhere(principal, 'view-audit') ? 403 : 404;
  await appendAudit({ actor: actorOf(principal), action, target: `workload:${itemName}`, outcome: 'denied', details: { status } });
  throw new AuthorizationError(status, status === 404 ? `There is no finding raised on ${itemName}.` : `Your role does not allow ${action} here; ask an admin for a grant.`);
}

async function whereOf(principal: Principal, filters: FindingFilters, now: Date): Promise<FindingsWhere> {
  return {
    scopes: await scopesOf(principal, filters.storeIds),
    ...(filters.controls ? { controls: filters.controls } : {}),
    ...(filters.severities ? { severities: filters.severities } : {}),
    ...(filters.accounts ? { accounts: filters.accounts } : {}),
    ...(filters.owners ? { owners: filters.owners } : {}),
    ...(filters.statuses ? { statuses: filters.statuses } : {}),
    ...(filters.item ? { item: filters.item } : {}),
    now,
  };
}

const positionSchema = z.tuple([z.number().int().min(0).max(SEVERITIES.length), z.string().max(64), z.string().max(4096), z.string().max(64)]);

function encodePosition(p: FindingPosition): string {
  return Buffer.from(JSON.stringify([p.rank, p.storeId, p.itemName, p.control]), 'utf8').toString('base64url');
}

function decodePosition(raw: string): FindingPosition {
  try {
    const [rank, storeId, itemName, control] = positionSchema.parse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
    return { rank, storeId, itemName, control };
  } catch {
    throw new CursorError();
  }
}

function toDto(f: StoredFinding): FindingDto {
  const control = controlOf(f.control);
  return {
    storeId: f.storeId,
    itemName: f.itemName,
    control: f.control,
    controlTitle: control.title,
    severity: f.severity,
    status: f.status,
    kind: f.kind,
    arn: f.arn,
    account: f.account,
    owner: f.owner,
    firstSeenAt: f.firstSeenAt,
    lastSeenAt: f.lastSeenAt,
    resolvedAt: f.resolvedAt,
    evidence: f.evidence,
    remediation: control.remediation,
    suppression: f.suppression,
    href: f.storeId === WORKLOAD_STORE_ID ? null : itemHref(f.storeId, f.itemName),
  };
}

/** A page of findings, most severe first (then store, item, control); keyset-paged. Throws CursorError for a bad cursor. */
export async function listFindings(principal: Principal, query: FindingQuery, now: Date = new Date()): Promise<FindingPage> {
  const after = query.cursor ? decodePosition(query.cursor) : null;
  const limit = Math.max(1, Math.min(MAX_FINDINGS_LIMIT, Math.floor(query.limit) || 1));
  const rows = await (await findingsDb()).page(await whereOf(principal, query, now), limit + 1, after);
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor =
    rows.length > limit && last
      ? encodePosition({ rank: SEVERITIES.indexOf(last.severity), storeId: last.storeId, itemName: last.itemName, control: last.control })
      : null;
  return { items: items.map(toDto), nextCursor };
}

/** Counts by control and status, open per severity, the cost of unused items, when evaluated. */
export async function getFindingSummary(principal: Principal, filters: FindingFilters = {}, now: Date = new Date()): Promise<FindingSummary> {
  const db = await findingsDb();
  const where = await whereOf(principal, { ...filters, statuses: undefined }, now);
  const [counts, unusedSecrets, unusedAdvanced, runs] = await Promise.all([
    db.counts(where),
    db.countOpen(where, 'sm-unused', 'secret'),
    db.countOpen(where, 'not-read-recently', undefined, 'Advanced'),
    db.runs(),
  ]);
  const byControl = CONTROLS.filter((c) => !filters.controls || filters.controls.includes(c.id)).map((c) => {
    const of = (status: FindingStatus) => counts.find((r) => r.control === c.id && r.status === status)?.n ?? 0;
    return { control: c.id, title: c.title, severity: c.severity, open: of('open'), suppressed: of('suppressed'), resolved: of('resolved') };
  });
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const row of byControl) bySeverity[row.severity] += row.open;
  const total = (status: 'open' | 'suppressed' | 'resolved') => byControl.reduce((n, r) => n + r[status], 0);
  const evaluated = where.scopes.filter((s) => s.storeId !== WORKLOAD_STORE_ID).map((s) => runs.get(s.storeId)).filter((at): at is string => at !== undefined);
  return {
    byControl,
    bySeverity,
    open: total('open'),
    suppressed: total('suppressed'),
    resolved: total('resolved'),
    unusedCost: {
      secrets: unusedSecrets,
      advancedParameters: unusedAdvanced,
      monthlyUsd: Math.round((unusedSecrets * SECRET_MONTHLY_USD + unusedAdvanced * ADVANCED_PARAMETER_MONTHLY_USD) * 100) / 100,
    },
    evaluatedAt: evaluated.length ? evaluated.reduce((a, b) => (a < b ? a : b)) : null,
    pendingStores: where.scopes.filter((s) => s.storeId !== WORKLOAD_STORE_ID && !runs.has(s.storeId)).map((s) => s.storeId),
  };
}

/** One item's raised findings (open and suppressed), or null when the caller may not see its audit trail. */
export async function findingsForItem(principal: Principal, storeId: string, name: string, now: Date = new Date()): Promise<FindingDto[] | null> {
  if (!can(principal, 'view-audit', { storeId, name })) return null;
  const page = await listFindings(principal, { item: { storeId, name }, statuses: ['open', 'suppressed'], limit: 100 }, now);
  return page.items;
}

/** Suppressions of findings within the caller's grants, newest first. */
export async function listSuppressions(principal: Principal, options: { activeOnly?: boolean } = {}, now: Date = new Date()): Promise<SuppressionListItem[]> {
  const rows = await (await findingsDb()).suppressions(await scopesOf(principal), MAX_SUPPRESSIONS_LISTED);
  const items = rows.map((s) => toSuppressionItem(s, now));
  return options.activeOnly ? items.filter((s) => s.active) : items;
}

function toSuppressionItem(s: StoredSuppression, now: Date): SuppressionListItem {
  return {
    id: s.id,
    storeId: s.storeId,
    itemName: s.itemName,
    control: s.control,
    reason: s.reason,
    expiresAt: s.expiresAt,
    createdBy: s.createdBy,
    createdAt: s.createdAt,
    liftedAt: s.liftedAt,
    liftedBy: s.liftedBy,
    active: s.liftedAt === null && Date.parse(s.expiresAt) > now.getTime(),
  };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => i.message).join('; ');
}

/**
 * Suppresses a raised finding until its expiry, with a reason; audited. 400 for bad input, 404
 * when there is no such finding raised within the caller's grants (worded like a missing item).
 */
export async function createSuppression(principal: Principal, raw: unknown, now: Date = new Date()): Promise<SuppressionListItem> {
  const parsed = suppressionInputSchema(now).safeParse(raw);
  if (!parsed.success) throw new RequestError(400, describeIssues(parsed.error));
  const input = parsed.data;
  if (input.storeId === WORKLOAD_STORE_ID) await authorizeWorkload(principal, 'suppress-finding', input.itemName);
  else await authorize(principal, 'suppress-finding', { storeId: input.storeId, name: input.itemName });
  const db = await findingsDb();
  const scopes = await scopesOf(principal, [input.storeId]);
  if (!(await db.isRaised(scopes, input.storeId, input.itemName, input.control as ControlId, now))) {
    throw new RequestError(404, `There is no finding "${input.control}" raised on ${input.itemName} in store "${input.storeId}".`);
  }
  const createdAt = now.toISOString();
  const id = await db.addSuppression({ storeId: input.storeId, itemName: input.itemName, control: input.control, reason: input.reason, expiresAt: input.expiresAt, createdBy: actorOf(principal), createdAt });
  await appendAudit({
    actor: actorOf(principal),
    action: SUPPRESS_ACTION,
    target: `${input.storeId}:${input.itemName}`,
    outcome: 'success',
    details: { control: input.control, expiresAt: input.expiresAt, suppression: id, reason: input.reason.slice(0, AUDITED_REASON_CHARS) },
  });
  return toSuppressionItem((await db.suppression(id))!, now);
}

/** Lifts a suppression in force; audited. 404 when it is not one the caller may see, 409 when already lifted. */
export async function liftSuppressionById(principal: Principal, raw: unknown, now: Date = new Date()): Promise<SuppressionListItem> {
  const parsed = liftSuppressionSchema.safeParse(raw);
  if (!parsed.success) throw new RequestError(400, describeIssues(parsed.error));
  const db = await findingsDb();
  const found = await db.suppression(parsed.data.id);
  if (!found || !mayAudit(principal, found.storeId, found.itemName)) {
    throw new RequestError(404, `There is no suppression ${parsed.data.id}.`);
  }
  if (found.storeId === WORKLOAD_STORE_ID) await authorizeWorkload(principal, 'suppress-finding', found.itemName);
  else await authorize(principal, 'suppress-finding', { storeId: found.storeId, name: found.itemName });
  if (!(await db.liftSuppression(found.id, actorOf(principal), now.toISOString()))) throw new ConflictError(`Suppression ${found.id} was lifted already.`);
  await appendAudit({ actor: actorOf(principal), action: LIFT_ACTION, target: `${found.storeId}:${found.itemName}`, outcome: 'success', details: { control: found.control, suppression: found.id } });
  return toSuppressionItem((await db.suppression(found.id))!, now);
}

