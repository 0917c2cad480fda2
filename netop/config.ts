/**
 * slicenet-netop's one typed config: a flag or its SLICENET_NETOP_* variable (flag first), else
 * the default; validated at start, each error naming the flag and the variable.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { SlicenetError } from '../lib/errors.ts';

export interface NetopConfig {
  /** This node's name, as the Node object (and the gateways' status) has it. */
  node: string;
  /** Empty: in-cluster or $KUBECONFIG. */
  kubeconfig: string;
  /** The uplink that carries gateway traffic; empty: no QoS on this node. */
  uplink: string;
  /** The uplink's rate in kbit/s: the HTB parent class. */
  linkKbit: number;
  /** Shape arriving traffic too (through an ifb device). */
  ingressShaping: boolean;
  probeHost: string;
  probePort: number;
}

export class NetopConfigError extends SlicenetError {
  constructor(flag: string, message: string) {
    super('CONFIG_INVALID', `--${flag} (${envName(flag)}) ${message}`);
  }
}

const FLAGS = {
  node: '',
  kubeconfig: '',
  uplink: '',
  'link-kbit': '1000000',
  'ingress-shaping': 'true',
  'probe-host': '0.0.0.0',
  'probe-port': '8086',
} as const;
type Flag = keyof typeof FLAGS;

const envName = (flag: string): string => `SLICENET_NETOP_${flag.toUpperCase().replace(/-/g, '_')}`;

export function loadNetopConfig(argv: string[], env: NodeJS.ProcessEnv): NetopConfig {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
    strict: true,
  });
  const get = (f: Flag): string => values[f] ?? env[envName(f)] ?? FLAGS[f];
  const int = (f: Flag, min: number, max: number): number => {
    const n = Number(get(f));
    if (!Number.isInteger(n) || n < min || n > max)
      throw new NetopConfigError(f, `must be a whole number from ${min} to ${max}`);
    return n;
  };
  const bool = (f: Flag): boolean => {
    const v = get(f);
    if (v !== 'true' && v !== 'false') throw new NetopConfigError(f, `must be true or false, not "${v}"`);
    return v === 'true';
  };
  const cfg: NetopConfig = {
    node: get('node') || env.NODE_NAME || hostname(),
    kubeconfig: get('kubeconfig'),
    uplink: get('uplink'),
    linkKbit: int('link-kbit', 64, 400_000_000),
    ingressShaping: bool('ingress-shaping'),
    probeHost: get('probe-host'),
    probePort: int('probe-port', 0, 65535),
  };
  if (cfg.uplink && !/^[A-Za-z0-9_.:-]{1,15}$/.test(cfg.uplink))
    throw new NetopConfigError('uplink', `"${cfg.uplink}" is not an interface name (1–15 characters)`);
  return cfg;
}
