/**
 * `kubectl slice install hub|worker`: renders deploy/<component> with the CRDs and this
 * install's overlay (deploy/manifests.ts) as a YAML stream, or applies it server-side under the
 * field manager kubectl-slice; `--dry-run=server` has the API server validate every object
 * (schema, RBAC, admission) without persisting any.
 */
import { CoreV1Api, loadAllYaml, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { Applier } from '../../lib/kube/apply.ts';
import { isNotFound, loadKubeConfig } from '../../lib/kube/client.ts';
import { clusterNamespace, SYSTEM_NAMESPACE } from '../../controller/api/names.ts';
import { COMPONENTS, manifests, type Component, type ManifestOptions } from '../../deploy/manifests.ts';
import type { Obj } from '../../deploy/render.ts';
import { dnsLabel, oneOf, onePositional, str, type Values } from '../args.ts';
import type { Command } from '../command.ts';
import { ApiRefusedError, UsageError } from '../errors.ts';
import { connect, hubNamespace, type Kube } from '../kube.ts';
import type { Write } from '../output.ts';

const FIELD_MANAGER = 'kubectl-slice';

function component(value: string): Component {
  if (!(COMPONENTS as readonly string[]).includes(value))
    throw new UsageError(
      `unknown component '${value}': kubectl slice install hub (the hub cluster) or worker (each member cluster)`,
    );
  return value as Component;
}

/** The registered name, from --cluster or from the hub kubeconfig's namespace slicenet-cluster-<name>. */
function workerOptions(v: Values): ManifestOptions {
  const file = str(v, 'hub-kubeconfig');
  let kubeconfig: string | undefined;
  let fromFile: string | undefined;
  if (file !== undefined) {
    let kc: KubeConfig;
    try {
      kubeconfig = readFileSync(file, 'utf8');
      kc = loadKubeConfig(file);
    } catch (err) {
      throw new UsageError(
        `--hub-kubeconfig: cannot use '${file}' (${(err as Error).message}): give the file 'kubectl slice register <cluster> --output-kubeconfig FILE' wrote`,
      );
    }
    const ns = kc.getContextObject(kc.getCurrentContext())?.namespace ?? '';
    fromFile = ns.startsWith(clusterNamespace('')) ? ns.slice(clusterNamespace('').length) : undefined;
  }
  const flag = str(v, 'cluster');
  const cluster = flag ?? fromFile;
  if (cluster === undefined)
    throw new UsageError(
      'install worker needs --cluster NAME, the name the cluster was registered with (kubectl slice register NAME)',
    );
  dnsLabel(cluster, '--cluster', 46);
  if (flag !== undefined && fromFile !== undefined && flag !== fromFile)
    throw new UsageError(
      `--cluster ${flag} does not match --hub-kubeconfig, which was made for cluster '${fromFile}'`,
    );
  return { cluster, ...(kubeconfig !== undefined ? { hubKubeconfig: kubeconfig } : {}) };
}

function options(which: Component, v: Values): ManifestOptions {
  const image = str(v, 'image');
  if (image !== undefined && !/^[a-z0-9][a-z0-9._\-/:]*[a-z0-9](@sha256:[a-f0-9]{64})?$/i.test(image))
    throw new UsageError(
      `--image: expected an image reference such as registry.example/slicenet:0.1.0, got '${image}'`,
    );
  const o: ManifestOptions = image ? { image } : {};
  if (which === 'hub') {
    for (const f of ['cluster', 'hub-kubeconfig'])
      if (str(v, f) !== undefined) throw new UsageError(`--${f} is for install worker, not install hub`);
    return { ...o, namespace: dnsLabel(hubNamespace(v), '--hub-namespace') };
  }
  if (hubNamespace(v) !== SYSTEM_NAMESPACE)
    throw new UsageError(
      `install worker runs in ${SYSTEM_NAMESPACE} (a fixed namespace of member clusters): drop --namespace/--hub-namespace`,
    );
  return { ...o, ...workerOptions(v) };
}

/** kubectl's YAML: documents separated by ---, long strings (CEL rules) unfolded. */
const yamlStream = (objs: Obj[]): string =>
  objs.map((o) => dump(o, { noRefs: true, lineWidth: -1 })).join('---\n');

const resourceOf = (o: Obj): string => {
  const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
  return `${o.kind.toLowerCase()}${group}/${o.metadata.name}`;
};

async function apply(kube: Kube, objs: Obj[], dryRun: boolean, out: Write): Promise<void> {
  if (dryRun) {
    // A dry run persists nothing, so objects in a namespace that does not exist yet cannot be checked.
    const ns = objs.find((o) => o.kind === 'Namespace')?.metadata.name ?? SYSTEM_NAMESPACE;
    const core = kube.kc.makeApiClient(CoreV1Api);
    const exists = await kube.call(`namespace ${ns}`, async () => {
      try {
        await core.readNamespace({ name: ns });
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    });
    if (!exists)
      throw new ApiRefusedError(
        `namespace ${ns} does not exist, so a server-side dry run cannot validate the objects in it: create it first (kubectl create namespace ${ns}) or install without --dry-run`,
      );
  }
  const applier = new Applier(kube.kc, FIELD_MANAGER);
  // client-node sends its own models, not plain JSON (it would drop e.g. a CRD's `default`):
  // the same objects, read into the models through its YAML loader.
  const models = loadAllYaml(yamlStream(objs)) as KubernetesObject[];
  for (const [i, o] of objs.entries()) {
    const what = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
    await kube.call(what, () => applier.apply(models[i]!, { dryRun }));
    out(`${resourceOf(o)} serverside-applied${dryRun ? ' (server dry run)' : ''}\n`);
  }
}

export const install: Command = {
  name: 'install',
  summary: 'Render or apply the manifests of the hub or of a member cluster',
  help: `Usage: kubectl slice install hub|worker [flags]

Prints the manifests (CRDs, namespace, RBAC, Deployments, DaemonSets, webhook configurations)
as a YAML stream, or applies them with server-side apply (field manager kubectl-slice).

  hub      the hub controller and the webhook; -n/--hub-namespace picks the hub namespace
  worker   the worker, agent and netop DaemonSets, slicenet-dns, the gateways' RBAC, the webhook

  --cluster NAME         worker: the name it was registered with (default: read from --hub-kubeconfig)
  --hub-kubeconfig FILE  worker: the credential 'kubectl slice register' wrote; put in a Secret
  --image REF            the slicenet image, e.g. registry.example/slicenet:0.1.0
  --apply                apply to the cluster of --kubeconfig/--context instead of printing
  --dry-run=server       with or without --apply: the API server validates every object, persists none
  -o yaml|json           the rendered stream's format (default yaml)
`,
  flags: {
    cluster: { type: 'string' },
    'hub-kubeconfig': { type: 'string' },
    image: { type: 'string' },
    apply: { type: 'boolean' },
    'dry-run': { type: 'string' },
  },
  async run(p, out) {
    const which = component(onePositional('install', p, 'component'));
    const dryRun = oneOf(p.values, 'dry-run', ['server', 'none'] as const);
    const format = oneOf(p.values, 'output', ['yaml', 'json'] as const) ?? 'yaml';
    const objs = manifests(which, options(which, p.values));
    if (p.values.apply === true || dryRun === 'server')
      return apply(connect(p.values), objs, dryRun === 'server', out);
    if (format === 'json')
      return out(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }, null, 2) + '\n');
    out(yamlStream(objs));
  },
};
