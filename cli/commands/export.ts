/**
 * `kubectl slice export <service> -n <ns>` and `unexport`: a Multi-Cluster Services
 * ServiceExport (multicluster.x-k8s.io/v1alpha1) in the current context's cluster, a member of
 * the slice. The worker picks it up, the hub distributes it, and every member cluster of the
 * slice gets a ServiceImport that slicenet-dns answers as <service>.<ns>.svc.slice.local;
 * why an export is not (yet) working is in its conditions, which `status` shows.
 *
 * Export checks what the worker would otherwise only report later: that the namespace is on
 * a slice (an export elsewhere goes nowhere) and that the Service exists.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { SLICE_LABEL } from '../../controller/api/names.ts';
import { isNotFound } from '../../lib/kube/client.ts';
import { dnsLabel, onePositional, str, type Values } from '../args.ts';
import type { Command } from '../command.ts';
import { ApiRefusedError, ConflictError, NotFoundError } from '../errors.ts';
import { connect, type Kube } from '../kube.ts';
import { Namespaces, sliceOf } from '../namespaces.ts';

export const MCS = { group: 'multicluster.x-k8s.io', version: 'v1alpha1', plural: 'serviceexports' } as const;

export interface ServiceExport {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; creationTimestamp?: string };
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** -n, else the context's namespace, else `default` — as kubectl picks a namespace. */
export function serviceNamespace(values: Values, kc: KubeConfig): string {
  const ns = str(values, 'namespace') ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  return dnsLabel(ns, '-n: namespace');
}

/** A 404 for the kind itself (no CRD), not for one object. */
function noSuchKind(err: unknown): boolean {
  const body = (err as { body?: unknown }).body;
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  return isNotFound(err) && text.includes('could not find the requested resource');
}

/** A 404 for the object named. */
const noSuchObject = (err: unknown): boolean => isNotFound(err) && !noSuchKind(err);

/** A ServiceExport call whose 404 means "no ServiceExport CRD" says so, not "not found". */
async function mcsCall<T>(kube: Kube, what: string, fn: () => Promise<T>): Promise<T> {
  return kube.call(what, async () => {
    try {
      return await fn();
    } catch (err) {
      if (noSuchKind(err))
        throw new ApiRefusedError(
          `the API server at ${kube.server} does not serve ${MCS.group}/${MCS.version} ServiceExport: install Slicenet's CRDs (kubectl apply -f crds/)`,
          err,
        );
      throw err;
    }
  });
}

function target(command: string, p: Parameters<Command['run']>[0]) {
  const name = dnsLabel(onePositional(command, p, 'service'), 'service name');
  // A bad -n is a usage error before any kubeconfig is read.
  const flag = str(p.values, 'namespace');
  if (flag !== undefined) dnsLabel(flag, '-n: namespace');
  const kube = connect(p.values);
  return { name, namespace: serviceNamespace(p.values, kube.kc), kube };
}

export const exportService: Command = {
  name: 'export',
  summary: 'Export a Service of a joined namespace to every cluster of its slice',
  help: `Usage: kubectl slice export <service> [-n <namespace>] [--context <member cluster>]

Creates a ServiceExport (${MCS.group}/${MCS.version}) for the Service in the current
context's cluster. The namespace must be on a slice (kubectl slice join) and the Service must
exist. Every member cluster of the slice then gets a ServiceImport, and pods that join the
slice resolve <service>.<namespace>.svc.slice.local to the slice addresses of its ready pods.
'kubectl slice status' shows each export's conditions (Valid, Ready, Conflict).

Here -n is the Service's namespace (default: the context's, else 'default').
`,
  flags: {},
  async run(p, out) {
    const { name, namespace, kube } = target('export', p);
    const ns = await new Namespaces(kube).get(namespace);
    const slice = sliceOf(ns);
    if (!slice)
      throw new ConflictError(
        `namespace ${namespace} is not on a slice (no ${SLICE_LABEL} label): run 'kubectl slice join ${namespace} --slice <slice>' first`,
      );
    const core = kube.kc.makeApiClient(CoreV1Api);
    await kube.call(`service ${name} in namespace ${namespace}`, () =>
      core.readNamespacedService({ name, namespace }).catch((err: unknown) => {
        if (isNotFound(err))
          throw new NotFoundError(
            `service ${name} not found in namespace ${namespace}: create the Service first, then export it`,
          );
        throw err;
      }),
    );
    const custom = kube.kc.makeApiClient(CustomObjectsApi);
    const what = `ServiceExport ${name} in namespace ${namespace}`;
    const existing = await mcsCall(kube, what, () =>
      (custom.getNamespacedCustomObject({ ...MCS, namespace, name }) as Promise<ServiceExport>).catch(
        (err: unknown) => {
          if (noSuchObject(err)) return undefined;
          throw err;
        },
      ),
    );
    if (existing) return out(`serviceexport/${name} in ${namespace} already exists (slice ${slice})\n`);
    const body: ServiceExport = {
      apiVersion: `${MCS.group}/${MCS.version}`,
      kind: 'ServiceExport',
      metadata: { name, namespace },
    };
    await mcsCall(kube, what, () => custom.createNamespacedCustomObject({ ...MCS, namespace, body }));
    out(`serviceexport/${name} created: ${name}.${namespace}.svc.slice.local on slice ${slice}\n`);
  },
};

export const unexportService: Command = {
  name: 'unexport',
  summary: 'Stop exporting a Service (deletes its ServiceExport)',
  help: `Usage: kubectl slice unexport <service> [-n <namespace>] [--context <member cluster>]

Deletes the Service's ServiceExport in the current context's cluster; the other clusters'
ServiceImports lose this cluster's endpoints. Here -n is the Service's namespace.
`,
  flags: {},
  async run(p, out) {
    const { name, namespace, kube } = target('unexport', p);
    const custom = kube.kc.makeApiClient(CustomObjectsApi);
    await mcsCall(kube, `ServiceExport ${name} in namespace ${namespace}`, () =>
      custom.deleteNamespacedCustomObject({ ...MCS, namespace, name }).catch((err: unknown) => {
        if (noSuchObject(err))
          throw new NotFoundError(
            `service ${name} in namespace ${namespace} is not exported (no ServiceExport)`,
          );
        throw err;
      }),
    );
    out(`serviceexport/${name} in ${namespace} deleted\n`);
  },
};

/** The ServiceExports of one cluster in the namespaces joined to `slice`. */
export async function exportsOnSlice(kc: KubeConfig, slice: string): Promise<ServiceExport[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const joined = await core.listNamespace({ labelSelector: `${SLICE_LABEL}=${slice}` });
  const names = new Set(joined.items.map((n) => n.metadata?.name));
  const list = (await custom.listClusterCustomObject(MCS)) as { items: ServiceExport[] };
  return list.items.filter((e) => names.has(e.metadata.namespace));
}
