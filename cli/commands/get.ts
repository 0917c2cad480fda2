/** `kubectl slice get [slice]`: a table like the CRD's printer columns, or the objects as JSON/YAML. */
import type { SliceConfig } from '../../controller/api/types.ts';
import { findCondition } from '../../lib/kube/conditions.ts';
import { optionalSliceArg, output } from '../args.ts';
import type { Command } from '../command.ts';
import { connect, hubNamespace } from '../kube.ts';
import { age, serialize, table } from '../output.ts';
import { SliceConfigs } from '../sliceconfigs.ts';

const HEADERS = ['NAME', 'SUBNET', 'CLUSTERS', 'READY', 'AGE'];
const WIDE = ['MAX-CLUSTERS', 'NAMESPACES', 'CIPHER', 'BLOCKS'];

function row(s: SliceConfig, wide: boolean): string[] {
  const base = [
    s.metadata.name,
    s.spec.subnet,
    (s.spec.clusters ?? []).join(',') || '<none>',
    findCondition(s.status?.conditions, 'Ready')?.status ?? 'Unknown',
    age(s.metadata.creationTimestamp),
  ];
  if (!wide) return base;
  const blocks = (s.status?.clusters ?? []).map((c) => `${c.name}=${c.subnet ?? '?'}`).join(',');
  return [
    ...base,
    String(s.spec.maxClusters ?? 16),
    (s.spec.namespaces ?? []).map((n) => n.namespace).join(',') || '*',
    s.spec.gateway?.cipher ?? 'chacha20-poly1305',
    blocks || '<none>',
  ];
}

export const get: Command = {
  name: 'get',
  summary: 'List slices, or show one',
  help: `Usage: kubectl slice get [slice] [-o table|wide|json|yaml]
`,
  flags: {},
  async run(p, out) {
    const name = optionalSliceArg('get', p);
    const fmt = output(p.values);
    const hub = hubNamespace(p.values);
    const slices = new SliceConfigs(connect(p.values), hub);
    const items = name ? [await slices.get(name)] : await slices.list();
    if (fmt === 'json' || fmt === 'yaml') return out(serialize(name ? items[0]! : items, fmt));
    if (items.length === 0) return void process.stderr.write(`No slices in namespace ${slices.namespace}.\n`);
    const wide = fmt === 'wide';
    out(
      table(
        wide ? [...HEADERS, ...WIDE] : HEADERS,
        items.map((s) => row(s, wide)),
      ),
    );
  },
};
