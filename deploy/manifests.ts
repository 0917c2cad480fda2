/**
 * The manifests of one Slicenet component set, as `kubectl slice install hub|worker` renders or
 * applies them: the CRDs from crds/, then deploy/<component> rendered (render.ts) with the
 * install's overlay — the image, the hub namespace, the worker's cluster name and hub
 * credential — in the order a cluster can take them in (CRDs and the namespace first, the
 * webhook configurations last, once the webhook they call exists).
 */
import { loadAll } from 'js-yaml';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEM_NAMESPACE } from '../controller/api/names.ts';
import { imageName, renderKustomization, type ImageRule, type Kustomization, type Obj } from './render.ts';

export const COMPONENTS = ['hub', 'worker'] as const;
export type Component = (typeof COMPONENTS)[number];

/** The one image every Slicenet process runs from (deploy/README.md says what is in it). */
export const IMAGE = 'ghcr.io/slicenet/slicenet';

export const HUB_KUBECONFIG_SECRET = 'slicenet-hub-kubeconfig';
export const WORKER_CONFIGMAP = 'slicenet-worker';

const repo = join(import.meta.dirname, '..');

export interface ManifestOptions {
  /** `repo[:tag]` or `repo@digest` replacing ghcr.io/slicenet/slicenet:<version>. */
  image?: string;
  /** Hub only: where the hub runs and SliceConfigs live (default slicenet-system). */
  namespace?: string;
  /** Worker only: the name the cluster was registered with. */
  cluster?: string;
  /** Worker only: the kubeconfig `kubectl slice register` printed, put in a Secret. */
  hubKubeconfig?: string;
}

/** Kinds in the order they are applied; other kinds go between Service and Deployment. */
const ORDER = [
  'CustomResourceDefinition',
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'Role',
  'ClusterRoleBinding',
  'RoleBinding',
  'ConfigMap',
  'Secret',
  'Service',
  '',
  'Deployment',
  'DaemonSet',
  'PodDisruptionBudget',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
];

const rank = (kind: string): number => {
  const i = ORDER.indexOf(kind);
  return i === -1 ? ORDER.indexOf('') : i;
};

export function crds(): Obj[] {
  const dir = join(repo, 'crds');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => loadAll(readFileSync(join(dir, f), 'utf8')) as Obj[]);
}

export function manifests(component: Component, o: ManifestOptions = {}): Obj[] {
  const overlay: Kustomization = o.image ? { images: [imageRule(o.image)] } : {};
  const objs = [...crds(), ...renderKustomization(join(repo, 'deploy', component), overlay)];
  if (o.namespace && o.namespace !== SYSTEM_NAMESPACE) moveNamespace(objs, SYSTEM_NAMESPACE, o.namespace);
  if (o.cluster !== undefined) {
    const cm = objs.find((x) => x.kind === 'ConfigMap' && x.metadata.name === WORKER_CONFIGMAP);
    if (cm) cm.data = { ...(cm.data as Record<string, string>), cluster: o.cluster };
  }
  if (o.hubKubeconfig !== undefined)
    objs.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: HUB_KUBECONFIG_SECRET,
        namespace: SYSTEM_NAMESPACE,
        labels: { 'app.kubernetes.io/part-of': 'slicenet' },
      },
      type: 'Opaque',
      data: { kubeconfig: Buffer.from(o.hubKubeconfig).toString('base64') },
    });
  return objs
    .map((x, i) => ({ x, i }))
    .sort((a, b) => rank(a.x.kind) - rank(b.x.kind) || a.i - b.i)
    .map((e) => e.x);
}

function imageRule(image: string): ImageRule {
  const name = imageName(image);
  const rest = image.slice(name.length);
  if (rest.startsWith('@')) return { name: IMAGE, newName: name, digest: rest.slice(1) };
  return { name: IMAGE, newName: name, ...(rest ? { newTag: rest.slice(1) } : {}) };
}

/**
 * What kustomize's `namespace:` does, for the hub: objects, the Namespace itself, ServiceAccount
 * subjects, and the webhook configurations' Service and the namespace they never call for.
 */
function moveNamespace(objs: Obj[], from: string, to: string): void {
  const swap = (v: string | undefined): string | undefined => (v === from ? to : v);
  for (const o of objs) {
    o.metadata.namespace = swap(o.metadata.namespace);
    if (o.kind === 'Namespace' && o.metadata.name === from) o.metadata.name = to;
    for (const s of (o.subjects as { namespace?: string }[] | undefined) ?? [])
      s.namespace = swap(s.namespace);
    type Hook = {
      clientConfig?: { service?: { namespace?: string } };
      namespaceSelector?: { matchExpressions?: { values?: string[] }[] };
    };
    for (const w of (o.webhooks as Hook[] | undefined) ?? []) {
      if (w.clientConfig?.service) w.clientConfig.service.namespace = swap(w.clientConfig.service.namespace);
      for (const e of w.namespaceSelector?.matchExpressions ?? [])
        if (e.values) e.values = e.values.map((v) => swap(v) ?? v);
    }
  }
}
