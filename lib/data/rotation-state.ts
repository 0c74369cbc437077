import 'server-only';
import { can } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { FULL_SCOPE } from '@/lib/cloudtrail/event-scope';
import { logger } from '@/lib/logger';
import { getStore } from '@/lib/stores/registry';
import type { ItemDetail, RotationStatus } from '@/lib/stores/types';
import { parseAuditFilters } from '@/lib/validations/audit-filters';

// Where a Secrets Manager secret's rotation stands: a version left AWSPENDING (a rotation that
// never finished) and the last failure CloudTrail recorded for it (RotationFailed, RotationAbandoned,
// a refused RotateSecret). Metadata only; for those who may view the item.

export interface RotationFailure {
  at: string;
  event: string;
  errorCode: string | null;
  errorMessage: string | null;
}

export interface RotationState {
  /** AWSPENDING on a version that is not AWSCURRENT. */
  pending: { version: string; createdAt: string } | null;
  lastFailure: RotationFailure | null;
}

const FAILURE_EVENTS = 'RotationFailed,RotationAbandoned,RotateSecret';

export function pendingVersionOf(item: ItemDetail): RotationState['pending'] {
  const pending = item.versions.find((v) => v.labels.includes('AWSPENDING') && !v.labels.includes('AWSCURRENT'));
  return pending ? { version: pending.id, createdAt: pending.createdAt } : null;
}

async function lastFailureOf(storeId: string, name: string): Promise<RotationFailure | null> {
  const filters = parseAuditFilters({ store: storeId, item: name, event: FAILURE_EVENTS });
  if (!filters.ok) return null;
  try {
    const page = await (await auditEventIndex()).queries.timeline(filters.value, FULL_SCOPE, { limit: 20 });
    const failure = page.entries.find((e) => e.eventName !== 'RotateSecret' || e.errorCode !== null);
    if (!failure) return null;
    return { at: failure.time, event: failure.eventName ?? 'RotateSecret', errorCode: failure.errorCode, errorMessage: failure.errorMessage };
  } catch (error) {
    logger.warn({ store: storeId, err: error instanceof Error ? error.name : 'unknown' }, 'could not read rotation failures from the event index');
    return null;
  }
}

/** The item page's rotation state (Secrets Manager only; null elsewhere or when not allowed). */
export async function rotationStateFor(principal: Principal, storeId: string, item: ItemDetail): Promise<RotationState | null> {
  if (!item.details.rotation || !can(principal, 'view-item', { storeId, name: item.name })) return null;
  return { pending: pendingVersionOf(item), lastFailure: await lastFailureOf(storeId, item.name) };
}

export interface RotationProgress {
  version: string;
  stages: string[];
  /** current: promoted; pending: the function is still working; gone: neither (superseded or removed). */
  state: 'current' | 'pending' | 'gone';
  rotation: Pick<RotationStatus, 'enabled' | 'lastRotatedAt' | 'nextRotationAt'>;
}

interface StagedStore {
  versionStages(name: string, versionId: string): Promise<{ stages: string[]; rotation: RotationStatus }>;
}

/** A version's stages during a rotation, for the item page to follow it from AWSPENDING to AWSCURRENT; null if the store has no stages. */
export async function rotationProgressOf(storeId: string, name: string, version: string): Promise<RotationProgress | null> {
  const store = await getStore(storeId);
  if (!store || typeof (store as Partial<StagedStore>).versionStages !== 'function') return null;
  const { stages, rotation } = await (store as unknown as StagedStore).versionStages(name, version);
  const state = stages.includes('AWSCURRENT') ? 'current' : stages.includes('AWSPENDING') ? 'pending' : 'gone';
  return { version, stages, state, rotation: { enabled: rotation.enabled, lastRotatedAt: rotation.lastRotatedAt, nextRotationAt: rotation.nextRotationAt } };
}
