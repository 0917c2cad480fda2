/**
 * Writes this replica's entry of Slice.status.gateways by server-side apply, under a field
 * manager of its own (`slicenet-gateway/<pod>`): the list is keyed by name, so each replica
 * owns its entry and neither replica nor the worker overwrites another's. Writes are
 * serialized and coalesced (only the newest pending entry is sent); a failed write is logged
 * and the next one carries the state again, so nothing here ever throws into the loop.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, type GatewayStatus, type Slice } from '../../controller/api/types.ts';
import { Applier } from '../../lib/kube/apply.ts';
import type { Logger } from '../../lib/log.ts';

export class StatusWriter {
  private readonly applier: Applier;
  private pending: GatewayStatus | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;

  constructor(
    kc: KubeConfig,
    pod: string,
    private readonly slice: string,
    private readonly log: Logger,
  ) {
    this.applier = new Applier(kc, `slicenet-gateway/${pod}`);
  }

  /** Queues `entry`; resolves once it (or a newer one) has been tried. */
  write(entry: GatewayStatus): Promise<void> {
    this.pending = entry;
    this.running ??= this.drain().finally(() => (this.running = undefined));
    return this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const entry = this.pending;
      this.pending = undefined;
      try {
        await this.applier.applyStatus<Slice>({
          apiVersion: API_VERSION,
          kind: 'Slice',
          metadata: { name: this.slice },
          status: { gateways: [entry] },
        } as Slice);
        if (this.failures > 0) this.log.info('status written again', { failures: this.failures });
        this.failures = 0;
      } catch (err) {
        if (this.failures++ === 0) this.log.error('status write failed', { err });
      }
    }
  }
}
