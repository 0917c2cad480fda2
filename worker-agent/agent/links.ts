/**
 * Keeps each slice's bridge and VXLAN on this node as the agent's view says they should be:
 * present while the node has a pod of the slice (or runs its gateway), with one flood entry
 * per other node that carries the slice (holds one of its SliceIPBlocks, or runs its
 * gateway); absent otherwise. Level-triggered: `reconcile(slice)` recomputes from the caches
 * and the attachment records; `removeStrays` clears links whose slice is gone.
 *
 * Changes for one slice are serialized with attach (`lock`), so a bridge is never removed
 * between an attachment being recorded and its veth being plugged in.
 *
 * Checking the links is a dump of the node's links and of the bridge FDB (netlink, no process
 * since 2026-11-24; four to six `ip` and `bridge` processes before), and every ADD of a slice
 * waits its turn for it. So ADD skips the check when the links are the ones this process last
 * made (`ensured`); the work-queue reconcile always checks the kernel and refreshes that
 * memory, and removing the links clears it.
 */
import type { V1Node } from '@kubernetes/client-node';
import type { Slice, SliceIPBlock } from '../../controller/api/types.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import type { Logger } from '../../lib/log.ts';
import { KeyedSerializer } from '../../lib/serial.ts';
import {
  ensureSliceLinks,
  listSliceVnis,
  podPorts,
  removeSliceLinks,
  type SliceLinks,
} from '../dataplane/bridge.ts';
import type { AttachmentStore } from './attachments.ts';

export interface LinkSources {
  node: string;
  /** This node's underlay address. */
  localIp: string;
  slices: Informer<Slice>;
  blocks: Informer<SliceIPBlock>;
  nodes: Informer<V1Node>;
  attachments: AttachmentStore;
  log: Logger;
}

export class SliceLinksReconciler {
  readonly lock = new KeyedSerializer();
  /** VNI → the desired links (as JSON) that ensureSliceLinks last made here. */
  private readonly ensured = new Map<number, string>();

  constructor(private readonly s: LinkSources) {}

  /** Converges one slice's links; the work-queue reconcile. */
  reconcile = (slice: string): Promise<void> =>
    this.lock.run(slice, async () => {
      const obj = this.s.slices.get(slice);
      if (!obj) return; // its links are strays now, removed by removeStrays
      if (this.needed(obj)) await this.ensure(this.desired(obj));
      else if ((await listSliceVnis()).includes(obj.spec.vni)) await this.removeIfUnused(obj.spec.vni);
    });

  /** Links made before a pod of `slice` is attached; call under `lock`. */
  async ensureFor(slice: Slice): Promise<void> {
    const want = this.desired(slice);
    if (this.ensured.get(want.vni) !== JSON.stringify(want)) await this.ensure(want);
  }

  /** Removes links of VNIs no known slice needs (a slice deleted while the agent was down). */
  async removeStrays(): Promise<void> {
    const needed = new Set(
      this.s.slices
        .list()
        .filter((sl) => this.needed(sl))
        .map((sl) => sl.spec.vni),
    );
    for (const vni of await listSliceVnis()) if (!needed.has(vni)) await this.removeIfUnused(vni);
  }

  private async ensure(want: SliceLinks): Promise<void> {
    this.ensured.delete(want.vni);
    await ensureSliceLinks(want);
    this.ensured.set(want.vni, JSON.stringify(want));
  }

  private needed(slice: Slice): boolean {
    const name = slice.metadata.name;
    return (
      this.s.attachments.list().some((a) => a.slice === name) ||
      (slice.status?.gateways ?? []).some((g) => g.node === this.s.node)
    );
  }

  private desired(slice: Slice): SliceLinks {
    const name = slice.metadata.name;
    const carriers = new Set<string>();
    for (const b of this.s.blocks.list()) if (b.spec.slice === name) carriers.add(b.spec.node);
    for (const g of slice.status?.gateways ?? []) if (g.node) carriers.add(g.node);
    carriers.delete(this.s.node);
    const remotes = [...carriers]
      .map((n) => internalIp(this.s.nodes.get(n)))
      .filter((ip): ip is string => !!ip)
      .sort();
    return { vni: slice.spec.vni, mtu: slice.spec.mtu, localIp: this.s.localIp, remotes };
  }

  private async removeIfUnused(vni: number): Promise<void> {
    // A pod port still on the bridge belongs to an attachment a DEL has not reached yet.
    if ((await podPorts(vni)).length > 0) return;
    this.ensured.delete(vni);
    await removeSliceLinks(vni);
    this.s.log.info('slice links removed', { vni });
  }
}

export function internalIp(node: V1Node | undefined): string | undefined {
  return node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}
