/**
 * slicenet-controller inside a lab: the hub controller and each member's worker run as
 * processes in a node's network namespace (host network, as their Deployments would be
 * scheduled), reaching their API servers at the cluster-LAN address. Used by the lab install,
 * the end-to-end tests and bench:control.
 */
import { join } from 'node:path';
import type { Lab } from '../lab/lab.ts';
import type { ProcessRecord } from '../lab/process.ts';
import { processArgv } from '../lib/bundle.ts';

const repo = join(import.meta.dirname, '..');

/**
 * The slicenet-gateway command a lab kubelet runs for a gateway pod (the image is ignored): its
 * bundle, as shipped, by absolute path (a container starts in /). No TypeScript loader thread
 * and no per-module transpiling on a process that handles every slice packet.
 */
export const labGatewayCommand = (): string[] => processArgv('slicenet-gateway');

const main = (): string[] => processArgv('slicenet-controller');

/** The first node of a cluster: where the lab runs its cluster-wide Slicenet processes. */
export const labHostNetns = (lab: Lab, cluster: string): string => lab.cluster(cluster).nodes[0]!.netns;

export interface LabControllerOptions {
  hubCluster: string;
  hubNamespace?: string;
  /** 0 picks a free port; default: the controller's own (8082). */
  probePort?: number;
  id?: string;
}

export function startLabController(lab: Lab, o: LabControllerOptions): ProcessRecord {
  const argv = [...main(), '--mode', 'hub', '--kubeconfig', lab.lanKubeconfig(o.hubCluster)];
  if (o.hubNamespace) argv.push('--hub-namespace', o.hubNamespace);
  if (o.probePort !== undefined) argv.push('--probe-port', String(o.probePort));
  return lab.processes.start({
    id: o.id ?? 'controller',
    netns: labHostNetns(lab, o.hubCluster),
    argv,
    cwd: repo,
  });
}

export interface LabWorkerOptions {
  cluster: string;
  /** The credential `kubectl slice register` made for this cluster. */
  hubKubeconfig: string;
  id?: string;
}

export function startLabWorker(lab: Lab, o: LabWorkerOptions): ProcessRecord {
  return lab.processes.start({
    id: o.id ?? `worker-${o.cluster}`,
    netns: labHostNetns(lab, o.cluster),
    argv: [
      ...main(),
      ...['--mode', 'worker', '--cluster', o.cluster, '--hub-kubeconfig', o.hubKubeconfig],
      ...['--kubeconfig', lab.lanKubeconfig(o.cluster)],
      // Gateway pods run as host-network lab containers: this checkout's gateway, the LAN credential.
      ...['--gateway-command', JSON.stringify([...labGatewayCommand()])],
      ...['--gateway-kubeconfig', lab.lanKubeconfig(o.cluster)],
    ],
    cwd: repo,
  });
}
