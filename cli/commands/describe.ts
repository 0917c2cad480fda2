/** `kubectl slice describe <slice>`: spec, per-cluster status, conditions and recent events. */
import { CoreV1Api, type CoreV1Event } from '@kubernetes/client-node';
import type { SliceConfig } from '../../controller/api/types.ts';
import { sliceArg } from '../args.ts';
import type { Command } from '../command.ts';
import { connect, hubNamespace } from '../kube.ts';
import { age, fields, table } from '../output.ts';
import { SliceConfigs } from '../sliceconfigs.ts';

/** Custom resources arrive as plain JSON: the timestamp is a string whatever the type says. */
function created(s: SliceConfig): string {
  const t = s.metadata.creationTimestamp;
  return t ? `${String(t)} (${age(t)} ago)` : '<unknown>';
}

function spec(s: SliceConfig): string {
  const q = s.spec.qos;
  return fields([
    ['Name', s.metadata.name],
    ['Namespace', s.metadata.namespace],
    ['Created', created(s)],
    ['Subnet', s.spec.subnet],
    ['Max clusters', s.spec.maxClusters ?? 16],
    ['Clusters', (s.spec.clusters ?? []).join(', ') || '<none>'],
    [
      'Namespaces',
      (s.spec.namespaces ?? [])
        .map((n) => `${n.namespace} [${(n.clusters ?? ['*']).join(',')}]`)
        .join(', ') || '* (any with the join label)',
    ],
    ['Isolation', s.spec.isolation?.enabled ? 'enabled' : 'disabled'],
    [
      'QoS',
      q
        ? `guaranteed ${q.guaranteedKbps} kbps, ceiling ${q.ceilingKbps} kbps, priority ${q.priority ?? 3}, DSCP ${q.dscp ?? 'Default'}`
        : '<none>',
    ],
    [
      'Gateway',
      `cipher ${s.spec.gateway?.cipher ?? 'chacha20-poly1305'}, replicas ${s.spec.gateway?.replicas ?? 1}`,
    ],
  ]);
}

function clusters(s: SliceConfig): string {
  const cs = s.status?.clusters ?? [];
  if (cs.length === 0) return 'Cluster status:  <none reported yet>\n';
  const rows = cs.map((c) => [
    c.name,
    c.subnet ?? '',
    c.phase ?? 'Pending',
    String(c.gatewaysConnected ?? 0),
    String(c.endpoints ?? 0),
  ]);
  return 'Cluster status:\n' + indent(table(['CLUSTER', 'BLOCK', 'PHASE', 'GATEWAYS', 'ENDPOINTS'], rows));
}

function conditions(s: SliceConfig): string {
  const cs = s.status?.conditions ?? [];
  if (cs.length === 0) return 'Conditions:  <none>\n';
  const rows = cs.map((c) => [c.type, c.status, c.reason, c.message]);
  return 'Conditions:\n' + indent(table(['TYPE', 'STATUS', 'REASON', 'MESSAGE'], rows));
}

function events(list: CoreV1Event[]): string {
  if (list.length === 0) return 'Events:  <none>\n';
  const when = (e: CoreV1Event): Date | undefined =>
    e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
  const sorted = [...list].sort((a, b) => (when(a)?.getTime() ?? 0) - (when(b)?.getTime() ?? 0)).slice(-20);
  const rows = sorted.map((e) => [
    e.type ?? '',
    e.reason ?? '',
    age(when(e)),
    e.source?.component ?? e.reportingComponent ?? '',
    e.message ?? '',
  ]);
  return 'Events:\n' + indent(table(['TYPE', 'REASON', 'AGE', 'FROM', 'MESSAGE'], rows));
}

const indent = (text: string): string => text.replace(/^(?=.)/gm, '  ');

export const describe: Command = {
  name: 'describe',
  summary: 'Show a slice in detail: spec, clusters, conditions, events',
  help: `Usage: kubectl slice describe <slice>
`,
  flags: {},
  async run(p, out) {
    const name = sliceArg('describe', p);
    const hub = hubNamespace(p.values);
    const kube = connect(p.values);
    const slices = new SliceConfigs(kube, hub);
    const s = await slices.get(name);
    const core = kube.kc.makeApiClient(CoreV1Api);
    const evs = await kube.call(`events of ${slices.what(name)}`, () =>
      core.listNamespacedEvent({
        namespace: slices.namespace,
        fieldSelector: `involvedObject.kind=SliceConfig,involvedObject.name=${name}`,
      }),
    );
    out([spec(s), clusters(s), conditions(s), events(evs.items)].join(''));
  },
};
