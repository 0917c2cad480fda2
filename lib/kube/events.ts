/**
 * Kubernetes events (core/v1) on state changes, for `kubectl describe`. Best effort: an event
 * that cannot be written is logged at debug and dropped, because an event must never make a
 * reconcile fail or retry.
 */
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import { kubeMicroTime } from './client.ts';

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  private readonly api: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly component: string,
    private readonly log: Logger,
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Records an event on `obj` (its namespace; "default" for cluster-scoped objects). */
  emit(obj: KubernetesObject, type: EventType, reason: string, message: string): void {
    const m = obj.metadata ?? {};
    const namespace = m.namespace ?? 'default';
    const now = new Date();
    const body = {
      metadata: { name: `${m.name ?? 'object'}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
      },
      type,
      reason,
      message,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      eventTime: kubeMicroTime(now) as unknown as Date,
      action: reason,
      reportingComponent: this.component,
      reportingInstance: this.component,
      source: { component: this.component },
    };
    this.api.createNamespacedEvent({ namespace, body }).catch((err: unknown) => {
      this.log.debug('event not recorded', { err, reason });
    });
  }
}
