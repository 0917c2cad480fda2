/**
 * Running a command in a slice pod, for the MTU check and `kubectl slice bench`.
 *
 * Two ways in, chosen per pod:
 * - the pod's network namespace on this machine, when there is one: the lab's pods are network
 *   namespaces named `<lab>-p-<uid>` (lab/kubelet/netns.ts) and the lab kubelet serves no
 *   exec API, so `kubectl exec` cannot reach them. The command runs on this machine inside
 *   the pod's network, which is all a ping or iperf3 needs (needs root, as the lab does).
 * - otherwise `kubectl exec`, as for any real cluster (the image must have ping and iperf3).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRaw, type RunResult } from '../../lib/exec.ts';
import type { Kube } from '../kube.ts';
import type { Members } from './members.ts';
import type { SlicePod } from './slicepods.ts';

/** The pod's network namespace on this machine, if it is a lab pod here. */
export function localPodNetns(uid: string): string | undefined {
  const suffix = `-p-${uid.replace(/-/g, '').slice(0, 16)}`;
  try {
    return readdirSync('/run/netns').find((n) => n.endsWith(suffix));
  } catch {
    return undefined;
  }
}

export class PodExec {
  private kubeconfigDir: string | undefined;

  /** `members` gives each member cluster's connection, for kubectl exec. */
  constructor(private readonly members: Members) {}

  /** How a pod is reached: 'netns <name>' or 'kubectl exec'. */
  via(pod: SlicePod): string {
    const ns = localPodNetns(pod.uid);
    return ns ? `netns ${ns}` : 'kubectl exec';
  }

  run(pod: SlicePod, argv: string[], timeoutMs: number): Promise<RunResult> {
    const netns = localPodNetns(pod.uid);
    if (netns) return runRaw(argv, { netns, timeoutMs });
    const kube = this.members(pod.cluster);
    if (!kube) throw new Error(`no kubeconfig context for cluster ${pod.cluster}`);
    return runRaw(
      [
        'kubectl',
        '--kubeconfig',
        this.kubeconfig(kube, pod.cluster),
        'exec',
        '-n',
        pod.namespace,
        pod.name,
      ].concat(['--', ...argv]),
      { timeoutMs },
    );
  }

  /** Removes the temporary kubeconfigs kubectl was given. */
  close(): void {
    if (this.kubeconfigDir) rmSync(this.kubeconfigDir, { recursive: true, force: true });
    this.kubeconfigDir = undefined;
  }

  private kubeconfig(kube: Kube, cluster: string): string {
    this.kubeconfigDir ??= mkdtempSync(join(tmpdir(), 'kubectl-slice-'));
    const file = join(this.kubeconfigDir, `${cluster}.kubeconfig`);
    writeFileSync(file, kube.kc.exportConfig(), { mode: 0o600 });
    return file;
  }
}
