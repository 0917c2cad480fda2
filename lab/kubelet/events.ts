/**
 * Pod events, as the kubelet records them (source kubelet/<node>). Recording is best effort:
 * an event that cannot be written is logged and dropped, never a reason to fail a sync.
 */
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../lib/log.ts';

export class EventRecorder {
  constructor(
    private readonly core: CoreV1Api,
    private readonly nodeName: string,
    private readonly log: Logger,
  ) {}

  async warning(pod: V1Pod, reason: string, message: string): Promise<void> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
          involvedObject: { apiVersion: 'v1', kind: 'Pod', name, namespace, uid: pod.metadata?.uid },
          type: 'Warning',
          reason,
          message,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: 'kubelet', host: this.nodeName },
          reportingComponent: 'kubelet',
          reportingInstance: this.nodeName,
        },
      });
    } catch (err) {
      this.log.error('event not recorded', { pod: `${namespace}/${name}`, reason, err });
    }
  }
}
