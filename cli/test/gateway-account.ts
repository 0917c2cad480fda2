/**
 * The slice gateways' account, shared by its unit and lab tests: the Deployment the worker
 * renders, the objects of deploy/worker that give the account its rights, and the rights the
 * gateway's code uses (slice-gateway/control: the Slice informer, StatusWriter's apply to
 * slices/status, loadGatewayKey, the LeaderElector, EventRecorder) and some it must not have.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import type { Slice } from '../../controller/api/types.ts';
import { DEFAULT_GATEWAY_POD, gatewayDeployment } from '../../controller/worker/gateways.ts';
import { manifests } from '../../deploy/manifests.ts';
import type { Obj } from '../../deploy/render.ts';

export const NS = 'slicenet-system';

export const slice = {
  apiVersion: 'slicenet.dev/v1alpha1',
  kind: 'Slice',
  metadata: { name: 'gw', uid: '3f2a8a5e-0000-4000-8000-000000000001' },
  spec: { gateway: { port: 31000, replicas: 2 } },
} as unknown as Slice;

/** The Deployment a worker without --gateway-kubeconfig renders (a real cluster's). */
export const deployment = (): V1Deployment => gatewayDeployment(slice, DEFAULT_GATEWAY_POD);

/** The worker install's ServiceAccount slicenet-gateway and the RBAC objects that name it. */
export function accountObjects(): Obj[] {
  return manifests('worker', { cluster: 'east' }).filter(
    (o) =>
      (o.kind === 'ServiceAccount' && o.metadata.name === 'slicenet-gateway') ||
      (/^(Cluster)?Role(Binding)?$/.test(o.kind) && o.metadata.name.startsWith('slicenet-gateway')),
  );
}

/** `kubectl auth can-i` rows for the account: [verb, resource, namespace, allowed]. */
export const RIGHTS: [string, string, string | undefined, boolean][] = [
  ['list', 'slices.slicenet.dev', undefined, true],
  ['watch', 'slices.slicenet.dev', undefined, true],
  ['patch', 'slices.slicenet.dev/status', undefined, true],
  ['get', 'secrets', NS, true],
  ['get', 'leases.coordination.k8s.io', NS, true],
  ['create', 'leases.coordination.k8s.io', NS, true],
  ['update', 'leases.coordination.k8s.io', NS, true],
  ['create', 'events', 'default', true],
  ['get', 'slices.slicenet.dev', undefined, false],
  ['patch', 'slices.slicenet.dev', undefined, false],
  ['delete', 'slices.slicenet.dev', undefined, false],
  ['list', 'secrets', NS, false],
  ['get', 'secrets', 'default', false],
  ['delete', 'leases.coordination.k8s.io', NS, false],
  ['create', 'leases.coordination.k8s.io', 'default', false],
  ['patch', 'events', 'default', false],
  ['create', 'events', NS, false],
  ['create', 'deployments.apps', NS, false],
  ['list', 'pods', NS, false],
];
