/**
 * A pod's sandbox is its network namespace plus what CNI put in it. Set-up and tear-down
 * follow a container runtime: the node's CNI config is read from disk at each call (so a
 * rewritten config applies to the next pod), ADD runs in a fresh namespace, and DEL runs
 * whenever a sandbox may have been set up — also when its namespace is already gone, so
 * the IPAM lease and the Multus cache are released all the same. hostNetwork pods get no
 * sandbox: their namespace name is attached to the node's own namespace.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SlicenetError } from '../../lib/errors.ts';
import type { KubeletConfig } from './config.ts';
import {
  cniAdd,
  cniDel,
  podCniArgs,
  podIpsFromResult,
  toConfList,
  type CniResult,
  type RuntimeConf,
} from './cni.ts';
import { netconfPaths } from './netconf.ts';
import { attachNodeNetns, createPodNetns, deletePodNetns, netnsExists, netnsPath } from './netns.ts';
import type { PodState } from './state.ts';

export interface SandboxResult {
  cniResult: CniResult;
  podIps: string[];
}

export class Sandboxes {
  constructor(private readonly cfg: KubeletConfig) {}

  /** True once the node's CNI config is in place (the node has its podCIDR). */
  networkReady(): boolean {
    return existsSync(netconfPaths(this.cfg.stateDir).multus);
  }

  async setUp(state: PodState): Promise<SandboxResult> {
    if (state.hostNetwork) {
      await attachNodeNetns(state.netns);
      return { cniResult: {}, podIps: [this.cfg.nodeIp] };
    }
    const list = this.netconf();
    // A namespace already there is a try that a crash or a failure cut short: undo it first,
    // so its address is released rather than leaked.
    if (netnsExists(state.netns)) await this.tearDown(state);
    await createPodNetns(state.netns);
    const cniResult = await cniAdd(list, this.runtimeConf(state), this.cfg.cniBinDir);
    const podIps = podIpsFromResult(cniResult);
    if (podIps.length === 0) {
      throw new SlicenetError(
        'CNI_NO_ADDRESS',
        `CNI ADD result has no address on eth0: ${JSON.stringify(cniResult)}`,
      );
    }
    return { cniResult, podIps };
  }

  /** Undoes setUp, or any part of it that happened; throws if CNI DEL fails (retry it). */
  async tearDown(state: PodState): Promise<void> {
    if (!state.hostNetwork && this.networkReady()) {
      await cniDel(this.netconf(), this.runtimeConf(state), this.cfg.cniBinDir, state.cniResult);
    }
    await deletePodNetns(state.netns);
  }

  private netconf() {
    const path = netconfPaths(this.cfg.stateDir).multus;
    return toConfList(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>);
  }

  private runtimeConf(state: PodState): RuntimeConf {
    return {
      containerId: state.sandboxId,
      netns: netnsPath(state.netns),
      ifName: 'eth0',
      args: podCniArgs(state, state.sandboxId),
    };
  }
}
