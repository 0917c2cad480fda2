/**
 * Registering a member cluster on the hub (SPEC §3.3): the Cluster object in the hub
 * namespace, the namespace slicenet-cluster-<cluster> that holds its WorkerSlices, and a
 * ServiceAccount whose Role reaches that namespace alone, so a cluster's credential can read
 * its own WorkerSlices and write their status and nothing else. Everything is server-side
 * applied, so registering again is harmless and refreshes the credential.
 *
 * The credential is a TokenRequest token: bound to the ServiceAccount, expiring, and never
 * stored in a Secret on the hub. Registering again issues a fresh one.
 */
import { readFileSync } from 'node:fs';
import { CoreV1Api, dumpYaml, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { clusterNamespace } from '../controller/api/names.ts';
import { API_VERSION, GROUP, resources, type Cluster } from '../controller/api/types.ts';
import { Applier } from '../lib/kube/apply.ts';

export const WORKER_ACCOUNT = 'slicenet-worker';
const FIELD_MANAGER = 'kubectl-slice';

export interface Registration {
  cluster: string;
  hubNamespace: string;
  /** Lifetime of the token; the API server may cap it (--service-account-max-token-expiration). */
  tokenSeconds: number;
  /** The hub's API server as the member cluster reaches it; default: the kubeconfig's. */
  server?: string;
}

/** The worker's rights, in its namespace only. */
const RULES = [
  { apiGroups: [GROUP], resources: [resources.WorkerSlice.plural], verbs: ['get', 'list', 'watch'] },
  {
    apiGroups: [GROUP],
    resources: [`${resources.WorkerSlice.plural}/status`],
    verbs: ['get', 'patch', 'update'],
  },
  // The worker heart-beats through a Lease in its own namespace, and records events there.
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

export function registrationObjects(r: Registration): KubernetesObject[] {
  const ns = clusterNamespace(r.cluster);
  const labels = { 'app.kubernetes.io/part-of': 'slicenet', 'slicenet.dev/cluster': r.cluster };
  const cluster: Cluster = {
    apiVersion: API_VERSION,
    kind: 'Cluster',
    metadata: { name: r.cluster, namespace: r.hubNamespace, labels },
    spec: {},
  };
  const meta = { name: WORKER_ACCOUNT, namespace: ns, labels };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } },
    cluster,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta,
      rules: RULES,
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: WORKER_ACCOUNT },
      subjects: [{ kind: 'ServiceAccount', name: WORKER_ACCOUNT, namespace: ns }],
    } as KubernetesObject,
  ];
}

/** Applies the registration objects and returns the worker's kubeconfig, as YAML. */
export async function registerCluster(kc: KubeConfig, r: Registration): Promise<string> {
  const applier = new Applier(kc, FIELD_MANAGER);
  for (const obj of registrationObjects(r)) await applier.apply(obj);
  const ns = clusterNamespace(r.cluster);
  const tr = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: WORKER_ACCOUNT,
    namespace: ns,
    body: { spec: { audiences: [], expirationSeconds: r.tokenSeconds } },
  });
  if (!tr.status?.token) throw new Error(`the API server issued no token for ${ns}/${WORKER_ACCOUNT}`);
  return workerKubeconfig(kc, r, tr.status.token);
}

function workerKubeconfig(kc: KubeConfig, r: Registration, token: string): string {
  const hub = kc.getCurrentCluster()!;
  const ca = hub.caData ?? (hub.caFile ? readFileSync(hub.caFile).toString('base64') : undefined);
  const name = `slicenet-hub-${r.cluster}`;
  return dumpYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'slicenet-hub',
        cluster: {
          server: r.server ?? hub.server,
          ...(ca ? { 'certificate-authority-data': ca } : {}),
          ...(hub.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
        },
      },
    ],
    users: [{ name, user: { token } }],
    contexts: [
      { name, context: { cluster: 'slicenet-hub', user: name, namespace: clusterNamespace(r.cluster) } },
    ],
    'current-context': name,
  });
}
