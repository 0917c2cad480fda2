/**
 * What the agent does for each CNI command (the AgentBackend of api.ts). ADD, in order, each
 * step undone if a later one fails:
 *
 *   join check ─► address (ipam) ─► record ─► slice links ─► anti-spoof entry ─► veth + slice0
 *
 * DEL undoes the same steps from whatever is left, so it also finishes an ADD that a crash
 * cut short, and it works without the pod's netns. Every decision reads the informer caches:
 * the agent answers from its last view of the cluster while the API server is away, except
 * for leasing a new block, which needs it.
 */
import { existsSync } from 'node:fs';
import type { V1Namespace } from '@kubernetes/client-node';
import { SLICE_LABEL } from '../../controller/api/names.ts';
import type { Slice } from '../../controller/api/types.ts';
import { allowed } from '../../controller/worker/nads.ts';
import type { EventRecorder } from '../../lib/kube/events.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import type { Logger } from '../../lib/log.ts';
import type { AgentBackend, AttachRequest, AttachResult, GcRequest } from '../api.ts';
import { allowPort, forgetPort } from '../dataplane/antispoof.ts';
import { hostVethName, macForAddress } from '../dataplane/names.ts';
import { attachPodNic, checkPodNic, detachPodNic } from '../dataplane/veth.ts';
import { AgentError } from '../errors.ts';
import type { NodeIpam } from '../ipam/ipam.ts';
import type { Attachment, AttachmentStore } from './attachments.ts';
import type { SliceLinksReconciler } from './links.ts';

export interface BackendDeps {
  slices: Informer<Slice>;
  /** Namespaces carrying the join label. */
  namespaces: Informer<V1Namespace>;
  ipam: NodeIpam;
  attachments: AttachmentStore;
  links: SliceLinksReconciler;
  events: EventRecorder;
  /** Why the agent cannot serve yet; undefined when it can. */
  notReady: () => string | undefined;
  /** A slice's links should be looked at again (a pod came or went). */
  changed: (slice: string) => void;
  log: Logger;
}

/** Milliseconds per step of one call, for the debug log (SLICENET_DEBUG=1): where ADD's time goes. */
class StepTimer {
  readonly ms: Record<string, number> = {};
  private last = performance.now();
  mark(step: string): void {
    const now = performance.now();
    this.ms[step] = Math.round((now - this.last) * 10) / 10;
    this.last = now;
  }
}

export class Backend implements AgentBackend {
  constructor(private readonly d: BackendDeps) {}

  async add(req: AttachRequest): Promise<AttachResult> {
    const steps = new StepTimer();
    this.ready();
    const slice = this.sliceFor(req);
    const prefix = Number(slice.spec.subnet.split('/')[1]);
    const hostIfname = hostVethName(req.containerId, req.ifname);
    // A retried ADD (the runtime lost our answer) starts again from nothing, keeping the address.
    const old = this.d.attachments.get(hostIfname);
    if (old) await this.unplug(old);
    const owner = { containerId: req.containerId, ifname: req.ifname };
    const ip = await this.d.ipam.allocate(
      { slice: slice.metadata.name, subnet: slice.spec.subnet, share: slice.spec.block },
      owner,
    );
    steps.mark('address');
    const a: Attachment = {
      ...owner,
      networkName: req.networkName,
      slice: slice.metadata.name,
      vni: slice.spec.vni,
      netns: req.netns,
      podNamespace: req.podNamespace,
      podName: req.podName,
      hostIfname,
      ip,
      prefix,
      mac: macForAddress(ip),
      mtu: slice.spec.mtu,
    };
    try {
      await this.d.links.lock.run(a.slice, async () => {
        steps.mark('lockWait');
        this.d.attachments.save(a);
        steps.mark('record');
        await this.d.links.ensureFor(slice);
        steps.mark('links');
      });
      await allowPort(a);
      steps.mark('antispoof');
      const { hostMac } = await attachPodNic({ ...a, netnsPath: a.netns, address: `${ip}/${prefix}` });
      steps.mark('nic');
      // No reconcile of the slice's links here: ensureFor made them as desired under the
      // slice's lock, and a reconcile per ADD re-read them from the kernel (four processes,
      // holding that lock) once per pod of a burst for nothing.
      this.d.log.info('attached', { pod: `${a.podNamespace}/${a.podName}`, slice: a.slice, ip, hostIfname });
      this.d.log.debug('add steps', { hostIfname, ms: steps.ms });
      return {
        ifname: a.ifname,
        mac: a.mac,
        address: `${ip}/${prefix}`,
        routes: [{ dst: slice.spec.subnet, gw: '' }],
        mtu: a.mtu,
        hostIfname,
        hostMac,
      };
    } catch (err) {
      await this.remove(a).catch((undo: unknown) =>
        this.d.log.error('undo of a failed ADD failed', { err: undo }),
      );
      throw err;
    }
  }

  async del(req: AttachRequest): Promise<void> {
    const hostIfname = hostVethName(req.containerId, req.ifname);
    const a = this.d.attachments.get(hostIfname);
    if (a) return this.remove(a);
    // No record: an ADD cut short before it wrote one may still hold an address.
    await detachPodNic(hostIfname);
    if (req.slice) await this.d.ipam.release(req.slice, { containerId: req.containerId, ifname: req.ifname });
  }

  async check(req: AttachRequest): Promise<void> {
    const a = this.d.attachments.get(hostVethName(req.containerId, req.ifname));
    if (!a) throw new AgentError('NOT_FOUND', `no attachment ${req.containerId}/${req.ifname} on this node`);
    const problems = await checkPodNic({
      ...a,
      netnsPath: req.netns || a.netns,
      address: `${a.ip}/${a.prefix}`,
    });
    if (problems.length) throw new AgentError('CHECK_FAILED', problems.join('; '));
  }

  status(): Promise<void> {
    this.ready();
    return Promise.resolve();
  }

  async gc(req: GcRequest): Promise<void> {
    const valid = new Set(req.valid.map((v) => `${v.containerId}/${v.ifname}`));
    for (const a of this.d.attachments.list()) {
      if (a.networkName !== req.networkName || valid.has(`${a.containerId}/${a.ifname}`)) continue;
      this.d.log.info('gc: freeing an attachment the runtime no longer holds', { hostIfname: a.hostIfname });
      await this.remove(a);
    }
  }

  /** Removes an attachment completely; each step tolerates what is already gone. */
  async remove(a: Attachment): Promise<void> {
    await this.unplug(a);
    await this.d.ipam.release(a.slice, { containerId: a.containerId, ifname: a.ifname });
    this.d.attachments.delete(a.hostIfname);
    this.d.changed(a.slice);
    this.d.log.info('detached', { pod: `${a.podNamespace}/${a.podName}`, slice: a.slice, ip: a.ip });
  }

  /** Whether the attachment's pod is gone for good: its netns and veth have both vanished. */
  static isStale(a: Attachment, hostVethExists: boolean): boolean {
    return !hostVethExists && !(a.netns && existsSync(a.netns));
  }

  private async unplug(a: Attachment): Promise<void> {
    await detachPodNic(a.hostIfname);
    await forgetPort(a);
  }

  private ready(): void {
    const why = this.d.notReady();
    if (why) throw new AgentError('NOT_READY', `the agent is not ready: ${why}`);
  }

  private sliceFor(req: AttachRequest): Slice {
    const slice = this.d.slices.get(req.slice);
    if (!slice)
      throw new AgentError(
        'UNKNOWN_SLICE',
        `slice "${req.slice}" does not exist in this cluster: check that its SliceConfig lists this cluster and the worker runs`,
      );
    const ns = this.d.namespaces.get(req.podNamespace);
    const label = ns?.metadata?.labels?.[SLICE_LABEL];
    if (label !== req.slice || !allowed(slice.spec.namespaces, req.podNamespace, slice.spec.cluster)) {
      const why =
        label !== req.slice
          ? `namespace ${req.podNamespace} has not joined slice ${req.slice} (label it ${SLICE_LABEL}=${req.slice})`
          : `slice ${req.slice} does not allow namespace ${req.podNamespace} in cluster ${slice.spec.cluster} (see its spec.namespaces)`;
      this.d.events.emit(
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: req.podName, namespace: req.podNamespace, uid: req.podUid || undefined },
        },
        'Warning',
        'SliceAttachRefused',
        `slice0 not attached: ${why}`,
      );
      throw new AgentError('NOT_JOINED', why);
    }
    return slice;
  }
}
