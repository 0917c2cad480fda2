/**
 * Pod status from what the kubelet knows (the pod's state file), as the real kubelet reports
 * it: phase, addresses, the five kubelet-owned conditions, one status per container. Pure,
 * so the rules are tested as a table; `statusChanged` keeps the kubelet from writing a status
 * the API server already has (comparing in a form where a Date and the API server's time
 * string are equal, and an empty `lastState: {}` equals none).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { kubeTime } from '../../lib/kube/client.ts';
import type { ContainerState, PodState, Termination } from './state.ts';

export const KUBELET_CONDITIONS = [
  'PodScheduled',
  'PodReadyToStartContainers',
  'Initialized',
  'ContainersReady',
  'Ready',
];

/** The part of status the kubelet owns, as JSON (times are API strings); sent as a strategic merge patch. */
export interface OwnedStatus {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  hostIP: string;
  hostIPs: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  conditions: Condition[];
  containerStatuses: ContainerStatus[];
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime: string;
  reason?: string;
}

interface TerminatedOut {
  exitCode: number;
  reason: string;
  startedAt: string;
  finishedAt: string;
  containerID: string;
}

type ContainerStateOut =
  | { running: { startedAt: string } }
  | { terminated: TerminatedOut }
  | { waiting: { reason: string; message?: string } };

interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  restartCount: number;
  ready: boolean;
  started: boolean;
  state: ContainerStateOut;
  lastState: { terminated?: TerminatedOut };
}

export function shouldRestart(policy: string | undefined, exitCode: number): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return exitCode !== 0;
  return true;
}

/** Terminal: every container has ended for good. */
export function isTerminal(pod: V1Pod, state: PodState): boolean {
  const containers = pod.spec?.containers ?? [];
  return (
    containers.length > 0 &&
    containers.every((c) => {
      const t = state.containers[c.name]?.terminated;
      return t !== undefined && !shouldRestart(pod.spec?.restartPolicy, t.exitCode);
    })
  );
}

export function computeStatus(
  pod: V1Pod,
  state: PodState | undefined,
  nodeIp: string,
  now = new Date(),
): OwnedStatus {
  const spec = pod.spec;
  const networked = state !== undefined && state.podIps.length > 0;
  const containers = spec?.containers ?? [];
  const statuses = containers.map((c) =>
    containerStatus(c.name, c.image ?? '', state?.containers[c.name], spec?.restartPolicy),
  );
  const terminal = state !== undefined && networked && isTerminal(pod, state);
  const allRunning = networked && containers.every((c) => state?.containers[c.name]?.running !== undefined);
  const allStarted =
    networked &&
    containers.every((c) => {
      const cs = state?.containers[c.name];
      return cs?.running !== undefined || cs?.terminated !== undefined;
    });
  let phase: OwnedStatus['phase'] = 'Pending';
  if (terminal) {
    phase = containers.every((c) => state?.containers[c.name]?.terminated?.exitCode === 0)
      ? 'Succeeded'
      : 'Failed';
  } else if (allStarted) phase = 'Running';

  const notReady = terminal ? 'PodCompleted' : 'ContainersNotReady';
  const wanted: [string, boolean, string?][] = [
    ['PodScheduled', true],
    ['PodReadyToStartContainers', networked],
    ['Initialized', true],
    ['ContainersReady', allRunning, allRunning ? undefined : notReady],
    ['Ready', allRunning, allRunning ? undefined : notReady],
  ];
  const existing = pod.status?.conditions ?? [];
  const conditions = wanted.map(([type, ok, reason]): Condition => {
    const status = ok ? 'True' : 'False';
    const prev = existing.find((c) => c.type === type);
    // Kept across writes: the time the condition last changed, not the time it was written.
    const since =
      prev?.status === status && prev.lastTransitionTime
        ? timeString(prev.lastTransitionTime)
        : kubeTime(now);
    return { type, status, lastTransitionTime: since, ...(reason ? { reason } : {}) };
  });

  const podIps = state?.podIps ?? [];
  const out: OwnedStatus = {
    phase,
    hostIP: nodeIp,
    hostIPs: [{ ip: nodeIp }],
    conditions,
    containerStatuses: statuses,
  };
  if (podIps.length > 0) {
    out.podIP = podIps[0];
    out.podIPs = podIps.map((ip) => ({ ip }));
  }
  if (state) out.startTime = state.startTime;
  return out;
}

function containerStatus(
  name: string,
  image: string,
  cs: ContainerState | undefined,
  policy: string | undefined,
): ContainerStatus {
  const base = { name, image, imageID: '', restartCount: cs?.restartCount ?? 0 };
  const lastState = cs?.lastTerminated ? { terminated: terminated(cs.lastTerminated) } : {};
  if (cs?.running) {
    return {
      ...base,
      containerID: `lab://${cs.running.containerId}`,
      ready: true,
      started: true,
      state: { running: { startedAt: cs.running.startedAt } },
      lastState,
    };
  }
  if (cs?.terminated) {
    const t = cs.terminated;
    const restarting = shouldRestart(policy, t.exitCode);
    const state: ContainerStateOut = restarting
      ? { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container ${name}` } }
      : { terminated: terminated(t) };
    const last = restarting ? { terminated: terminated(t) } : lastState;
    return {
      ...base,
      containerID: `lab://${t.containerId}`,
      ready: false,
      started: false,
      state,
      lastState: last,
    };
  }
  return {
    ...base,
    ready: false,
    started: false,
    state: { waiting: { reason: 'ContainerCreating' } },
    lastState,
  };
}

function terminated(t: Termination): TerminatedOut {
  const { exitCode, reason, startedAt, finishedAt } = t;
  return { exitCode, reason, startedAt, finishedAt, containerID: `lab://${t.containerId}` };
}

/** A time from the informer's cache: a string, or a Date where a typed client made one. */
const timeString = (t: unknown): string => (t instanceof Date ? kubeTime(t) : String(t));

/**
 * The strategic merge patch that writes `ours`. Conditions merge by type (other writers own
 * other types), but podIPs and hostIPs would merge by address, keeping an address from an
 * earlier sandbox; the kubelet owns them whole, so they are replaced.
 */
export function statusPatch(ours: OwnedStatus): { status: Record<string, unknown> } {
  const status: Record<string, unknown> = { ...ours };
  for (const key of ['podIPs', 'hostIPs'] as const) {
    const list = ours[key];
    if (list) status[key] = [...list, { $patch: 'replace' }];
  }
  return { status };
}

/** Whether `ours` differs from what the pod's status already says. */
export function statusChanged(pod: V1Pod, ours: OwnedStatus): boolean {
  const cur = (pod.status ?? {}) as Record<string, unknown>;
  const current: Record<string, unknown> = {};
  for (const key of Object.keys(ours)) current[key] = cur[key];
  current.conditions = (pod.status?.conditions ?? []).filter((c) => KUBELET_CONDITIONS.includes(c.type));
  return canonical(current) !== canonical(ours);
}

/** Stable JSON: sorted keys, times as API strings, empty and null values dropped. */
export function canonical(value: unknown): string {
  return JSON.stringify(normalize(value)) ?? '';
}

function normalize(v: unknown): unknown {
  if (v instanceof Date) return kubeTime(v);
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v))
    return kubeTime(new Date(v));
  if (Array.isArray(v)) {
    const items = v.map(normalize);
    // Conditions are matched by type, whatever their order.
    return items.every((i) => typeof i === 'object' && i !== null && 'type' in i)
      ? [...items].sort((a, b) =>
          String((a as { type: string }).type).localeCompare(String((b as { type: string }).type)),
        )
      : items;
  }
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalize((v as Record<string, unknown>)[k]);
      if (n === undefined || n === null) continue;
      if (typeof n === 'object' && Object.keys(n).length === 0) continue;
      out[k] = n;
    }
    return out;
  }
  return v;
}
