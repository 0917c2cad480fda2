/**
 * slicenet-dns's one typed config: a flag (`--port 53` or `--port=53`) or its SLICENET_DNS_*
 * variable, flag first, else the default; validated at start, each error naming the flag, the
 * variable and what is allowed.
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { SlicenetError } from '../lib/errors.ts';
import { DEFAULT_TTL, DEFAULT_ZONE } from './records.ts';

export interface DnsConfig {
  /** Where DNS is served, UDP and TCP. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  zone: string;
  /** Seconds, for every record and for negative answers. */
  ttl: number;
  /** Where the records come from (see `source` below). */
  source: RecordSource;
  /** A JSON file of imported services, re-read when it changes (source `file`). */
  recordsFile: string;
  /** The member cluster's kubeconfig (source `kube`); empty: in-cluster, else $KUBECONFIG. */
  kubeconfig: string;
  probeHost: string;
  probePort: number;
  tcpMaxConnections: number;
  tcpIdleSeconds: number;
  /** Processes sharing the DNS socket; 1 serves from the main process itself. */
  workers: number;
}

export const DEFAULT_DNS_PROBE_PORT = 8086;

/**
 * `kube`: ServiceImports and MCS EndpointSlices of the member cluster (kube-source.ts); `file`:
 * `--records-file`; `none`: an empty zone. Default: `file` with a records file, else `kube` with
 * `--kubeconfig` or inside a pod (KUBERNETES_SERVICE_HOST set), else `none`.
 */
export const SOURCES = ['kube', 'file', 'none'] as const;
export type RecordSource = (typeof SOURCES)[number];

export class ConfigError extends SlicenetError {
  constructor(flag: string, message: string) {
    super('CONFIG_INVALID', `--${flag} (${envName(flag)}) ${message}`);
  }
}

const FLAGS = {
  host: '0.0.0.0',
  port: '53',
  zone: DEFAULT_ZONE,
  ttl: String(DEFAULT_TTL),
  source: '',
  'records-file': '',
  kubeconfig: '',
  'probe-host': '0.0.0.0',
  'probe-port': String(DEFAULT_DNS_PROBE_PORT),
  'tcp-max-connections': '256',
  'tcp-idle-seconds': '10',
  workers: '1',
} as const;
type Flag = keyof typeof FLAGS;

function envName(flag: string): string {
  return `SLICENET_DNS_${flag.toUpperCase().replace(/-/g, '_')}`;
}

const ZONE = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): DnsConfig {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
    strict: true,
  });
  const get = (f: Flag): string => values[f] ?? env[envName(f)] ?? FLAGS[f];
  const int = (f: Flag, min: number, max: number, what: string): number => {
    const n = Number(get(f));
    if (!Number.isInteger(n) || n < min || n > max)
      throw new ConfigError(f, `must be ${what}, a whole number from ${min} to ${max}, not "${get(f)}"`);
    return n;
  };
  const address = (f: Flag): string => {
    const v = get(f);
    if (!isIP(v)) throw new ConfigError(f, `must be an IP address to listen on, not "${v}"`);
    return v;
  };
  const zone = get('zone').toLowerCase().replace(/\.$/, '');
  if (!ZONE.test(zone) || zone.length > 200)
    throw new ConfigError('zone', `must be a domain name such as ${DEFAULT_ZONE}, not "${get('zone')}"`);
  const recordsFile = get('records-file');
  const kubeconfig = get('kubeconfig');
  if (recordsFile && kubeconfig)
    throw new ConfigError(
      'records-file',
      'and --kubeconfig exclude each other: records come from a file or a cluster',
    );
  let source = get('source') as RecordSource | '';
  if (source === '')
    source = recordsFile ? 'file' : kubeconfig || env.KUBERNETES_SERVICE_HOST ? 'kube' : 'none';
  if (!SOURCES.includes(source))
    throw new ConfigError('source', `must be one of ${SOURCES.join(', ')}, not "${source}"`);
  if (source === 'file' && !recordsFile)
    throw new ConfigError('records-file', 'is needed with --source file: the JSON file of imported services');
  if (source !== 'file' && recordsFile)
    throw new ConfigError('records-file', `is read only with --source file (the source is ${source})`);
  if (source !== 'kube' && kubeconfig)
    throw new ConfigError('kubeconfig', `is used only with --source kube (the source is ${source})`);
  return {
    source,
    kubeconfig,
    host: address('host'),
    port: int('port', 0, 65535, 'a port'),
    zone,
    ttl: int('ttl', 0, 3600, 'seconds'),
    recordsFile,
    probeHost: address('probe-host'),
    probePort: int('probe-port', 0, 65535, 'a port'),
    tcpMaxConnections: int('tcp-max-connections', 1, 65536, 'a count'),
    tcpIdleSeconds: int('tcp-idle-seconds', 1, 3600, 'seconds'),
    workers: get('workers') === 'auto' ? autoWorkers() : int('workers', 1, 64, '"auto" or a count'),
  };
}

/**
 * `--workers auto`: one per core, at most 4. Not the default: the workers share one UDP socket,
 * every datagram wakes each of them, and on a busy node that costs more than it gains
 * (dns/README.md has the figures).
 */
export function autoWorkers(): number {
  return Math.min(4, availableParallelism());
}
