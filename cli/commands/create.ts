/** `kubectl slice create`: a SliceConfig in the hub namespace, checked here for form and by the API server for sense. */
import {
  API_VERSION,
  CIPHERS,
  DSCP_CLASSES,
  type SliceConfig,
  type SliceConfigSpec,
} from '../../controller/api/types.ts';
import { dnsLabel, int, list, oneOf, output, sliceArg, str, type Values } from '../args.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { connect, hubNamespace } from '../kube.ts';
import { serialize } from '../output.ts';
import { SliceConfigs } from '../sliceconfigs.ts';

/** Form only: a dotted quad and a prefix. Private range and prefix bounds are the CRD's to say. */
function cidr(value: string | undefined): string {
  if (value === undefined)
    throw new UsageError('missing --subnet: give the slice an IPv4 CIDR, e.g. --subnet 10.90.0.0/16');
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32)
    throw new UsageError(`--subnet: '${value}' is not an IPv4 CIDR; use the form 10.90.0.0/16`);
  return value;
}

export function buildSliceConfig(name: string, namespace: string, v: Values): SliceConfig {
  const clusters = list(v, 'clusters');
  if (!clusters)
    throw new UsageError('missing --clusters: name the member clusters, e.g. --clusters east,west');
  clusters.forEach((c) => dnsLabel(c, '--clusters: cluster name', 46));
  const spec: SliceConfigSpec = { subnet: cidr(str(v, 'subnet')), clusters };
  const namespaces = list(v, 'namespaces');
  if (namespaces)
    spec.namespaces = namespaces.map((n) => ({ namespace: dnsLabel(n, '--namespaces: namespace') }));
  const maxClusters = int(v, 'max-clusters', 2, 64);
  if (maxClusters !== undefined) spec.maxClusters = maxClusters;
  const guaranteed = int(v, 'guaranteed-kbps', 1, 400_000_000);
  const ceiling = int(v, 'ceiling-kbps', 1, 400_000_000);
  const priority = int(v, 'priority', 0, 7);
  const dscp = oneOf(v, 'dscp', DSCP_CLASSES);
  if (guaranteed !== undefined || ceiling !== undefined || priority !== undefined || dscp !== undefined) {
    if (guaranteed === undefined || ceiling === undefined)
      throw new UsageError(
        '--guaranteed-kbps and --ceiling-kbps go together: QoS needs both (and --priority/--dscp need them)',
      );
    spec.qos = {
      guaranteedKbps: guaranteed,
      ceilingKbps: ceiling,
      ...(priority !== undefined && { priority }),
      ...(dscp && { dscp }),
    };
  }
  const cipher = oneOf(v, 'cipher', CIPHERS);
  if (cipher) spec.gateway = { cipher };
  return { apiVersion: API_VERSION, kind: 'SliceConfig', metadata: { name, namespace }, spec };
}

export const create: Command = {
  name: 'create',
  summary: 'Create a slice (a SliceConfig on the hub)',
  help: `Usage: kubectl slice create <slice> --subnet CIDR --clusters a,b [flags]

  --subnet CIDR            the slice's private IPv4 subnet, /8 to /22 (required)
  --clusters a,b           member clusters (required)
  --namespaces shop,web    namespaces that may join (default: any with the join label)
  --max-clusters N         2-64, default 16: the subnet is split into N equal blocks
  --guaranteed-kbps N      QoS: guaranteed rate (with --ceiling-kbps)
  --ceiling-kbps N         QoS: ceiling rate
  --priority 0-7           QoS: 0 is highest, default 3
  --dscp CLASS             QoS: Default, AF11..AF43, CS1..CS7, EF
  --cipher NAME            chacha20-poly1305 (default) or aes-256-gcm
  --dry-run                have the API server validate it, store nothing, print it
`,
  flags: {
    subnet: { type: 'string' },
    clusters: { type: 'string' },
    namespaces: { type: 'string' },
    'max-clusters': { type: 'string' },
    'guaranteed-kbps': { type: 'string' },
    'ceiling-kbps': { type: 'string' },
    priority: { type: 'string' },
    dscp: { type: 'string' },
    cipher: { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  async run(p, out) {
    const name = sliceArg('create', p);
    const fmt = output(p.values);
    const obj = buildSliceConfig(name, hubNamespace(p.values), p.values);
    const dryRun = p.values['dry-run'] === true;
    const slices = new SliceConfigs(connect(p.values), obj.metadata.namespace!);
    const stored = await slices.create(obj, dryRun);
    if (fmt === 'json' || fmt === 'yaml') out(serialize(stored, fmt));
    else if (dryRun) out(serialize(stored, 'yaml'));
    else out(`slice/${name} created in ${slices.namespace}\n`);
  },
};
