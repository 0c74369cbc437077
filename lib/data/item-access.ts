import 'server-only';
import { can } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { vaultStoresWithAuditSource } from '@/lib/cloudtrail/sources-config';
import type { AuditEntry } from '@/lib/cloudtrail/event-queries';

// An item's Access panel: who read it (CloudTrail), when last, who is new, its latest events. Only
// for those who may audit the item; the raw events stay on the server.

export interface AccessEvent {
  time: string;
  eventName: string | null;
  access: 'read' | 'write';
  actor: string | null;
  sourceIp: string | null;
  errorCode: string | null;
  /** The folder the event read, when it was a GetParametersByPath above the item. */
  viaFolder: string | null;
}

export interface AccessReader {
  principal: string | null;
  reads: number;
  lastReadAt: string;
  isNew: boolean;
}

export interface ItemAccess {
  lastRead: AccessEvent | null;
  readers30: AccessReader[];
  readers90: AccessReader[];
  newReaderDays: number;
  recent: AccessEvent[];
}

function toEvent(entry: AuditEntry): AccessEvent {
  return {
    time: entry.time,
    eventName: entry.eventName,
    access: entry.access,
    actor: entry.actorArn ?? entry.principal,
    sourceIp: entry.sourceIp,
    errorCode: entry.errorCode,
    viaFolder: entry.itemName?.endsWith('/') ? entry.itemName : null,
  };
}

/** The panel, or null when the caller may not audit this item. */
export async function itemAccessFor(principal: Principal, storeId: string, name: string): Promise<ItemAccess | null> {
  if (!can(principal, 'view-audit', { storeId, name })) return null;
  const panel = await (await auditEventIndex()).queries.accessPanel(storeId, name);
  const readers = (list: typeof panel.readers30) => list.map((r) => ({ principal: r.principal, reads: r.reads, lastReadAt: r.lastReadAt, isNew: r.isNew }));
  return {
    lastRead: panel.lastRead ? toEvent(panel.lastRead) : null,
    readers30: readers(panel.readers30),
    readers90: readers(panel.readers90),
    newReaderDays: panel.newReaderDays,
    recent: panel.recent.map(toEvent),
  };
}

/**
 * Whether a Vault store's reads are known: only when CONFIG_FILE's `audit:` names a vault-file
 * source for it (AWS stores always have CloudTrail). Config, not events: a store whose log has no
 * event yet still has its Access panel.
 */
export function vaultAccessSourceConfigured(storeId: string): boolean {
  return vaultStoresWithAuditSource().has(storeId);
}
