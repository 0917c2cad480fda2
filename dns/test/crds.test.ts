/**
 * The Multi-Cluster Services CRDs (crds/multicluster.x-k8s.io_*.yaml): upstream's schema, read
 * as the API server reads it; and, with a real API server (SLICENET_TEST_KUBECONFIG, the lab's),
 * what it accepts and refuses. The CRDs are applied and left installed, as in
 * controller/api/test/validation.test.ts; test objects live in a namespace of their own.
 */
import anyTest, { type TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  loadAllYaml,
  type V1CustomResourceDefinition,
  type V1JSONSchemaProps,
} from '@kubernetes/client-node';
import { Applier } from '../../lib/kube/apply.ts';
import { loadKubeConfig } from '../../lib/kube/client.ts';
import { waitFor } from '../../lib/wait.ts';

const GROUP = 'multicluster.x-k8s.io';
const dir = join(import.meta.dirname, '..', '..', 'crds');
const load = (plural: string): V1CustomResourceDefinition =>
  loadAllYaml(readFileSync(join(dir, `${GROUP}_${plural}.yaml`), 'utf8'))[0] as V1CustomResourceDefinition;
const exportsCrd = load('serviceexports');
const importsCrd = load('serviceimports');
const schema = (crd: V1CustomResourceDefinition): V1JSONSchemaProps =>
  crd.spec.versions[0]!.schema!.openAPIV3Schema!;

const kubeconfigPath = process.env.SLICENET_TEST_KUBECONFIG;
const test = anyTest as TestFn<{ applier: Applier; objects: KubernetesObjectApi; ns: string }>;
const lab = kubeconfigPath ? test.serial : test.serial.skip;

test('named, grouped and versioned as upstream: v1alpha1, namespaced, status subresource', (t) => {
  for (const [crd, kind, plural] of [
    [exportsCrd, 'ServiceExport', 'serviceexports'],
    [importsCrd, 'ServiceImport', 'serviceimports'],
  ] as const) {
    t.is(crd.metadata?.name, `${plural}.${GROUP}`);
    t.is(crd.spec.group, GROUP);
    t.like(crd.spec.names, { kind, plural });
    t.is(crd.spec.scope, 'Namespaced');
    t.is(crd.spec.versions.length, 1);
    t.like(crd.spec.versions[0], { name: 'v1alpha1', served: true, storage: true });
    t.truthy(crd.spec.versions[0]!.subresources?.status, kind);
    t.is(crd.spec.versions[0]!.additionalPrinterColumns?.at(-1)?.name, 'Age');
  }
  t.deepEqual(importsCrd.spec.names.shortNames, ['svcim']);
  t.true(exportsCrd.spec.names.shortNames?.includes('svcex'));
});

test('ServiceImport: spec.type ClusterSetIP|Headless and ports required, at most one IP, clusters keyed', (t) => {
  const spec = schema(importsCrd).properties!.spec!;
  t.deepEqual(spec.required, ['ports', 'type']);
  t.deepEqual(spec.properties!.type!._enum, ['ClusterSetIP', 'Headless']);
  t.is(spec.properties!.ips!.maxItems, 1);
  const port = spec.properties!.ports!.items as V1JSONSchemaProps;
  t.deepEqual(port.required, ['port']);
  t.deepEqual(Object.keys(port.properties!).sort(), ['appProtocol', 'name', 'port', 'protocol']);
  const clusters = schema(importsCrd).properties!.status!.properties!.clusters!;
  t.is(clusters.x_kubernetes_list_type, 'map');
  t.deepEqual(clusters.x_kubernetes_list_map_keys, ['cluster']);
});

test('ServiceExport: status.conditions are metav1.Conditions keyed by type, as in the Slicenet CRDs', (t) => {
  const conditions = schema(exportsCrd).properties!.status!.properties!.conditions!;
  t.is(conditions.x_kubernetes_list_type, 'map');
  t.deepEqual(conditions.x_kubernetes_list_map_keys, ['type']);
  const own = loadAllYaml(
    readFileSync(join(dir, 'slicenet.dev_clusters.yaml'), 'utf8'),
  )[0] as V1CustomResourceDefinition;
  const ownItems = schema(own).properties!.status!.properties!.conditions!.items as V1JSONSchemaProps;
  const items = conditions.items as V1JSONSchemaProps;
  t.deepEqual([...items.required!].sort(), [...ownItems.required!].sort());
  // `items` is untyped in the client's model, so its schema keeps the YAML's own keys.
  t.deepEqual((items.properties!.status as { enum?: unknown }).enum, ['True', 'False', 'Unknown']);
});

if (kubeconfigPath) {
  test.before(async (t) => {
    const kc = loadKubeConfig(kubeconfigPath);
    const applier = new Applier(kc, 'slicenet-test');
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    for (const crd of [exportsCrd, importsCrd]) {
      await applier.apply(crd);
      await waitFor(
        async () =>
          (await ext.readCustomResourceDefinition({ name: crd.metadata!.name! })).status?.conditions?.some(
            (c) => c.type === 'Established' && c.status === 'True',
          ) ?? false,
        10_000,
        `${crd.metadata!.name} established`,
        100,
      );
    }
    const ns = `mcs-test-${randomUUID().slice(0, 8)}`;
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
    t.context = { applier, objects: KubernetesObjectApi.makeApiClient(kc), ns };
  });
  test.after.always(async (t) => {
    await t.context.objects
      ?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: t.context.ns } })
      .catch(() => undefined);
  });
}

const rows: { name: string; spec: Record<string, unknown>; refused?: RegExp }[] = [
  {
    name: 'a headless import with named ports',
    spec: { type: 'Headless', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] },
  },
  {
    name: 'a ClusterSetIP import with its IP',
    spec: { type: 'ClusterSetIP', ips: ['10.96.0.9'], ports: [] },
  },
  {
    name: 'an unknown type',
    spec: { type: 'LoadBalancer', ports: [] },
    refused: /spec\.type: Unsupported value/,
  },
  { name: 'no ports', spec: { type: 'Headless' }, refused: /spec\.ports: Required value/ },
  {
    name: 'two IPs',
    spec: { type: 'ClusterSetIP', ips: ['10.96.0.9', '10.96.0.10'], ports: [] },
    refused: /spec\.ips: Too many/,
  },
];

rows.forEach((row, i) => {
  lab(`lab: ServiceImport ${row.refused ? 'refuses' : 'accepts'} ${row.name}`, async (t) => {
    const obj = {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: 'ServiceImport',
      metadata: { name: `svc-${i}`, namespace: t.context.ns },
      spec: row.spec,
    };
    let refusal: string | undefined;
    try {
      await t.context.applier.apply(obj);
    } catch (err) {
      if (!(err instanceof ApiException)) throw err;
      refusal = String(typeof err.body === 'string' ? err.body : JSON.stringify(err.body));
    }
    if (row.refused) t.regex(refusal ?? '(accepted)', row.refused);
    else t.is(refusal, undefined);
  });
});
