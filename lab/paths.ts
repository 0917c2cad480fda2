/**
 * Where the lab keeps things. State lives under /run (tmpfs: fast for etcd, and gone after a
 * reboot, like the network namespaces it describes); upstream binaries in a cache outside
 * the repository, filled by lab/setup.sh.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const cacheDir = (): string => process.env.SLICENET_CACHE ?? join(homedir(), '.cache', 'slicenet');
export const binPath = (program: string): string => join(cacheDir(), 'bin', program);
export const cniBinDir = (): string => join(cacheDir(), 'cni');
export const labsRoot = (): string => process.env.SLICENET_LAB_DIR ?? '/run/slicenet-lab';

export class LabPaths {
  constructor(readonly lab: string) {}
  get dir(): string {
    return join(labsRoot(), this.lab);
  }
  get planFile(): string {
    return join(this.dir, 'plan.json');
  }
  /** The test run (SLICENET_TEST_RUN, set by with-lab.ts) whose process made the lab, if any. */
  get testRunFile(): string {
    return join(this.dir, 'test-run');
  }
  /** The merged kubeconfig, one context per cluster, for use from the root namespace. */
  get kubeconfig(): string {
    return join(this.dir, 'kubeconfig');
  }
  cluster(cluster: string): string {
    return join(this.dir, cluster);
  }
  adminKubeconfig(cluster: string): string {
    return join(this.dir, cluster, 'admin.kubeconfig');
  }
  node(cluster: string, node: string): string {
    return join(this.dir, cluster, 'nodes', node);
  }
  /** The slicenet-agent's CNI socket on a node (per node: the lab's nodes share one filesystem). */
  agentSocket(cluster: string, node: string): string {
    return join(this.node(cluster, node), 'agent.sock');
  }
}
