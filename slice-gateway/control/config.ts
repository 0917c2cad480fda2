/**
 * slicenet-gateway's one typed config: a flag or its SLICENET_GATEWAY_* variable (flag first),
 * else the default; validated at start, each error naming the flag and the variable. The
 * worker's Deployment sets the pod's identity through the downward API (pod, node, node IP).
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { SYSTEM_NAMESPACE } from '../../controller/api/names.ts';
import { SlicenetError } from '../../lib/errors.ts';

export interface GatewayConfig {
  /** The slice this gateway carries. */
  slice: string;
  /** This replica's pod name: its entry in Slice.status.gateways and its Lease identity. */
  pod: string;
  /** Where the key Secret and the Lease live. */
  namespace: string;
  node: string;
  /** The address peers reach this node at; published as <nodeIp>:<port>. */
  nodeIp: string;
  /** Where the UDP socket binds. */
  listenAddress: string;
  /** Empty: in-cluster or $KUBECONFIG. */
  kubeconfig: string;
  wanMtu: number;
  /** The Lease that makes one replica active: short, so a standby takes over within 3 s. */
  leaseSeconds: number;
  leaseRetryMs: number;
  /** How often byte counters and handshake ages are written to the Slice (connects at once). */
  statusIntervalMs: number;
  probeHost: string;
  probePort: number;
}

export class GatewayConfigError extends SlicenetError {
  constructor(flag: string, message: string) {
    super('CONFIG_INVALID', `--${flag} (${envName(flag)}) ${message}`);
  }
}

const FLAGS = {
  slice: '',
  pod: '',
  namespace: SYSTEM_NAMESPACE,
  node: '',
  'node-ip': '',
  'listen-address': '0.0.0.0',
  kubeconfig: '',
  'wan-mtu': '1500',
  'lease-seconds': '2',
  'lease-retry-ms': '250',
  'status-interval-ms': '10000',
  'probe-host': '0.0.0.0',
  'probe-port': '8085',
} as const;
type Flag = keyof typeof FLAGS;

const envName = (flag: string): string => `SLICENET_GATEWAY_${flag.toUpperCase().replace(/-/g, '_')}`;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function loadGatewayConfig(argv: string[], env: NodeJS.ProcessEnv): GatewayConfig {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
    strict: true,
  });
  const get = (f: Flag): string => values[f] ?? env[envName(f)] ?? FLAGS[f];
  const int = (f: Flag, min: number, max: number): number => {
    const n = Number(get(f));
    if (!Number.isInteger(n) || n < min || n > max)
      throw new GatewayConfigError(f, `must be a whole number from ${min} to ${max}`);
    return n;
  };
  const cfg: GatewayConfig = {
    slice: get('slice'),
    pod: get('pod') || hostname(),
    namespace: get('namespace'),
    node: get('node'),
    nodeIp: get('node-ip'),
    listenAddress: get('listen-address'),
    kubeconfig: get('kubeconfig'),
    wanMtu: int('wan-mtu', 576, 9216),
    leaseSeconds: int('lease-seconds', 1, 60),
    leaseRetryMs: int('lease-retry-ms', 50, 10_000),
    statusIntervalMs: int('status-interval-ms', 1000, 600_000),
    probeHost: get('probe-host'),
    probePort: int('probe-port', 0, 65535),
  };
  if (!DNS_LABEL.test(cfg.slice) || cfg.slice.length > 63)
    throw new GatewayConfigError('slice', 'must name the slice this gateway carries (a DNS label)');
  if (!cfg.node) throw new GatewayConfigError('node', "must name this node (the pod's spec.nodeName)");
  if (!IPV4.test(cfg.nodeIp))
    throw new GatewayConfigError(
      'node-ip',
      `must be this node's IPv4 address (status.hostIP), not "${cfg.nodeIp}"`,
    );
  if (!IPV4.test(cfg.listenAddress))
    throw new GatewayConfigError('listen-address', `must be an IPv4 address, not "${cfg.listenAddress}"`);
  // The elector renews every retry period and gives up after 3/4 of the lease: at least two tries.
  if (cfg.leaseRetryMs * 2 >= cfg.leaseSeconds * 750)
    throw new GatewayConfigError(
      'lease-retry-ms',
      'must be under 3/8 of --lease-seconds, so a renewal can be retried',
    );
  return cfg;
}

/** The renew deadline used with the Lease: 3/4 of its duration, so a cut-off leader stops first. */
export const renewDeadlineMs = (cfg: GatewayConfig): number => cfg.leaseSeconds * 750;
