/**
 * The Node object and its heartbeats, as a kubelet keeps them: register (or adopt a Node of
 * the same name left by an earlier run), renew the Lease kube-node-lease/<node> every 10 s,
 * and write status every 40 s or when it changes. Ready stays False (NetworkPluginNotReady)
 * until the network is ready, which main.ts says once kube-controller-manager has given
 * the node a podCIDR and the CNI config is written; watching the node's own object (the
 * only Node a kubelet may read) is how that podCIDR is learnt.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { CoordinationV1Api, CoreV1Api, KubeConfig, V1Node } from '@kubernetes/client-node';
import {
  isConflict,
  isNotFound,
  kubeMicroTime,
  kubeTime,
  mergePatch,
  strategicMergePatch,
} from '../../lib/kube/client.ts';
import { Informer } from '../../lib/kube/informer.ts';
import type { Logger } from '../../lib/log.ts';
import type { KubeletConfig } from './config.ts';

export const KUBELET_VERSION = 'v1.36.3-lab';
const LEASE_NS = 'kube-node-lease';
const LEASE_EVERY_MS = 10_000;
const STATUS_EVERY_MS = 40_000;

export class NodeAgent {
  private uid = '';
  private networkReady = false;
  private readonly informer: Informer<V1Node>;
  private readonly timers: NodeJS.Timeout[] = [];
  private resolveCidr: (cidr: string) => void = () => undefined;
  /** The node's podCIDR, once kube-controller-manager has allocated it. */
  readonly podCidr = new Promise<string>((r) => (this.resolveCidr = r));

  constructor(
    private readonly cfg: KubeletConfig,
    kubeConfig: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly coord: CoordinationV1Api,
    private readonly log: Logger,
  ) {
    this.informer = new Informer<V1Node>({
      kubeConfig,
      path: '/api/v1/nodes',
      fieldSelector: `metadata.name=${cfg.nodeName}`,
      list: (s) => core.listNode(s),
      name: 'own-node',
      log,
    });
    const seen = (n: V1Node): void => {
      if (n.spec?.podCIDR) this.resolveCidr(n.spec.podCIDR);
    };
    this.informer.on('add', seen);
    this.informer.on('update', seen);
  }

  /** Registers (retrying until it works or `signal` aborts), then keeps the heartbeats. */
  async start(signal: AbortSignal): Promise<void> {
    for (let delay = 500; !signal.aborted; delay = Math.min(delay * 2, 10_000)) {
      try {
        await this.register();
        break;
      } catch (err) {
        this.log.error('node registration failed, retrying', { err, retryInMs: delay });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    if (signal.aborted) return;
    void this.informer.start();
    this.every(LEASE_EVERY_MS, () => this.renewLease());
    this.every(STATUS_EVERY_MS, () => this.writeStatus());
  }

  setNetworkReady(): void {
    this.networkReady = true;
    void this.writeStatus().catch((err: unknown) => this.log.error('node status not written', { err }));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.informer.stop();
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const tick = (): void => void fn().catch((err: unknown) => this.log.error('heartbeat failed', { err }));
    this.timers.push(setInterval(tick, ms));
  }

  private async register(): Promise<void> {
    const name = this.cfg.nodeName;
    const labels = nodeLabels(name);
    let node: V1Node;
    try {
      node = await this.core.readNode({ name });
      const have = node.metadata?.labels ?? {};
      if (Object.entries(labels).some(([k, v]) => have[k] !== v)) {
        node = await this.core.patchNode({ name, body: { metadata: { labels } } }, mergePatch);
      }
      this.log.info('node adopted', { node: name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        node = await this.core.createNode({
          body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } },
        });
        this.log.info('node registered', { node: name });
      } catch (e) {
        if (!isConflict(e)) throw e;
        node = await this.core.readNode({ name });
      }
    }
    this.uid = node.metadata?.uid ?? '';
    if (node.spec?.podCIDR) this.resolveCidr(node.spec.podCIDR);
    await this.writeStatus(node);
    await this.renewLease();
  }

  private async renewLease(): Promise<void> {
    const name = this.cfg.nodeName;
    const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: kubeMicroTime() };
    try {
      await this.coord.patchNamespacedLease({ name, namespace: LEASE_NS, body: { spec } }, mergePatch);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name, uid: this.uid }];
      await this.coord.createNamespacedLease({
        namespace: LEASE_NS,
        // renewTime must reach the API server with six fractional digits; a Date has three.
        body: {
          metadata: { name, namespace: LEASE_NS, ownerReferences },
          spec: spec as unknown as { renewTime: Date },
        },
      });
    }
  }

  private async writeStatus(current?: V1Node): Promise<void> {
    const node = current ?? this.informer.get(this.cfg.nodeName);
    const status = nodeStatus(this.cfg, this.networkReady, node, new Date());
    await this.core.patchNodeStatus({ name: this.cfg.nodeName, body: { status } }, strategicMergePatch);
  }
}

export function nodeLabels(name: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
  };
}

/** The status the kubelet owns; conditions keep their transition time while unchanged. */
export function nodeStatus(cfg: KubeletConfig, networkReady: boolean, node: V1Node | undefined, now: Date) {
  const at = kubeTime(now);
  const ready: [string, string, string] = networkReady
    ? ['True', 'KubeletReady', 'kubelet is posting ready status']
    : ['False', 'NetworkPluginNotReady', 'network not ready: the node has no podCIDR yet'];
  const wanted: [string, string, string, string][] = [
    ['Ready', ...ready],
    ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
  ];
  const conditions = wanted.map(([type, status, reason, message]) => {
    const prev = node?.status?.conditions?.find((c) => c.type === type);
    const since = prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : at;
    const lastTransitionTime = since instanceof Date ? kubeTime(since) : String(since);
    return { type, status, reason, message, lastHeartbeatTime: at, lastTransitionTime };
  });
  const resources = { cpu: '2', memory: '8Gi', pods: '110' };
  const id = createHash('sha256').update(`${cfg.labName}/${cfg.nodeName}`).digest('hex');
  return {
    addresses: [
      { type: 'InternalIP', address: cfg.nodeIp },
      { type: 'Hostname', address: cfg.nodeName },
    ],
    capacity: resources,
    allocatable: resources,
    conditions,
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: id.slice(0, 32),
      systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
      bootID: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      kernelVersion: release(),
      osImage: 'Slicenet lab node',
      containerRuntimeVersion: 'slicenet-lab://0.1',
      kubeletVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: nodeLabels(cfg.nodeName)['kubernetes.io/arch']!,
    },
  };
}
