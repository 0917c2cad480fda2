/**
 * The gateway Deployment of each slice in this cluster (SPEC §6): `slice.spec.gateway.replicas`
 * replicas of slicenet-gateway on the host network of nodes labelled slicenet.dev/gateway=true,
 * never two on one node (anti-affinity, and the UDP host port). One of them is active by a
 * Lease; the rollout replaces one pod at a time and never surges, since a surge pod could not
 * be placed next to the old ones.
 *
 * Owned by the Slice, so the garbage collector removes it with the Slice; the worker also
 * deletes it when the slice goes, for clusters without a running garbage collector.
 */
import {
  AppsV1Api,
  type KubeConfig,
  type V1Deployment,
  type V1EnvVar,
  type V1Probe,
} from '@kubernetes/client-node';
import type { Applier } from '../../lib/kube/apply.ts';
import { isNotFound } from '../../lib/kube/client.ts';
import { canonical } from '../hub/rollup.ts';
import {
  GATEWAY_APP,
  GATEWAY_NODE_LABEL,
  gatewayDeploymentName,
  SLICE_LABEL,
  SYSTEM_NAMESPACE,
} from '../api/names.ts';
import { API_VERSION, type Slice } from '../api/types.ts';
import { WORKER_MANAGED } from './nads.ts';

/** How gateway pods are run: the image and command, and extra settings a lab needs. */
export interface GatewayPodOptions {
  image: string;
  command: string[];
  /**
   * A kubeconfig path for the gateway (labs without service-account tokens); empty: in-cluster,
   * as the ServiceAccount GATEWAY_SERVICE_ACCOUNT.
   */
  kubeconfig?: string;
}

/**
 * The gateways' own ServiceAccount, bound in deploy/worker/gateway-rbac.yaml to exactly the
 * calls slice-gateway/ makes. A gateway handed a kubeconfig authenticates with that file
 * instead and names no account (a lab's namespace has only `default`, and a pod naming an
 * account that does not exist is refused at admission).
 */
export const GATEWAY_SERVICE_ACCOUNT = 'slicenet-gateway';

export const DEFAULT_GATEWAY_POD: GatewayPodOptions = {
  image: 'ghcr.io/slicenet/slicenet:0.1.0',
  command: ['slicenet-gateway'],
};

const APP_LABEL = 'app.kubernetes.io/name';

export function gatewayDeployment(slice: Slice, pod: GatewayPodOptions): V1Deployment {
  const name = slice.metadata.name;
  const { port, replicas } = slice.spec.gateway;
  const selector = { [APP_LABEL]: GATEWAY_APP, [SLICE_LABEL]: name };
  const field = (fieldPath: string): V1EnvVar['valueFrom'] => ({ fieldRef: { fieldPath } });
  const env: V1EnvVar[] = [
    { name: 'SLICENET_GATEWAY_SLICE', value: name },
    { name: 'SLICENET_GATEWAY_POD', valueFrom: field('metadata.name') },
    { name: 'SLICENET_GATEWAY_NAMESPACE', valueFrom: field('metadata.namespace') },
    { name: 'SLICENET_GATEWAY_NODE', valueFrom: field('spec.nodeName') },
    { name: 'SLICENET_GATEWAY_NODE_IP', valueFrom: field('status.hostIP') },
    // Probes on the tunnel's port number over TCP: unique per slice on a node, like the tunnel.
    { name: 'SLICENET_GATEWAY_PROBE_PORT', value: String(port) },
    ...(pod.kubeconfig ? [{ name: 'SLICENET_GATEWAY_KUBECONFIG', value: pod.kubeconfig }] : []),
  ];
  const probe = (path: string): V1Probe => ({ httpGet: { path, port }, periodSeconds: 5 });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: gatewayDeploymentName(name),
      namespace: SYSTEM_NAMESPACE,
      labels: { ...WORKER_MANAGED, ...selector },
      ownerReferences: [
        { apiVersion: API_VERSION, kind: 'Slice', name, uid: slice.metadata.uid ?? '', controller: true },
      ],
    },
    spec: {
      replicas,
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
      template: {
        metadata: { labels: selector },
        spec: {
          hostNetwork: true,
          dnsPolicy: 'ClusterFirstWithHostNet',
          nodeSelector: { [GATEWAY_NODE_LABEL]: 'true' },
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels: selector }, topologyKey: 'kubernetes.io/hostname' },
              ],
            },
          },
          ...(pod.kubeconfig ? {} : { serviceAccountName: GATEWAY_SERVICE_ACCOUNT }),
          terminationGracePeriodSeconds: 10,
          containers: [
            {
              name: 'gateway',
              image: pod.image,
              command: pod.command,
              env,
              ports: [
                { name: 'tunnel', containerPort: port, protocol: 'UDP' },
                { name: 'probes', containerPort: port, protocol: 'TCP' },
              ],
              readinessProbe: probe('/readyz'),
              livenessProbe: probe('/healthz'),
              securityContext: { capabilities: { add: ['NET_ADMIN'] } },
            },
          ],
        },
      },
    },
  };
}

export class GatewayDeployments {
  private readonly api: AppsV1Api;
  /** What was last applied per slice: an unchanged Deployment is not sent again. */
  private readonly applied = new Map<string, string>();

  constructor(
    kc: KubeConfig,
    private readonly applier: Applier,
    private readonly pod: GatewayPodOptions,
  ) {
    this.api = kc.makeApiClient(AppsV1Api);
  }

  /** Applies the slice's Deployment; the Slice must be as stored (its uid owns the Deployment). */
  async ensure(slice: Slice): Promise<boolean> {
    if (!slice.metadata.uid) return false;
    const d = gatewayDeployment(slice, this.pod);
    const key = canonical(d);
    if (this.applied.get(slice.metadata.name) === key) return false;
    await this.applier.apply(d);
    this.applied.set(slice.metadata.name, key);
    return true;
  }

  async remove(slice: string): Promise<void> {
    this.applied.delete(slice);
    try {
      await this.api.deleteNamespacedDeployment({
        name: gatewayDeploymentName(slice),
        namespace: SYSTEM_NAMESPACE,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
