/**
 * The slice gateway in a lab. Gateways run the way a cluster runs them: the worker makes a
 * Deployment per slice and the lab kubelet runs its host-network pods' command in the node's
 * namespace (controller/lab.ts hands the worker this checkout's gateway command). What the lab
 * must add is the node label that makes nodes gateway nodes, and ways for tests to look at and
 * break the gateway pods: their logs, and the PID of the gateway process for a SIGKILL.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATEWAY_APP, GATEWAY_NODE_LABEL, SLICE_LABEL, SYSTEM_NAMESPACE } from '../controller/api/names.ts';
import type { Lab } from '../lab/lab.ts';

/** Labels `nodes` (default: the cluster's first two) as gateway nodes. */
export async function labelGatewayNodes(lab: Lab, cluster: string, nodes?: string[]): Promise<string[]> {
  const names =
    nodes ??
    lab
      .cluster(cluster)
      .nodes.slice(0, 2)
      .map((n) => n.name);
  for (const n of names)
    await lab.kubectl(cluster, ['label', 'node', n, `${GATEWAY_NODE_LABEL}=true`, '--overwrite']);
  return names;
}

export interface LabGatewayPod {
  name: string;
  uid: string;
  node: string;
  phase: string;
}

/** The slice's gateway pods in `cluster`. */
export async function gatewayPods(lab: Lab, cluster: string, slice: string): Promise<LabGatewayPod[]> {
  const out = await lab.kubectl(cluster, [
    ...['get', 'pods', '-n', SYSTEM_NAMESPACE, '-o', 'json'],
    ...['-l', `app.kubernetes.io/name=${GATEWAY_APP},${SLICE_LABEL}=${slice}`],
  ]);
  const items = (
    JSON.parse(out) as {
      items: {
        metadata: { name: string; uid: string };
        spec: { nodeName?: string };
        status: { phase?: string };
      }[];
    }
  ).items;
  return items.map((p) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    node: p.spec.nodeName ?? '',
    phase: p.status.phase ?? '',
  }));
}

function podDir(lab: Lab, cluster: string, pod: LabGatewayPod): string {
  return join(lab.paths.node(cluster, pod.node), 'pods', pod.uid);
}

/** The gateway container's log as the lab kubelet keeps it ('' if none yet). */
export function gatewayLog(lab: Lab, cluster: string, pod: LabGatewayPod): string {
  try {
    return readFileSync(join(podDir(lab, cluster, pod), 'gateway.log'), 'utf8');
  } catch {
    return '';
  }
}

/**
 * The PID of the gateway process itself: the child of the container's shell (the lab kubelet
 * runs a container as `sh -c '... "$@"; echo $? > exit'`), so a SIGKILL to it is a crash the
 * kubelet sees and restarts, as a container runtime would.
 */
export function gatewayPid(lab: Lab, cluster: string, pod: LabGatewayPod): number | undefined {
  const state = JSON.parse(readFileSync(join(podDir(lab, cluster, pod), 'state.json'), 'utf8')) as {
    containers: Record<string, { running?: { pid: number } }>;
  };
  const shell = state.containers.gateway?.running?.pid;
  if (shell === undefined) return undefined;
  try {
    const children = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(/\s+/);
    const pid = Number(children[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
