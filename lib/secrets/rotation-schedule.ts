import 'server-only';
import { appendAudit } from '@/lib/audit/audit-log';
import { notFoundMessage } from '@/lib/auth/authorize';
import { actorOf, type Principal } from '@/lib/auth/principal';
import { ConflictError } from '@/lib/conflict-error';
import { isStoreError } from '@/lib/stores/errors';
import type { RotationStatus, SecretStore } from '@/lib/stores/types';
import type { RotationScheduleInput } from '@/lib/validations/rotation-schedule';
import { writableStoreFor } from './write-new-value';
import { oneAtATime } from './write-guard';

// Admins set, change or turn off a Secrets Manager secret's rotation schedule. Audited with the
// reason; the answer is the rotation state AWS reports afterwards.

interface SchedulingStore {
  setRotationSchedule(name: string, schedule: { expression: string; window?: string } | null): Promise<RotationStatus>;
}

function schedules(store: SecretStore): store is SecretStore & SchedulingStore {
  return typeof (store as Partial<SchedulingStore>).setRotationSchedule === 'function';
}

export async function setRotationSchedule(principal: Principal, input: RotationScheduleInput): Promise<RotationStatus> {
  const store = await writableStoreFor(input.storeId, input.name);
  if (!schedules(store)) throw new ConflictError(`Store "${store.id}" has no rotation schedules: only Secrets Manager secrets rotate on a schedule in AWS.`);
  const actor = actorOf(principal);
  const target = `${store.id}:${input.name}`;
  const schedule = input.enabled ? { expression: input.expression!, ...(input.window ? { window: input.window } : {}) } : null;
  const details = { reason: input.reason, enabled: input.enabled, ...(schedule ? { schedule: schedule.expression, window: schedule.window ?? null } : {}) };
  return oneAtATime(target, async () => {
    try {
      const rotation = await store.setRotationSchedule(input.name, schedule);
      await appendAudit({ actor, action: 'schedule-rotation', target, outcome: 'success', details });
      return rotation;
    } catch (error) {
      await appendAudit({ actor, action: 'schedule-rotation', target, outcome: 'failure', details: { ...details, error: isStoreError(error) ? error.code : 'refused' } });
      if (isStoreError(error) && error.code === 'not-found') throw new ConflictError(notFoundMessage({ storeId: store.id, name: input.name }));
      throw error;
    }
  });
}
