/**
 * Routes between nodes' pod subnets, as flannel's host-gw backend keeps them: for every other
 * Node with a podCIDR and an InternalIP, `<podCIDR> via <InternalIP>` in the node's
 * namespace (all nodes of a cluster share one LAN, so the next hop is always direct).
 *
 * The routes this keeper owns carry their own protocol number, so the kernel's table is the
 * record: after a restart the keeper finds its routes there and removes those of nodes that
 * are gone, with nothing kept on disk. Any Node change triggers one full pass — list what
 * is installed, replace what is wanted, delete the rest — serialized, so passes never race.
 *
 * A kubelet may only read its own Node, so the Node watch uses the network plugin's
 * identity (the Multus kubeconfig), as flannel's DaemonSet uses its own.
 */
import type { CoreV1Api, KubeConfig, V1Node } from '@kubernetes/client-node';
import { run } from '../../lib/exec.ts';
import { Informer } from '../../lib/kube/informer.ts';
import type { Logger } from '../../lib/log.ts';

/** The rtnetlink protocol number marking routes the lab kubelet made (private range). */
export const ROUTE_PROTO = '211';

/** podCIDR → next hop for every other node that has both. */
export function wantedRoutes(nodes: readonly V1Node[], self: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of nodes) {
    if (n.metadata?.name === self) continue;
    const cidr = n.spec?.podCIDR;
    const via = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    if (cidr && via) out.set(cidr, via);
  }
  return out;
}

export class RouteKeeper {
  private readonly informer: Informer<V1Node>;
  private pass: Promise<void> = Promise.resolve();
  private pending = false;

  constructor(
    private readonly nodeName: string,
    kubeConfig: KubeConfig,
    core: CoreV1Api,
    private readonly log: Logger,
  ) {
    this.informer = new Informer<V1Node>({
      kubeConfig,
      path: '/api/v1/nodes',
      list: (s) => core.listNode(s),
      name: 'nodes',
      log,
    });
    for (const ev of ['add', 'update', 'delete'] as const) this.informer.on(ev, () => this.schedule());
  }

  async start(): Promise<void> {
    await this.informer.start();
    this.schedule();
  }

  async stop(): Promise<void> {
    await this.informer.stop();
    await this.pass;
  }

  /** Coalesces bursts of events into one pass after the running one. */
  private schedule(): void {
    if (!this.informer.synced || this.pending) return;
    this.pending = true;
    this.pass = this.pass.then(async () => {
      this.pending = false;
      try {
        await this.reconcile();
      } catch (err) {
        this.log.error('routes not reconciled, retrying', { err });
        setTimeout(() => this.schedule(), 2000).unref();
      }
    });
  }

  private async reconcile(): Promise<void> {
    const wanted = wantedRoutes(this.informer.list(), this.nodeName);
    const installed = JSON.parse(
      (await run(['ip', '-j', 'route', 'show', 'proto', ROUTE_PROTO])) || '[]',
    ) as { dst: string; gateway?: string }[];
    for (const r of installed) {
      if (!wanted.has(r.dst)) {
        await run(['ip', 'route', 'del', r.dst, 'proto', ROUTE_PROTO]);
        this.log.info('route removed', { dst: r.dst, via: r.gateway });
      }
    }
    for (const [dst, via] of wanted) {
      if (installed.some((r) => r.dst === dst && r.gateway === via)) continue;
      await run(['ip', 'route', 'replace', dst, 'via', via, 'proto', ROUTE_PROTO]);
      this.log.info('route set', { dst, via });
    }
  }
}
