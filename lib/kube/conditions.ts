/**
 * Status conditions, as metav1.Condition defines them: one entry per type, each saying which
 * generation of the spec it describes. Controllers compute the conditions they want on every
 * reconcile and write status only when `changed` says something differs, so a steady state
 * costs no writes (and no watch events for everyone else).
 *
 * `lastTransitionTime` moves only when `status` flips: a new reason or message on an unchanged
 * status is an update, not a transition, so "Ready since" stays meaningful.
 */
import { SlicenetError } from '../errors.ts';
import { kubeTime } from './client.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable: `^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`. */
  reason: string;
  message: string;
  observedGeneration?: number;
  /** RFC 3339, whole seconds. */
  lastTransitionTime: string;
}

export type ConditionUpdate = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

export interface SetConditionResult {
  conditions: Condition[];
  changed: boolean;
}

// The API server's own rule for metav1.Condition.reason; checked here so a bad reason fails
// in the controller's tests rather than as a rejected status write in production.
const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

export class ConditionError extends SlicenetError {
  constructor(message: string) {
    super('CONDITION_INVALID', message);
  }
}

/**
 * Returns `conditions` with `update` applied (a new array; the input is not modified) and
 * whether anything differs. Order is kept; a new type is appended.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  observedGeneration: number | undefined,
  now: Date = new Date(),
): SetConditionResult {
  if (!REASON.test(update.reason) || update.reason.length > 1024) {
    throw new ConditionError(`condition ${update.type}: reason "${update.reason}" must be CamelCase`);
  }
  const list = conditions ?? [];
  const i = list.findIndex((c) => c.type === update.type);
  const old = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    lastTransitionTime: old && old.status === update.status ? old.lastTransitionTime : kubeTime(now),
  };
  if (old && sameCondition(old, next)) return { conditions: [...list], changed: false };
  const out = [...list];
  if (i >= 0) out[i] = next;
  else out.push(next);
  return { conditions: out, changed: true };
}

/** Applies several updates; `changed` if any of them changed something. */
export function setConditions(
  conditions: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  observedGeneration: number | undefined,
  now: Date = new Date(),
): SetConditionResult {
  let result: SetConditionResult = { conditions: [...(conditions ?? [])], changed: false };
  for (const u of updates) {
    const r = setCondition(result.conditions, u, observedGeneration, now);
    result = { conditions: r.conditions, changed: result.changed || r.changed };
  }
  return result;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

function sameCondition(a: Condition, b: Condition): boolean {
  return (
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.observedGeneration === b.observedGeneration &&
    a.lastTransitionTime === b.lastTransitionTime
  );
}
