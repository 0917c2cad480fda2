/**
 * `kubectl slice status [slice]`: what each member cluster of a slice reports to the hub — its
 * phase, block and endpoints, its gateways, and per peer cluster whether the tunnel is up, the
 * handshake's age, the tunnel RTT and the bytes carried.
 *
 * The hub has the phases and whether each tunnel is up (the WorkerSlice status each worker
 * writes; workers do not forward counters, which change every few seconds, to the hub). Where
 * the kubeconfig also has a context named like a member cluster (as the lab's has), the
 * member's own Slice status adds handshake age, RTT and bytes, and its ServiceExports are listed
 * with their conditions.
 */
import { CustomObjectsApi, KubeConfig, dumpYaml } from '@kubernetes/client-node';
import {
  GROUP,
  VERSION,
  resources,
  type GatewayPeerStatus,
  type GatewayStatus,
  type Slice,
  type SliceClusterStatus,
  type SliceConfig,
  type WorkerSlice,
} from '../../controller/api/types.ts';
import { optionalSliceArg, output } from '../args.ts';
import type { Command } from '../command.ts';
import { connect, hubNamespace, type Kube } from '../kube.ts';
import { table } from '../output.ts';
import { SliceConfigs } from '../sliceconfigs.ts';
import { exportsOnSlice, type ServiceExport } from './export.ts';

export interface ClusterReport {
  cluster: string;
  phase: string;
  block?: string;
  endpoints: number;
  /** The active gateway, `node (host:port)`, if one reported. */
  gateway?: string;
  gateways: GatewayStatus[];
  peers: GatewayPeerStatus[];
}

/** One ServiceExport of a member cluster, with its MCS conditions (Unknown when unset). */
export interface ExportReport {
  cluster: string;
  namespace: string;
  service: string;
  valid: string;
  ready: string;
  conflict: string;
  /** Why it is not valid, not ready or in conflict. */
  message?: string;
}

export interface SliceReport {
  slice: string;
  ready: string;
  qos?: string;
  clusters: ClusterReport[];
  /** From member clusters whose name is a kubeconfig context. */
  exports?: ExportReport[];
}

/**
 * The member cluster's own Slice, when the kubeconfig has a context named after the cluster;
 * undefined when it has none or the read fails (the hub's view is shown then).
 */
async function memberSlice(kube: Kube, cluster: string, slice: string): Promise<Slice | undefined> {
  const kc = memberKubeConfig(kube, cluster);
  if (!kc) return undefined;
  try {
    return (await kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: resources.Slice.plural,
      name: slice,
    })) as Slice;
  } catch {
    return undefined;
  }
}

/** The kubeconfig switched to the context named like the member cluster, if there is one. */
function memberKubeConfig(kube: Kube, cluster: string): KubeConfig | undefined {
  if (!kube.kc.getContextObject(cluster)) return undefined;
  const kc = new KubeConfig();
  kc.loadFromString(kube.kc.exportConfig());
  kc.setCurrentContext(cluster);
  return kc;
}

/**
 * The ServiceExports in the slice's namespaces of every member cluster the kubeconfig reaches,
 * with their conditions; a cluster whose read fails is left out.
 */
async function sliceExports(kube: Kube, r: SliceReport): Promise<ExportReport[]> {
  const perCluster = await Promise.all(
    r.clusters.map(async ({ cluster }) => {
      const kc = memberKubeConfig(kube, cluster);
      const items = kc ? await exportsOnSlice(kc, r.slice).catch(() => []) : [];
      return items.map((e) => exportReport(cluster, e));
    }),
  );
  return perCluster.flat();
}

export function exportReport(cluster: string, e: ServiceExport): ExportReport {
  const conditions = e.status?.conditions ?? [];
  const cond = (type: string): string => conditions.find((c) => c.type === type)?.status ?? 'Unknown';
  // The first condition that is not as it should be says why.
  const why = conditions.find(
    (c) => (c.type === 'Conflict' ? c.status === 'True' : c.status !== 'True') && (c.message || c.reason),
  );
  return {
    cluster,
    namespace: e.metadata.namespace,
    service: e.metadata.name,
    valid: cond('Valid'),
    ready: cond('Ready'),
    conflict: conditions.some((c) => c.type === 'Conflict') ? cond('Conflict') : 'False',
    ...(why ? { message: `${why.reason ?? why.type}: ${why.message ?? ''}`.replace(/: $/, '') } : {}),
  };
}

const EXPORT_HEADERS = ['SLICE', 'CLUSTER', 'SERVICE', 'VALID', 'READY', 'CONFLICT', 'MESSAGE'];

export function exportRows(r: SliceReport): string[][] {
  return (r.exports ?? []).map((e) => [
    r.slice,
    e.cluster,
    `${e.namespace}/${e.service}`,
    e.valid,
    e.ready,
    e.conflict,
    e.message ?? '-',
  ]);
}

/** Each WorkerSlice's gateways replaced by the member's own, more detailed, where readable. */
async function withMemberDetail(kube: Kube, workerSlices: WorkerSlice[]): Promise<WorkerSlice[]> {
  return Promise.all(
    workerSlices.map(async (ws) => {
      const local = await memberSlice(kube, ws.spec.cluster, ws.metadata.name);
      const gateways = local?.status?.gateways?.filter((g) => g.address);
      return gateways?.length ? { ...ws, status: { ...ws.status, gateways } } : ws;
    }),
  );
}

export function report(sc: SliceConfig, workerSlices: WorkerSlice[]): SliceReport {
  const byCluster = new Map(workerSlices.map((w) => [w.spec.cluster, w]));
  const q = sc.spec.qos;
  return {
    slice: sc.metadata.name,
    ready: sc.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
    qos: q ? `${q.guaranteedKbps}/${q.ceilingKbps} kbps p${q.priority ?? 3}` : undefined,
    clusters: (
      sc.status?.clusters ??
      sc.spec.clusters?.map((name): SliceClusterStatus => ({ name })) ??
      []
    ).map((c) => {
      const ws = byCluster.get(c.name);
      const gateways = ws?.status?.gateways ?? [];
      const active = gateways.find((g) => g.active) ?? gateways.find((g) => g.peers);
      return {
        cluster: c.name,
        phase: c.phase ?? 'Pending',
        block: c.subnet ?? ws?.spec.block,
        endpoints: ws?.status?.endpoints?.length ?? 0,
        gateway: active?.node ? `${active.node} (${active.address ?? '?'})` : active?.address,
        gateways,
        peers: active?.peers ?? [],
      };
    }),
  };
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

const HEADERS = ['SLICE', 'CLUSTER', 'PHASE', 'ENDPOINTS', 'PEER', 'TUNNEL', 'HANDSHAKE', 'RTT', 'TX', 'RX'];
const WIDE = ['BLOCK', 'GATEWAY', 'PEER-ENDPOINT', 'QOS'];

export function rows(r: SliceReport, wide: boolean): string[][] {
  return r.clusters.flatMap((c) => {
    const peers: (GatewayPeerStatus | undefined)[] = c.peers.length ? c.peers : [undefined];
    return peers.map((p) => {
      const base = [
        r.slice,
        c.cluster,
        c.phase,
        String(c.endpoints),
        p?.cluster ?? '-',
        p ? (p.connected ? 'up' : 'DOWN') : c.gateway ? 'no peers' : 'no gateway',
        p?.handshakeAgeSeconds !== undefined ? `${p.handshakeAgeSeconds}s ago` : '-',
        p?.rttMs !== undefined ? `${p.rttMs.toFixed(2)}ms` : '-',
        bytes(p?.txBytes),
        bytes(p?.rxBytes),
      ];
      return wide ? [...base, c.block ?? '-', c.gateway ?? '-', p?.endpoint ?? '-', r.qos ?? '-'] : base;
    });
  });
}

export const status: Command = {
  name: 'status',
  summary: 'Show the tunnels, endpoints and health of slices per cluster and peer',
  help: `Usage: kubectl slice status [slice] [-o table|wide|json|yaml]

Per member cluster of each slice (or of the one named): its phase and slice endpoints, and per
peer cluster whether the gateway tunnel is up, the age of its last handshake, the tunnel's
round-trip time and the bytes sent and received. Phases and tunnel state come from the hub;
handshake age, RTT and bytes from each member cluster whose name is also a context of the
kubeconfig (otherwise '-'). From those member clusters too: the services exported in the
slice's namespaces (kubectl slice export) with their Valid, Ready and Conflict conditions.
`,
  flags: {},
  async run(p, out) {
    const name = optionalSliceArg('status', p);
    const fmt = output(p.values);
    const hub = hubNamespace(p.values);
    const kube = connect(p.values);
    const slices = new SliceConfigs(kube, hub);
    const items = name ? [await slices.get(name)] : await slices.list();
    const reports = await Promise.all(
      items.map(async (sc) => {
        const r = report(sc, await withMemberDetail(kube, await slices.workerSlices(sc.metadata.name)));
        return { ...r, exports: await sliceExports(kube, r) };
      }),
    );
    const doc = name ? reports[0] : reports;
    if (fmt === 'json') return out(JSON.stringify(doc, null, 2) + '\n');
    if (fmt === 'yaml') return out(dumpYaml(doc));
    if (reports.length === 0)
      return void process.stderr.write(`No slices in namespace ${slices.namespace}.\n`);
    const wide = fmt === 'wide';
    out(
      table(
        wide ? [...HEADERS, ...WIDE] : HEADERS,
        reports.flatMap((r) => rows(r, wide)),
      ),
    );
    const exported = reports.flatMap(exportRows);
    if (exported.length) out('\nExported services:\n' + table(EXPORT_HEADERS, exported));
  },
};
