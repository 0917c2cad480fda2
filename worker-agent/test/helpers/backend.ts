/**
 * An in-memory AgentBackend for the plugin's protocol tests: the agent's real backend (IPAM,
 * bridges, veths) is tested on its own against real namespaces. This one keeps attachments
 * in a map so that ADD/CHECK/DEL/GC sequences are observable, and can be told to fail.
 */
import type { AgentBackend, AttachRequest, AttachResult, GcRequest } from '../../api.ts';
import { AgentError } from '../../errors.ts';

const key = (network: string, containerId: string, ifname: string): string =>
  `${network}/${containerId}/${ifname}`;

export class MemoryBackend implements AgentBackend {
  readonly attachments = new Map<string, AttachResult>();
  readonly calls: string[] = [];
  slices = new Set(['payments']);
  joined = new Set(['shop']);
  ready = true;
  /** Thrown by the next call, then cleared. */
  failNext: AgentError | undefined;
  private next = 5;

  private fail(method: string): void {
    this.calls.push(method);
    const e = this.failNext;
    this.failNext = undefined;
    if (e) throw e;
  }

  add(req: AttachRequest, _signal?: AbortSignal): Promise<AttachResult> {
    this.fail('add');
    if (!this.slices.has(req.slice))
      throw new AgentError('UNKNOWN_SLICE', `slice ${req.slice} is not on this node`);
    if (!this.joined.has(req.podNamespace)) {
      throw new AgentError('NOT_JOINED', `namespace ${req.podNamespace} has not joined slice ${req.slice}`);
    }
    const n = this.next++;
    const res: AttachResult = {
      ifname: req.ifname,
      mac: `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`,
      address: `10.90.64.${n}/16`,
      routes: [{ dst: '10.90.0.0/16', gw: '' }],
      mtu: 1400,
      hostIfname: `vs${n}`,
      hostMac: `02:00:00:00:01:${n.toString(16).padStart(2, '0')}`,
    };
    this.attachments.set(key(req.networkName, req.containerId, req.ifname), res);
    return Promise.resolve(res);
  }

  del(req: AttachRequest): Promise<void> {
    this.fail('del');
    this.attachments.delete(key(req.networkName, req.containerId, req.ifname));
    return Promise.resolve();
  }

  check(req: AttachRequest): Promise<void> {
    this.fail('check');
    if (!this.attachments.has(key(req.networkName, req.containerId, req.ifname))) {
      throw new AgentError('NOT_FOUND', `no attachment ${req.containerId}/${req.ifname}`);
    }
    return Promise.resolve();
  }

  status(): Promise<void> {
    this.fail('status');
    if (!this.ready) throw new AgentError('NOT_READY', 'slices not loaded yet');
    return Promise.resolve();
  }

  gc(req: GcRequest): Promise<void> {
    this.fail('gc');
    const keep = new Set(req.valid.map((a) => key(req.networkName, a.containerId, a.ifname)));
    for (const k of this.attachments.keys())
      if (k.startsWith(`${req.networkName}/`) && !keep.has(k)) this.attachments.delete(k);
    return Promise.resolve();
  }
}
