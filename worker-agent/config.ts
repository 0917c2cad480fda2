/**
 * slicenet-agent's one typed config: a flag or its SLICENET_AGENT_* variable (flag first),
 * else the default; validated at start, each error naming the flag and the variable.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { SlicenetError } from '../lib/errors.ts';

export interface AgentConfig {
  /** This node's name, as the Node object has it. */
  node: string;
  /** Empty: in-cluster or $KUBECONFIG. */
  kubeconfig: string;
  /** Address files and attachment records; must survive agent restarts. */
  stateDir: string;
  /** The unix socket the CNI plugin dials. */
  socket: string;
  /** Where to install the `slicenet` plugin binary at start; empty: leave it. */
  cniBinDir: string;
  /** This node's VXLAN source address; empty: the Node's InternalIP. */
  localIp: string;
  /** Prefix length of the blocks a node leases. */
  blockPrefix: number;
  probeHost: string;
  probePort: number;
}

export class AgentConfigError extends SlicenetError {
  constructor(flag: string, message: string) {
    super('CONFIG_INVALID', `--${flag} (${envName(flag)}) ${message}`);
  }
}

const FLAGS = {
  node: '',
  kubeconfig: '',
  'state-dir': '/var/lib/slicenet/agent',
  socket: '/run/slicenet/agent.sock',
  'cni-bin-dir': '',
  'local-ip': '',
  'block-prefix': '26',
  'probe-host': '0.0.0.0',
  'probe-port': '8084',
} as const;
type Flag = keyof typeof FLAGS;

const envName = (flag: string): string => `SLICENET_AGENT_${flag.toUpperCase().replace(/-/g, '_')}`;

export function loadAgentConfig(argv: string[], env: NodeJS.ProcessEnv): AgentConfig {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
    strict: true,
  });
  const get = (f: Flag): string => values[f] ?? env[envName(f)] ?? FLAGS[f];
  const int = (f: Flag, min: number, max: number): number => {
    const n = Number(get(f));
    if (!Number.isInteger(n) || n < min || n > max)
      throw new AgentConfigError(f, `must be a whole number from ${min} to ${max}`);
    return n;
  };
  const cfg: AgentConfig = {
    node: get('node') || env.NODE_NAME || hostname(),
    kubeconfig: get('kubeconfig'),
    stateDir: get('state-dir'),
    socket: get('socket'),
    cniBinDir: get('cni-bin-dir'),
    localIp: get('local-ip'),
    blockPrefix: int('block-prefix', 16, 30),
    probeHost: get('probe-host'),
    probePort: int('probe-port', 0, 65535),
  };
  if (!cfg.stateDir.startsWith('/')) throw new AgentConfigError('state-dir', 'must be an absolute path');
  if (!cfg.socket.startsWith('/')) throw new AgentConfigError('socket', 'must be an absolute path');
  if (cfg.localIp && !/^\d{1,3}(\.\d{1,3}){3}$/.test(cfg.localIp))
    throw new AgentConfigError('local-ip', `must be an IPv4 address, not "${cfg.localIp}"`);
  return cfg;
}
