/**
 * Registering a member cluster on the hub (SPEC §2, §3.3), shared by `kubectl slice register`
 * and the tests: the Cluster in the hub namespace, the namespace slicenet-cluster-<cluster>,
 * and there alone a ServiceAccount whose Role lets the cluster's worker read its WorkerSlices,
 * write their status, and renew its heartbeat Lease — nothing else, anywhere. Everything is
 * server-side applied, so registering again is harmless and issues a fresh credential.
 *
 * The credential is a TokenRequest token: bound to the ServiceAccount, expiring, never kept in
 * a Secret on the hub.
 */
import { readFileSync } from 'node:fs';
import { CoreV1Api, dumpYaml, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Applier } from '../lib/kube/apply.ts';
import { clusterNamespace, HEARTBEAT_LEASE, SYSTEM_NAMESPACE } from './api/names.ts';
import { API_VERSION, GROUP, resources, type Cluster } from './api/types.ts';

export const WORKER_ACCOUNT = 'slicenet-worker';
const FIELD_MANAGER = 'slicenet-registration';

export interface RegisterOptions {
  hubNamespace?: string;
  /** The hub's API server as the member cluster reaches it; default: the kubeconfig's. */
  server?: string;
  /** PEM file of the hub's CA; default: the kubeconfig's. */
  caFile?: string;
  /** Token lifetime; the API server may cap it. Default one year. */
  tokenSeconds?: number;
  fieldManager?: string;
}

/** The worker's rights, all in its own hub namespace. */
export const WORKER_RULES = [
  { apiGroups: [GROUP], resources: [resources.WorkerSlice.plural], verbs: ['get', 'list', 'watch'] },
  {
    apiGroups: [GROUP],
    resources: [`${resources.WorkerSlice.plural}/status`],
    verbs: ['get', 'patch', 'update'],
  },
  // create cannot be limited by name (the object has none yet); get and update can.
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: [HEARTBEAT_LEASE],
    verbs: ['get', 'update'],
  },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

export function registrationObjects(cluster: string, hubNamespace = SYSTEM_NAMESPACE): KubernetesObject[] {
  const ns = clusterNamespace(cluster);
  const labels = { 'app.kubernetes.io/part-of': 'slicenet', 'slicenet.dev/cluster': cluster };
  const meta = { name: WORKER_ACCOUNT, namespace: ns, labels };
  const clusterObj: Cluster = {
    apiVersion: API_VERSION,
    kind: 'Cluster',
    metadata: { name: cluster, namespace: hubNamespace, labels },
    spec: {},
  };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } },
    clusterObj,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta,
      rules: WORKER_RULES,
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

/** Applies the registration objects; returns the worker's hub kubeconfig, as YAML. */
export async function registerCluster(
  hub: KubeConfig,
  cluster: string,
  opts: RegisterOptions = {},
): Promise<{ kubeconfig: string }> {
  const applier = new Applier(hub, opts.fieldManager ?? FIELD_MANAGER);
  for (const obj of registrationObjects(cluster, opts.hubNamespace)) await applier.apply(obj);
  const namespace = clusterNamespace(cluster);
  const tr = await hub.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: WORKER_ACCOUNT,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: opts.tokenSeconds ?? 365 * 24 * 3600 } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`the hub issued no token for ${namespace}/${WORKER_ACCOUNT}`);
  return { kubeconfig: workerKubeconfig(hub, cluster, token, opts) };
}

export function workerKubeconfig(
  hub: KubeConfig,
  cluster: string,
  token: string,
  opts: RegisterOptions,
): string {
  const current = hub.getCurrentCluster();
  if (!current) throw new Error('the hub kubeconfig has no current cluster');
  const caFile = opts.caFile ?? current.caFile;
  const ca = caFile ? readFileSync(caFile).toString('base64') : current.caData;
  const user = `slicenet-worker-${cluster}`;
  return dumpYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'slicenet-hub',
        cluster: {
          server: opts.server ?? current.server,
          ...(ca ? { 'certificate-authority-data': ca } : {}),
          ...(current.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
        },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [
      { name: user, context: { cluster: 'slicenet-hub', user, namespace: clusterNamespace(cluster) } },
    ],
    'current-context': user,
  });
}
